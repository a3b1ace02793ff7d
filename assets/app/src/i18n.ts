// All user-visible text of the web app lives in this file.
//
// English is the reference catalog; every other catalog must have exactly the
// same keys (enforced by the type below and by i18n.test.ts). A message is
// either a plain string or a set of plural forms selected with
// Intl.PluralRules by the numeric parameter `n`. Parameters are written
// `{name}` and are replaced verbatim.

export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type Message = string | PluralForms;
export type Params = Record<string, string | number>;

const en = {
  'app.name': 'Outpost',
  'app.loading': 'Loading…',
  'app.skipToContent': 'Skip to main content',

  'common.save': 'Save',
  'common.saving': 'Saving…',
  'common.retry': 'Try again',
  'common.copy': 'Copy',
  'common.copied': 'Copied to the clipboard',
  'common.copyFailed': 'Could not copy. Select the text and copy it manually.',

  'field.username': 'User name',
  'field.username.hint': 'You use it to sign in.',
  'field.displayName': 'Display name',
  'field.displayName.hint': 'How other people see you.',
  'field.password': 'Password',
  'field.newPassword': 'New password',
  'field.repeatPassword': 'Repeat password',
  'field.currentPassword': 'Current password',

  'validation.passwordsDiffer': 'The passwords do not match.',

  'error.network': 'Cannot reach the Outpost server. Check your connection and try again.',
  'error.unexpected': 'Something went wrong (error {status}). Please try again.',
  'error.generic': 'Something went wrong. Please try again.',
  'error.tooManyAttempts': {
    one: 'Too many attempts, try again in {n} second.',
    other: 'Too many attempts, try again in {n} seconds.',
  },
  'error.tooManyAttemptsLater': 'Too many attempts, try again later.',

  'login.title': 'Sign in to Outpost',
  'login.submit': 'Sign in',
  'login.submitting': 'Signing in…',
  'login.wrongCredentials': 'Wrong user name or password.',
  'login.noAccount': 'No account yet? Ask an administrator for an invitation link.',

  'setup.title': 'Set up Outpost',
  'setup.intro': 'Create the first administrator account for this server.',
  'setup.submit': 'Create administrator',
  'setup.submitting': 'Creating…',
  'setup.missingToken':
    'This setup link is incomplete. Open the full link shown by the Outpost server.',
  'setup.invalidToken': 'This setup link is not valid any more. The server may already be set up.',

  'invite.title': 'Join Outpost',
  'invite.intro': 'You have been invited. Choose how you sign in and how others see you.',
  'invite.expires': 'This invitation is valid until {date}.',
  'invite.checking': 'Checking the invitation…',
  'invite.invalid': 'This invitation link is invalid, has already been used or has expired.',
  'invite.invalidHint': 'Ask an administrator for a new link.',
  'invite.submit': 'Create account',
  'invite.submitting': 'Creating account…',
  'invite.goToLogin': 'Go to sign in',

  'shell.navigation': 'Main navigation',
  'shell.openMenu': 'Open menu',
  'shell.closeMenu': 'Close menu',
  'shell.channels': 'Channels',
  'shell.channelsSoon': 'Channels arrive soon.',
  'shell.home': 'Home',
  'shell.profile': 'Profile',
  'shell.admin': 'Admin',
  'shell.signOut': 'Sign out',
  'shell.signingOut': 'Signing out…',
  'shell.signedInAs': 'Signed in as {name}',
  'shell.loadFailed': 'Could not load your account.',

  'home.title': 'Welcome, {name}',
  'home.placeholder': 'Channels arrive soon. This is where your conversations will live.',
  'home.placeholderHint': 'Meanwhile you can update your profile and manage your sessions.',

  'notFound.title': 'Page not found',
  'notFound.text': 'There is nothing at this address.',
  'notFound.back': 'Back to home',

  'profile.title': 'Profile',
  'profile.account': 'Account',
  'profile.usernameIs': 'User name: {username}',
  'profile.displayName.saved': 'Display name saved.',
  'profile.password.title': 'Change password',
  'profile.password.submit': 'Change password',
  'profile.password.saved': 'Password changed.',
  'profile.password.wrongCurrent': 'The current password is wrong.',

  'sessions.title': 'Sessions',
  'sessions.intro': 'Devices and browsers where you are signed in.',
  'sessions.empty': 'No sessions.',
  'sessions.current': 'This device',
  'sessions.unknownAgent': 'Unknown browser',
  'sessions.address': 'Address: {address}',
  'sessions.created': 'Signed in {date}',
  'sessions.lastSeen': 'Last active {date}',
  'sessions.revoke': 'Sign out',
  'sessions.revokeLabel': 'Sign out the session of {agent}',
  'sessions.revoked': 'Session signed out.',

  'admin.title': 'Administration',
  'admin.users.title': 'Users',
  'admin.users.empty': 'No users.',
  'admin.users.username': 'User name',
  'admin.users.displayName': 'Display name',
  'admin.users.role': 'Role',
  'admin.users.status': 'Status',
  'admin.users.created': 'Created',
  'admin.users.actions': 'Actions',
  'admin.users.admin': 'Administrator',
  'admin.users.member': 'Member',
  'admin.users.active': 'Active',
  'admin.users.disabled': 'Disabled',
  'admin.users.you': 'you',
  'admin.users.disable': 'Disable',
  'admin.users.disableLabel': 'Disable {username}',
  'admin.users.confirmDisable':
    'Disable {username}? They will be signed out and can no longer sign in.',
  'admin.users.disabledDone': '{username} is disabled.',
  'admin.users.enable': 'Enable',
  'admin.users.enableLabel': 'Enable {username}',
  'admin.users.enabledDone': '{username} can sign in again.',
  'admin.invite.title': 'Invite people',
  'admin.invite.intro': 'Create a link that lets one person create an account.',
  'admin.invite.validFor': 'Link valid for',
  'admin.invite.hours': {
    one: '{n} hour',
    other: '{n} hours',
  },
  'admin.invite.days': {
    one: '{n} day',
    other: '{n} days',
  },
  'admin.invite.create': 'Create invitation link',
  'admin.invite.creating': 'Creating…',
  'admin.invite.link': 'Invitation link',
  'admin.invite.expires': 'Valid until {date}.',
} satisfies Record<string, Message>;

