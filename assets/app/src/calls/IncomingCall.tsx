import { useChat } from '../chat/client';
import { useStore } from '../chat/store';
import { t } from '../i18n';
import { Avatar, photoOf } from '../views/chat/Avatar';
import { useCalls } from './context';
import { HangUpIcon, PhoneIcon } from './icons';
import { describeCall } from './names';

/** The incoming-call screen: who calls, from where; accept or decline (the manager rings meanwhile). */
export function IncomingCall() {
  const calls = useCalls();
  const client = useChat();
  const call = useStore(calls.store, (s) => s.incoming);
  const people = useStore(client.store, (s) => s.people);
  const channels = useStore(client.store, (s) => s.channels);
  // The focus stays where it is: an Enter meant for the composer must not answer a call.
  if (!call) return null;
  const { caller, place } = describeCall(call, client.me.id, people, channels);
  return (
    <div
      class="call-incoming"
      role="alertdialog"
      aria-labelledby="call-incoming-title"
      aria-describedby="call-incoming-who"
      data-call-id={call.id}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          calls.decline();
        }
      }}
    >
      <div class="call-incoming-pulse">
        <Avatar id={call.started_by} name={caller} size="l" photo={photoOf(people, call.started_by)} />
      </div>
      <div class="call-incoming-text">
        <h2 id="call-incoming-title" class="call-incoming-title">
          {t('call.incoming.title')}
        </h2>
        <p id="call-incoming-who">
          <strong class="call-incoming-caller">{caller}</strong>
          <span class="call-incoming-place">{place}</span>
        </p>
      </div>
      <div class="call-incoming-actions">
        <button type="button" class="btn call-decline-btn" onClick={() => calls.decline()}>
          <HangUpIcon />
          {t('call.decline')}
        </button>
        <button type="button" class="btn call-accept-btn" onClick={() => void calls.accept()}>
          <PhoneIcon />
          {t('call.accept')}
        </button>
      </div>
    </div>
  );
}
