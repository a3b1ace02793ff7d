import { useEffect, useRef } from 'preact/hooks';
import { useStore } from '../chat/store';
import { t, type MessageKey } from '../i18n';
import { useCalls } from './context';
import type { DeviceChoice } from './manager';

const KINDS: { kind: keyof DeviceChoice; device: MediaDeviceKind; label: MessageKey }[] = [
  { kind: 'mic', device: 'audioinput', label: 'call.devices.mic' },
  { kind: 'speaker', device: 'audiooutput', label: 'call.devices.speaker' },
  { kind: 'camera', device: 'videoinput', label: 'call.devices.camera' },
];

/** Whether this browser can play audio on a chosen output device. */
export function canPickSpeaker(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

/** Microphone, speaker and camera for calls (a native modal dialog). */
export function DeviceSettings({ onClose }: { onClose: () => void }) {
  const calls = useCalls();
  const devices = useStore(calls.store, (s) => s.devices);
  const choice = useStore(calls.store, (s) => s.choice);
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(typeof document !== 'undefined' ? document.activeElement : null);
  useEffect(() => {
    void calls.refreshDevices();
    const el = ref.current;
    if (el && !el.open) {
      if (typeof el.showModal === 'function') el.showModal();
      else el.setAttribute('open', '');
    }
    return () => {
      const prev = opener.current;
      if (prev instanceof HTMLElement && prev.isConnected) prev.focus();
    };
  }, []);
  const speakers = canPickSpeaker();
  const unnamed = !devices.some((d) => d.label);
  return (
    <dialog
      ref={ref}
      class="modal call-devices"
      aria-labelledby="call-devices-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <div class="modal-box">
        <header class="modal-head">
          <h2 id="call-devices-title" class="modal-title">
            {t('call.devices.title')}
          </h2>
          <button type="button" class="icon-btn" aria-label={t('panel.close')} onClick={onClose}>
            <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M4 4l8 8M12 4l-8 8" class="icon-stroke" />
            </svg>
          </button>
        </header>
        {KINDS.map(({ kind, device, label }) => {
          if (kind === 'speaker' && !speakers) {
            return (
              <p key={kind} class="muted">
                {t('call.devices.noSpeakerChoice')}
              </p>
            );
          }
          const list = devices.filter((d) => d.kind === device && d.deviceId !== 'default' && d.deviceId !== '');
          const id = `call-device-${kind}`;
          return (
            <div class="field" key={kind}>
              <label class="field-label" for={id}>
                {t(label)}
              </label>
              <select
                id={id}
                class="input select"
                value={choice[kind] ?? ''}
                onChange={(e) => void calls.chooseDevice(kind, e.currentTarget.value || null)}
              >
                <option value="">{t('call.devices.default')}</option>
                {list.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || t('call.devices.unnamed', { kind: t(label), n: i + 1 })}
                  </option>
                ))}
              </select>
            </div>
          );
        })}
        {unnamed && <p class="muted">{t('call.devices.hint')}</p>}
      </div>
    </dialog>
  );
}