export type MessageKey = keyof typeof en;
export type Catalog = Record<MessageKey, Message>;

const ru: Catalog = {
  'app.name': 'Outpost',
  'app.loading': 'Загрузка…',
  'app.skipToContent': 'Перейти к основному содержимому',

  'common.save': 'Сохранить',
  'common.saving': 'Сохранение…',
  'common.retry': 'Повторить',
  'common.copy': 'Копировать',
  'common.copied': 'Скопировано в буфер обмена',
  'common.copyFailed': 'Не удалось скопировать. Выделите текст и скопируйте его вручную.',

  'field.username': 'Имя пользователя',
  'field.username.hint': 'Нужно для входа.',
  'field.displayName': 'Отображаемое имя',
  'field.displayName.hint': 'Так вас видят другие.',
  'field.password': 'Пароль',
  'field.newPassword': 'Новый пароль',
  'field.repeatPassword': 'Повторите пароль',
  'field.currentPassword': 'Текущий пароль',

  'validation.passwordsDiffer': 'Пароли не совпадают.',

  'error.network':
    'Нет связи с сервером Outpost. Проверьте подключение и попробуйте ещё раз.',
  'error.unexpected': 'Что-то пошло не так (ошибка {status}). Попробуйте ещё раз.',
  'error.generic': 'Что-то пошло не так. Попробуйте ещё раз.',
  'error.tooManyAttempts': {
    one: 'Слишком много попыток, повторите через {n} секунду.',
    few: 'Слишком много попыток, повторите через {n} секунды.',
    many: 'Слишком много попыток, повторите через {n} секунд.',
    other: 'Слишком много попыток, повторите через {n} секунды.',
  },
  'error.tooManyAttemptsLater': 'Слишком много попыток, повторите позже.',

  'login.title': 'Вход в Outpost',
  'login.submit': 'Войти',
  'login.submitting': 'Вход…',
  'login.wrongCredentials': 'Неверное имя пользователя или пароль.',
  'login.noAccount': 'Ещё нет учётной записи? Попросите у администратора ссылку-приглашение.',

  'setup.title': 'Настройка Outpost',
  'setup.intro': 'Создайте первую учётную запись администратора этого сервера.',
  'setup.submit': 'Создать администратора',
  'setup.submitting': 'Создание…',
  'setup.missingToken':
    'Ссылка для настройки неполная. Откройте полную ссылку, которую показывает сервер Outpost.',
  'setup.invalidToken':
    'Ссылка для настройки больше не действует. Возможно, сервер уже настроен.',

  'invite.title': 'Присоединиться к Outpost',
  'invite.intro': 'Вас пригласили. Выберите имя для входа и имя, которое увидят другие.',
  'invite.expires': 'Приглашение действует до {date}.',
  'invite.checking': 'Проверка приглашения…',
  'invite.invalid': 'Ссылка-приглашение недействительна, уже использована или истекла.',
  'invite.invalidHint': 'Попросите у администратора новую ссылку.',
  'invite.submit': 'Создать учётную запись',
  'invite.submitting': 'Создание учётной записи…',
  'invite.goToLogin': 'Перейти ко входу',

  'shell.navigation': 'Основная навигация',
  'shell.openMenu': 'Открыть меню',
  'shell.closeMenu': 'Закрыть меню',
  'shell.channels': 'Каналы',
  'shell.channelsSoon': 'Каналы скоро появятся.',
  'shell.home': 'Главная',
  'shell.profile': 'Профиль',
  'shell.admin': 'Администрирование',
  'shell.signOut': 'Выйти',
  'shell.signingOut': 'Выход…',
  'shell.signedInAs': 'Вы вошли как {name}',
  'shell.loadFailed': 'Не удалось загрузить вашу учётную запись.',

  'home.title': 'Добро пожаловать, {name}',
  'home.placeholder': 'Каналы скоро появятся. Здесь будут ваши разговоры.',
  'home.placeholderHint': 'А пока вы можете изменить профиль и управлять сеансами.',

  'notFound.title': 'Страница не найдена',
  'notFound.text': 'По этому адресу ничего нет.',
  'notFound.back': 'На главную',

  'profile.title': 'Профиль',
  'profile.account': 'Учётная запись',
  'profile.usernameIs': 'Имя пользователя: {username}',
  'profile.displayName.saved': 'Отображаемое имя сохранено.',
  'profile.password.title': 'Смена пароля',
  'profile.password.submit': 'Сменить пароль',
  'profile.password.saved': 'Пароль изменён.',
  'profile.password.wrongCurrent': 'Текущий пароль неверен.',

  'sessions.title': 'Сеансы',
  'sessions.intro': 'Устройства и браузеры, в которых выполнен вход.',
  'sessions.empty': 'Сеансов нет.',
  'sessions.current': 'Это устройство',
  'sessions.unknownAgent': 'Неизвестный браузер',
  'sessions.address': 'Адрес: {address}',
  'sessions.created': 'Вход выполнен {date}',
  'sessions.lastSeen': 'Последняя активность {date}',
  'sessions.revoke': 'Завершить',
  'sessions.revokeLabel': 'Завершить сеанс {agent}',
  'sessions.revoked': 'Сеанс завершён.',

  'admin.title': 'Администрирование',
  'admin.users.title': 'Пользователи',
  'admin.users.empty': 'Пользователей нет.',
  'admin.users.username': 'Имя пользователя',
  'admin.users.displayName': 'Отображаемое имя',
  'admin.users.role': 'Роль',
  'admin.users.status': 'Состояние',
  'admin.users.created': 'Создан',
  'admin.users.actions': 'Действия',
  'admin.users.admin': 'Администратор',
  'admin.users.member': 'Участник',
  'admin.users.active': 'Активен',
  'admin.users.disabled': 'Отключён',
  'admin.users.you': 'вы',
  'admin.users.disable': 'Отключить',
  'admin.users.disableLabel': 'Отключить {username}',
  'admin.users.confirmDisable':
    'Отключить {username}? Все его сеансы будут завершены, войти снова он не сможет.',
  'admin.users.disabledDone': 'Пользователь {username} отключён.',
  'admin.users.enable': 'Включить',
  'admin.users.enableLabel': 'Включить {username}',
  'admin.users.enabledDone': 'Пользователь {username} снова может входить.',
  'admin.invite.title': 'Пригласить людей',
  'admin.invite.intro': 'Создайте ссылку, по которой один человек сможет создать учётную запись.',
  'admin.invite.validFor': 'Срок действия ссылки',
  'admin.invite.hours': {
    one: '{n} час',
    few: '{n} часа',
    many: '{n} часов',
    other: '{n} часа',
  },
  'admin.invite.days': {
    one: '{n} день',
    few: '{n} дня',
    many: '{n} дней',
    other: '{n} дня',
  },
  'admin.invite.create': 'Создать ссылку-приглашение',
  'admin.invite.creating': 'Создание…',
  'admin.invite.link': 'Ссылка-приглашение',
  'admin.invite.expires': 'Действует до {date}.',
};

