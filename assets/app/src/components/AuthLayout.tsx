import type { ComponentChildren } from 'preact';
import { t } from '../i18n';
import { Logo } from './Logo';
import { PageHeading } from './PageHeading';

interface AuthLayoutProps {
  title: string;
  intro?: string;
  /** Room for more than a form (e.g. a QR code next to its explanation). */
  wide?: boolean;
  children: ComponentChildren;
}

/** Centered card used by the public pages (sign in, setup, invitation). */
export function AuthLayout({ title, intro, wide, children }: AuthLayoutProps) {
  return (
    <main id="main" class="auth-page" tabIndex={-1}>
      <div class={wide ? 'auth-card auth-card-wide' : 'auth-card'}>
        <div class="auth-brand">
          <Logo size={40} />
          <span class="auth-brand-name">{t('app.name')}</span>
        </div>
        <PageHeading title={title} />
        {intro && <p class="auth-intro">{intro}</p>}
        {children}
      </div>
    </main>
  );
}
