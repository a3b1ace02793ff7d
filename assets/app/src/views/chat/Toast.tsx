import { useStore } from '../../chat/store';
import { ui } from './ui';

/** The short notice at the bottom of the screen ("Link copied", "Message not found"). */
export function Toast() {
  const toast = useStore(ui, (s) => s.toast);
  return (
    <div class="toast-host" role="status" aria-live="polite">
      {toast && (
        <p key={toast.id} class="toast">
          {toast.text}
        </p>
      )}
    </div>
  );
}
