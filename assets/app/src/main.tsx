import { render } from 'preact';
import { App } from './app';
import { getLocale, setLocale } from './i18n';
import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/chat.css';
import './styles/calls.css';
import './styles/messages.css';
import './styles/admin.css';

setLocale(getLocale());

const root = document.getElementById('app');
if (root) render(<App />, root);

// Installable app: the service worker caches the app shell (never the API).
// It only works over HTTPS with a certificate the browser trusts.
if (import.meta.env.PROD && 'serviceWorker' in navigator && location.protocol === 'https:') {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => {
      // e.g. the Outpost CA is not trusted yet: the app works without it.
    });
  });
}