export const catalogs = { en, ru } satisfies Record<string, Catalog>;
export type Locale = keyof typeof catalogs;
export const DEFAULT_LOCALE: Locale = 'en';

function isLocale(value: string): value is Locale {
  return Object.prototype.hasOwnProperty.call(catalogs, value);
}

/**
 * Picks the first supported locale from a list of BCP 47 tags, in order of
 * preference (as in `navigator.languages`). `ru-RU` matches `ru`. Falls back
 * to English.
 */
export function pickLocale(languages: readonly string[] | undefined | null): Locale {
  for (const tag of languages ?? []) {
    if (typeof tag !== 'string') continue;
    const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
    if (isLocale(primary)) return primary;
  }
  return DEFAULT_LOCALE;
}

/** Replaces `{name}` placeholders; unknown placeholders are left as they are. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

const pluralRules = new Map<string, Intl.PluralRules>();

function selectPlural(locale: string, forms: PluralForms, n: number): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return forms[rules.select(n)] ?? forms.other;
}

/**
 * Looks `key` up in the catalog of `locale`, falling back to English and
 * finally to the key itself, so a missing translation never breaks the UI.
 */
export function translate(
  tables: Partial<Record<string, Partial<Record<string, Message>>>>,
  locale: string,
  key: string,
  params?: Params,
): string {
  let lang = locale;
  let message = tables[locale]?.[key];
  if (message === undefined) {
    lang = DEFAULT_LOCALE;
    message = tables[DEFAULT_LOCALE]?.[key];
  }
  if (message === undefined) return key;
  const text =
    typeof message === 'string' ? message : selectPlural(lang, message, Number(params?.n ?? 0));
  return interpolate(text, params);
}

function detectLocale(): Locale {
  if (typeof navigator === 'undefined') return DEFAULT_LOCALE;
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  return pickLocale(langs);
}

let currentLocale: Locale = detectLocale();

export function getLocale(): Locale {
  return currentLocale;
}

/** Changes the UI language (re-render to apply). Also sets `<html lang>`. */
export function setLocale(locale: Locale): void {
  currentLocale = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

/** Translates a key in the current locale. */
export function t(key: MessageKey, params?: Params): string {
  return translate(catalogs, currentLocale, key, params);
}

/** Formats an RFC 3339 timestamp for display in the current locale. */
export function formatDateTime(value: string, locale: string = currentLocale): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
