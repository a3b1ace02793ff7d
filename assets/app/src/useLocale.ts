import { useEffect, useState } from 'preact/hooks';
import { getLocale, onLocaleChange, type Locale } from './i18n';

/** The UI language; the component re-renders when it changes. */
export function useLocale(): Locale {
  const [locale, setLocaleState] = useState(getLocale);
  useEffect(() => {
    setLocaleState(getLocale());
    return onLocaleChange(setLocaleState);
  }, []);
  return locale;
}
