import { t } from '../i18n';

/**
 * The small tag after the name of a sender who is not a person: a bot account, or another
 * system posting through a webhook. Its title explains it.
 */
export function BotTag({ kind }: { kind: 'bot' | 'webhook' }) {
  return (
    <span class={`bot-tag bot-tag-${kind}`} title={kind === 'bot' ? t('badge.botTitle') : t('badge.webhookTitle')}>
      {kind === 'bot' ? t('badge.bot') : t('badge.webhook')}
    </span>
  );
}
