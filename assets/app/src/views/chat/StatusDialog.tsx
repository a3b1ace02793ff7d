import { useId, useState } from 'preact/hooks';
import { api, type ClearAfter } from '../../api';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { redirectIfSignedOut, useSession } from '../../session';
import {
  activeStatus,
  CLEAR_AFTER,
  CLEAR_AFTER_LABELS,
  DEFAULT_CLEAR_AFTER,
  STATUS_PRESETS,
  statusBody,
  statusProblem,
} from '../../status';
import { EmojiPicker } from './EmojiPicker';
import { Modal } from './Modal';

/**
 * "Set a status": an emoji (from the emoji picker), a short text, when it clears, a few
 * ready-made ones, and "Clear status". Everyone connected sees the change at once.
 */
export function StatusDialog({ onClose }: { onClose: () => void }) {
  const { user, setUser } = useSession();
  const current = activeStatus(user.status);
  const [emoji, setEmoji] = useState(current?.emoji ?? '');
  const [text, setText] = useState(current?.text ?? '');
  const [clearAfter, setClearAfter] = useState<ClearAfter>(
    current && current.expires_at === null ? 'never' : DEFAULT_CLEAR_AFTER,
  );
  const [picker, setPicker] = useState(false);
  const [busy, setBusy] = useState<'save' | 'clear' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const id = useId();

  async function run(kind: 'save' | 'clear') {
    if (busy) return;
    setError(null);
    const empty = emoji.trim() === '' && text.trim() === '';
    if (kind === 'save' && !empty) {
      const found = statusProblem(text);
      if (found) {
        setProblem(t(found));
        return;
      }
    }
    setBusy(kind);
    try {
      const updated =
        kind === 'clear' || empty ? await api.clearStatus() : await api.setStatus(statusBody(emoji, text, clearAfter));
      setUser(updated);
      onClose();
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setError(describeError(err));
      setBusy(null);
    }
  }

  return (
    <Modal title={t('status.title')} onClose={onClose}>
      <form
        class="form status-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run('save');
        }}
      >
        {error && <Alert>{error}</Alert>}
        <div class="field">
          <label class="field-label" for={`${id}-text`}>
            {t('status.text')}
          </label>
          <div class="status-input-row">
            <button
              type="button"
              class="status-emoji-btn"
              aria-label={emoji ? `${t('status.chooseEmoji')}: ${emoji}` : t('status.chooseEmoji')}
              title={t('status.chooseEmoji')}
              aria-expanded={picker}
              // The picker closes on a press outside it: this button toggles it instead.
              onMouseDown={(e) => e.stopPropagation()}
              onClick={() => setPicker(!picker)}
            >
              {emoji || (
                <svg width="20" height="20" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
                  <circle cx="8" cy="8" r="6" class="icon-stroke" />
                  <path d="M5.5 9.5c1.2 1.6 3.8 1.6 5 0" class="icon-stroke" />
                  <circle cx="6" cy="6.5" r="0.8" class="icon-fill" />
                  <circle cx="10" cy="6.5" r="0.8" class="icon-fill" />
                </svg>
              )}
            </button>
            <input
              id={`${id}-text`}
              class="input"
              value={text}
              aria-describedby={`${id}-hint${problem ? ` ${id}-problem` : ''}`}
              aria-invalid={problem ? true : undefined}
              onInput={(e) => {
                setText(e.currentTarget.value);
                setProblem(null);
              }}
            />
          </div>
          <p id={`${id}-hint`} class="field-hint">
            {t('status.textHint')}
          </p>
          {problem && (
            <p id={`${id}-problem`} class="field-error">
              {problem}
            </p>
          )}
          {emoji && (
            <button type="button" class="link-button" onClick={() => setEmoji('')}>
              {t('status.noEmoji')}
            </button>
          )}
          {picker && (
            <div class="status-picker">
              <EmojiPicker
                align="left"
                onPick={(e) => {
                  setEmoji(e);
                  setPicker(false);
                }}
                onClose={() => setPicker(false)}
              />
            </div>
          )}
        </div>

        <fieldset class="choices status-presets">
          <legend class="field-label">{t('status.presets')}</legend>
          <ul class="preset-list">
            {STATUS_PRESETS.map((p) => (
              <li key={p.text}>
                <button
                  type="button"
                  class="preset"
                  onClick={() => {
                    setEmoji(p.emoji);
                    setText(t(p.text));
                    setClearAfter(p.clearAfter);
                    setProblem(null);
                  }}
                >
                  <span class="preset-emoji" aria-hidden="true">
                    {p.emoji}
                  </span>
                  <span class="preset-text">{t(p.text)}</span>
                  <span class="muted preset-clear">{t(CLEAR_AFTER_LABELS[p.clearAfter])}</span>
                </button>
              </li>
            ))}
          </ul>
        </fieldset>

        <div class="field">
          <label class="field-label" for={`${id}-clear`}>
            {t('status.clearAfter')}
          </label>
          <select
            id={`${id}-clear`}
            class="input select"
            value={clearAfter}
            onChange={(e) => setClearAfter(e.currentTarget.value as ClearAfter)}
          >
            {CLEAR_AFTER.map((c) => (
              <option key={c} value={c}>
                {t(CLEAR_AFTER_LABELS[c])}
              </option>
            ))}
          </select>
        </div>

        <div class="button-row">
          <Button type="submit" busy={busy === 'save'} disabled={busy !== null}>
            {t('common.save')}
          </Button>
          {current && (
            <Button variant="secondary" busy={busy === 'clear'} disabled={busy !== null} onClick={() => void run('clear')}>
              {t('status.clearNow')}
            </Button>
          )}
          <Button variant="ghost" onClick={onClose}>
            {t('common.cancel')}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
