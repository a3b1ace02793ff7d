// Names in the call UI: people and conversations, from the chat client's state.

import type { Call, Channel, Person } from '../api';
import { channelTitle, isDirect } from '../chat/logic';
import { t } from '../i18n';

export function personLabel(people: ReadonlyMap<number, Person>, id: number): string {
  const p = people.get(id);
  return p ? p.display_name || p.username : `#${id}`;
}

/** "Direct call", "Group call: bob, carol" or "Call in #general". */
export function placeLabel(channel: Channel | undefined, me: number, people: ReadonlyMap<number, Person>): string {
  if (!channel) return '';
  const title = channelTitle(channel, me, people);
  if (channel.kind === 'dm') return t('call.incoming.direct');
  if (isDirect(channel)) return t('call.incoming.group', { name: title });
  return t('call.incoming.channel', { name: title });
}

/** The conversation's name as the sidebar shows it (`#general`, `bob`). */
export function conversationName(channel: Channel | undefined, me: number, people: ReadonlyMap<number, Person>): string {
  if (!channel) return '';
  const title = channelTitle(channel, me, people);
  return isDirect(channel) ? title : `#${title}`;
}

export function describeCall(
  call: Call,
  me: number,
  people: ReadonlyMap<number, Person>,
  channels: ReadonlyMap<number, Channel>,
): { caller: string; place: string } {
  return { caller: personLabel(people, call.started_by), place: placeLabel(channels.get(call.channel_id), me, people) };
}
