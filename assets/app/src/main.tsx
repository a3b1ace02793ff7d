import { render } from 'preact';
import { App } from './app';
import { getLocale, setLocale } from './i18n';
import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/chat.css';

setLocale(getLocale());

const root = document.getElementById('app');
if (root) render(<App />, root);
