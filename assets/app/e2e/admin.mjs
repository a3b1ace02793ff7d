// End-to-end scenarios of administration without a terminal, of the first run, and of the phone
// layout (the conversation header's "More" menu, admin tables as cards, no keyboard hints), run
// by run.mjs (`E2E_ONLY=admin:`, `E2E_ONLY='first run'` or `E2E_ONLY=phone:`). Each scenario
// starts a server of its own, so it depends on no other scenario.

/** English words of the administration page that must not show in Russian. */
const ENGLISH_LABELS = [
  'Administration',
  'Users',
  'Channels',
  'Settings',
  'Audit log',
  'Search users',
  'Reset password',
  'Make admin',
  'Remove admin',
  'Sign out everywhere',
  'Edit profile',
  'Disable',
  'Enable',
  'Last sign-in',
  'Never',
  'Invite people',
  'Members',
  'Owners',
  'Last activity',
  'Retention',
  'Archive',
  'Site default',
  'Time',
  'Event',
  'Address',
  'admin disabled',
  'signed in',
  'created the',
];

/** Whether every image matching the selector has loaded. */
const imagesLoaded = (page, selector) =>
  page.locator(selector).evaluateAll((imgs) => imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0));

export async function adminScenarios(h) {
  const { scenario, wants, assert, eventually, startServer, stopServer, addUser, tempDir, newUserPage, signIn, api, shot } = h;
  const names = [
    'admin: reset link works once',
    'admin: users and channels without a terminal',
    'admin: Russian, phone-sized',
    'first run: setup link, #general and the invite step',
    'phone: the header menu, admin cards, no keyboard hints (390×844, touch), a call at 320px',
  ];
  if (!names.some(wants)) return;

  /** A server of the scenario's own with the given users (`name-pass-12345`; the first is an administrator). */
  async function withServer(label, users, fn) {
    const dir = tempDir(label);
    users.forEach((name, i) => addUser(dir, name, `${name}-pass-12345`, i === 0));
    const s = await startServer(dir);
    const pages = [];
    const page = async (options) => {
      const p = await newUserPage(options);
      pages.push(p);
      return p;
    };
    try {
      await fn(s, page);
    } finally {
      for (const p of pages) await p.context().close().catch(() => {});
      await stopServer(s);
    }
  }

  const userId = async (page, username) => (await api(page, 'GET', '/users')).body.find((u) => u.username === username).id;
  const usersCard = (page) => page.locator('section[aria-labelledby=admin-users]');

  await scenario('admin: reset link works once', async () => {
    await withServer('admin-reset', ['admin', 'boris'], async (s, page) => {
      const admin = await page();
      await signIn(admin, s.base, 'admin', 'admin-pass-12345');
      await admin.goto(`${s.base}/admin`);
      const row = usersCard(admin).locator('tr[data-username="boris"]');
      await row.getByRole('button', { name: 'Reset the password of boris' }).click();
      const dialog = admin.getByRole('dialog');
      await dialog.getByRole('heading', { name: 'Password reset link for boris' }).waitFor();
      const link = await dialog.getByLabel('Reset link').inputValue();
      assert(new RegExp(`^${s.base.replace(/[.]/g, '\\.')}/reset/[A-Za-z0-9_-]{20,}$`).test(link), `a reset link on this server: ${link}`);
      await dialog.getByText(/works once/).waitFor();
      await dialog.getByText(/hand it over in person/).waitFor();
      await eventually(() => imagesLoaded(admin, 'dialog img.qr-image'), 'the QR code is drawn');
      assert(!(await dialog.textContent()).includes('boris-pass-12345'), 'no password shown');
      await shot(admin, 'reset-link');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });

      // Boris opens it on his own device (not signed in), chooses a password, signs in with it.
      const boris = await page();
      await boris.goto(link);
      await boris.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await boris.getByText('For boris (@boris).', { exact: false }).waitFor();
      await boris.getByLabel('New password').fill('short');
      await boris.getByLabel('Repeat password').fill('short');
      await boris.getByRole('button', { name: 'Set the new password' }).click();
      await boris.getByText('A password is 8 to 1024 characters long.').waitFor();
      await boris.getByLabel('New password').fill('boris-new-pass-678');
      await boris.getByLabel('Repeat password').fill('boris-new-pass-678');
      await boris.getByRole('button', { name: 'Set the new password' }).click();
      await boris.getByText('Your password is changed. Sign in with the new password.').waitFor();
      await boris.getByRole('link', { name: 'Sign in' }).click();
      await boris.waitForURL(`${s.base}/login`);
      const old = await api(boris, 'POST', '/auth/login', { username: 'boris', password: 'boris-pass-12345' });
      assert(old.status === 401, `the old password no longer works: ${old.status}`);
      await signIn(boris, s.base, 'boris', 'boris-new-pass-678');
      assert((await api(boris, 'GET', '/me')).body.username === 'boris', 'signed in with the new password');

      // The link worked once.
      const again = await page();
      await again.goto(link);
      await again.getByText('This link was already used or has expired.').waitFor();
      assert((await again.locator('input[type=password]').count()) === 0, 'no form on a used link');
      await again.getByRole('link', { name: 'Go to sign in' }).waitFor();
    });
  });

  await scenario('admin: users and channels without a terminal', async () => {
    await withServer('admin-manage', ['admin', 'boris', 'carol'], async (s, page) => {
      const admin = await page();
      await signIn(admin, s.base, 'admin', 'admin-pass-12345');
      const boris = await page();
      await signIn(boris, s.base, 'boris', 'boris-pass-12345');
      const carol = await page();
      await signIn(carol, s.base, 'carol', 'carol-pass-12345');
      const borisId = await userId(admin, 'boris');
      const carolId = await userId(admin, 'carol');

      await admin.goto(`${s.base}/admin`);
      const card = usersCard(admin);
      await card.locator('tr[data-username="carol"]').waitFor();
      // Everyone has signed in just now.
      await card.locator('tr[data-username="boris"]').getByText('just now').waitFor();
      await card.locator('tr[data-username="admin"] .badge-admin').waitFor();
      await shot(admin, 'admin-users');

      // Search.
      await card.getByLabel('Search users').fill('BOR');
      await eventually(async () => (await card.locator('tbody tr').count()) === 1, 'one match');
      assert((await card.locator('tbody tr').getAttribute('data-username')) === 'boris', 'boris matches');
      await card.getByLabel('Search users').fill('');
      await eventually(async () => (await card.locator('tbody tr').count()) === 3, 'all again');

      // The administrator role, given and taken.
      const row = card.locator('tr[data-username="boris"]');
      await row.getByRole('button', { name: 'Make boris an administrator' }).click();
      await card.getByText('boris is now an administrator.').waitFor();
      await row.locator('.badge-admin').waitFor();
      assert((await api(admin, 'GET', '/users')).body.find((u) => u.id === borisId).is_admin, 'boris is an administrator');
      await row.getByRole('button', { name: 'Remove administrator rights from boris' }).click();
      await card.getByText('boris is no longer an administrator.').waitFor();
      assert(!(await api(admin, 'GET', '/users')).body.find((u) => u.id === borisId).is_admin, 'and no more');

      // Signed out everywhere: his open page goes back to the sign-in screen.
      await row.getByRole('button', { name: 'Sign boris out everywhere' }).click();
      await card.getByText('boris was signed out everywhere.').waitFor();
      await boris.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor({ timeout: 20_000 });
      assert(new URL(boris.url()).pathname === '/login', 'boris is on the sign-in page');

      // A private channel the administrator is not in: carol made it.
      const made = await api(carol, 'POST', '/channels', { name: 'night-shift', topic: 'Who is on duty', private: true });
      assert(made.status === 200 || made.status === 201, `carol makes a private channel: ${made.status}`);
      const channelId = made.body.id;
      await admin.locator('.admin-tabs').getByRole('link', { name: 'Channels' }).click();
      const channels = admin.locator('section[aria-labelledby=admin-channels]');
      const ch = channels.locator('tr[data-channel="night-shift"]');
      await ch.waitFor();
      await ch.locator('svg.lock-icon').waitFor();
      await ch.getByText('Who is on duty').waitFor();
      assert((await ch.locator('td').nth(1).textContent()).includes('carol'), 'carol owns it');

      // Archive and unarchive.
      await ch.getByRole('button', { name: 'Archive night-shift' }).click();
      await channels.getByText('#night-shift is archived.').waitFor();
      await ch.locator('.badge', { hasText: 'Archived' }).waitFor();
      assert((await api(admin, 'GET', '/admin/channels')).body.find((c) => c.id === channelId).archived, 'archived');
      await ch.getByRole('button', { name: 'Unarchive night-shift' }).click();
      await channels.getByText('#night-shift is back from the archive.').waitFor();
      assert(!(await api(admin, 'GET', '/admin/channels')).body.find((c) => c.id === channelId).archived, 'unarchived');

      // A new owner: boris joins and takes over from carol.
      await ch.getByRole('button', { name: 'Members of #night-shift' }).click();
      const dialog = admin.getByRole('dialog');
      await dialog.locator('li[data-user-id]').first().waitFor();
      await dialog.getByLabel('Add a member').fill('bor');
      await dialog.getByRole('button', { name: /^Add boris @boris$/ }).click();
      await dialog.getByText('boris was added.').waitFor();
      await dialog.getByRole('button', { name: 'Make boris an owner' }).click();
      await dialog.getByText('boris is now an owner.').waitFor();
      await dialog.getByRole('button', { name: 'Remove carol from the owners' }).click();
      await dialog.getByText('carol is no longer an owner.').waitFor();
      const after = (await api(admin, 'GET', '/admin/channels')).body.find((c) => c.id === channelId);
      assert(JSON.stringify(after.owner_ids) === JSON.stringify([borisId]) && after.members === 2, `owners: ${JSON.stringify(after)}`);
      const members = (await api(admin, 'GET', `/channels/${channelId}/members`)).body.sort();
      assert(JSON.stringify(members) === JSON.stringify([borisId, carolId].sort()), `members: ${members}`);
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });
      await eventually(async () => (await ch.locator('td').nth(1).textContent()).trim() === 'boris', 'boris is the owner in the list');
      await shot(admin, 'admin-channels-list');
    });
  });

  await scenario('admin: Russian, phone-sized', async () => {
    await withServer('admin-ru', ['admin', 'boris'], async (s, page) => {
      const ru = await page({ locale: 'ru-RU', viewport: { width: 390, height: 844 } });
      await ru.goto(`${s.base}/login`);
      await ru.getByLabel('Имя пользователя').fill('admin');
      await ru.getByLabel('Пароль', { exact: true }).fill('admin-pass-12345');
      await ru.getByRole('button', { name: 'Войти' }).click();
      await ru.locator('.ch-list, .empty-state').first().waitFor({ state: 'attached' });
      // Something for the audit log.
      const borisId = await userId(ru, 'boris');
      await api(ru, 'POST', `/users/${borisId}/disable`);
      await api(ru, 'POST', `/users/${borisId}/enable`);
      await api(ru, 'POST', `/users/${borisId}/password-reset`);
      await api(ru, 'POST', '/channels', { name: 'ops', private: true });

      const englishIn = async () => {
        const text = await ru.locator('main').innerText();
        return ENGLISH_LABELS.filter((w) => new RegExp(`(^|[^A-Za-z])${w}([^A-Za-z]|$)`).test(text));
      };
      const isCards = (selector) =>
        ru.locator(selector).evaluate((table) => {
          const row = table.querySelector('tbody tr');
          const head = table.querySelector('thead');
          return getComputedStyle(row).display === 'grid' && head.getBoundingClientRect().height <= 1;
        });
      const fits = () => ru.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1 && [...document.querySelectorAll('.card')].every((c) => c.scrollWidth <= c.clientWidth + 1));

      await ru.goto(`${s.base}/admin`);
      await ru.getByRole('heading', { name: 'Администрирование' }).waitFor();
      const users = ru.locator('section[aria-labelledby=admin-users]');
      await users.locator('tr[data-username="boris"]').waitFor();
      await users.getByRole('button', { name: 'Сбросить пароль пользователя boris' }).waitFor();
      await users.locator('tr[data-username="boris"]').getByText('Никогда').waitFor();
      assert(await isCards('table.admin-users'), 'the users are cards');
      assert(await fits(), 'nothing sticks out');
      let english = await englishIn();
      assert(english.length === 0, `English on the users page: ${english.join(', ')}`);
      await shot(ru, 'admin-phone-ru-users');

      await ru.locator('.admin-tabs').getByRole('link', { name: 'Каналы' }).click();
      await ru.locator('tr[data-channel="ops"]').waitFor();
      assert(await isCards('table.admin-channel-table'), 'the channels are cards');
      assert(await fits(), 'the channels fit');
      english = await englishIn();
      assert(english.length === 0, `English on the channels page: ${english.join(', ')}`);
      await shot(ru, 'admin-phone-ru-channels');

      await ru.locator('.admin-tabs').getByRole('link', { name: 'Журнал аудита' }).click();
      const sentences = ru.locator('.audit-sentence');
      await sentences.first().waitFor();
      const texts = await sentences.allTextContents();
      for (const want of [
        'admin: учётная запись boris отключена',
        'admin: учётная запись boris включена',
        'admin: создана ссылка для сброса пароля пользователя boris',
        'admin: создан канал #ops',
        'admin: вход в систему',
      ]) {
        assert(texts.includes(want), `audit sentence “${want}” in ${JSON.stringify(texts)}`);
      }
      assert((await ru.locator('.audit-code', { hasText: 'user-disabled' }).count()) === 1, 'the code in small print');
      assert(await isCards('table.admin-audit'), 'the audit log is cards');
      assert(await fits(), 'the audit log fits');
      english = await englishIn();
      assert(english.length === 0, `English on the audit page: ${english.join(', ')}`);
      await shot(ru, 'admin-phone-ru');

      await ru.locator('.admin-tabs').getByRole('link', { name: 'Настройки' }).click();
      await ru.getByRole('heading', { name: 'Хранение сообщений' }).waitFor();
      english = await englishIn();
      assert(english.length === 0, `English on the settings page: ${english.join(', ')}`);
    });
  });

  await scenario('phone: the header menu, admin cards, no keyboard hints (390×844, touch), a call at 320px', async () => {
    await withServer('phone', ['admin', 'boris', 'carol'], async (s, page) => {
      const phone = await page({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await signIn(phone, s.base, 'admin', 'admin-pass-12345');
      assert(await phone.evaluate(() => matchMedia('(hover: none) and (pointer: coarse)').matches), 'the browser is a touch screen');
      // A 12-character name, and enough messages to scroll away from the latest.
      const created = await api(phone, 'POST', '/channels', { name: 'field-office' });
      assert(created.status === 201 || created.status === 200, `channel made: ${created.status}`);
      const id = created.body.id;
      for (let i = 1; i <= 40; i++) await api(phone, 'POST', `/channels/${id}/messages`, { body: `Radio check ${i}: all stations report in, one after another, in the order of the list.` });
      await phone.goto(`${s.base}/c/${id}`);
      await phone.locator('.channel .messages:not(.messages-loading)').waitFor();
      await phone.locator('.channel .msg', { hasText: 'Radio check 40:' }).waitFor();

      // The name is whole: no ellipsis, and at least 40% of the header.
      const head = phone.locator('.channel-head');
      const name = phone.locator('.channel-title span:last-child');
      assert((await name.textContent()) === 'field-office', 'the channel name');
      const title = await name.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      assert(title.scroll <= title.client, `the name is not cut: ${JSON.stringify(title)}`);
      const headBox = await head.boundingBox();
      const rowBox = await phone.locator('.channel-title-row').boundingBox();
      assert(rowBox.width >= headBox.width * 0.4 - 1, `the name keeps 40% of the header: ${rowBox.width} of ${headBox.width}`);
      assert(headBox.height < 70, `the header stays one line: ${headBox.height}px`);

      // Its buttons are in the "More" menu.
      for (const label of ['Details', 'Pinned', 'Leave']) {
        assert((await head.getByRole('button', { name: label, exact: true }).count()) === 0, `no ${label} button in the header`);
      }
      const more = head.getByRole('button', { name: 'More', exact: true });
      assert((await more.getAttribute('aria-haspopup')) === 'menu' && (await more.getAttribute('aria-expanded')) === 'false', 'a closed menu button');
      await more.tap();
      const menu = phone.getByRole('menu', { name: 'Actions for field-office' });
      await menu.waitFor();
      assert((await more.getAttribute('aria-expanded')) === 'true', 'expanded');
      const items = await menu.getByRole('menuitem').allTextContents();
      assert(JSON.stringify(items) === JSON.stringify(['Call', 'Details', 'Pinned', 'Leave']), `the menu: ${items}`);
      assert(await menu.getByRole('menuitem', { name: 'Call' }).evaluate((el) => el === document.activeElement), 'the first item has the focus');
      const menuBox = await menu.boundingBox();
      assert(menuBox.x >= 0 && menuBox.x + menuBox.width <= 390, `the menu is on the screen: ${JSON.stringify(menuBox)}`);
      await shot(phone, 'phone-header');
      await phone.keyboard.press('ArrowDown');
      assert(await menu.getByRole('menuitem', { name: 'Details' }).evaluate((el) => el === document.activeElement), 'ArrowDown moves on');
      await phone.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
      assert(await more.evaluate((el) => el === document.activeElement), 'Escape gives the focus back to the button');
      await more.tap();
      await menu.getByRole('menuitem', { name: 'Pinned' }).tap();
      await phone.locator('.side-panel[data-panel=pins]').waitFor();
      assert((await menu.count()) === 0, 'the menu closed');
      await phone.locator('.side-panel').getByRole('button', { name: 'Close' }).first().tap();
      await phone.locator('.side-panel').waitFor({ state: 'detached' });
      await more.tap();
      await menu.getByRole('menuitem', { name: 'Details' }).tap();
      await phone.getByRole('dialog').waitFor();
      await phone.keyboard.press('Escape');
      await phone.getByRole('dialog').waitFor({ state: 'detached' });

      // No keyboard hints: under the composer, in the drawer, in the quick switcher, in the editor.
      const hintsShown = () =>
        phone.evaluate(() => {
          const visible = (el) => el.checkVisibility();
          const hints = [...document.querySelectorAll('.kbd-hint, kbd, .composer-hint')].filter(visible).map((el) => el.textContent);
          const titles = [...document.querySelectorAll('[title]')].map((el) => el.getAttribute('title')).filter((t) => /Alt\+|Ctrl|Shift\+|Enter to|Escape to/.test(t));
          const text = /Shift\+Enter|Ctrl K|Escape to|Enter to/.test(document.body.innerText) ? [document.body.innerText.match(/.*(Shift\+Enter|Ctrl K|Escape to|Enter to).*/)[0]] : [];
          return [...hints, ...titles, ...text];
        });
      let hints = await hintsShown();
      assert(hints.length === 0, `keyboard hints on a touch screen: ${hints.join(' | ')}`);
      await phone.getByRole('button', { name: 'Open menu' }).tap();
      const jump = phone.locator('#sidebar').getByRole('button', { name: 'Jump to…' });
      await jump.waitFor({ state: 'visible' });
      hints = await hintsShown();
      assert(hints.length === 0, `keyboard hints in the drawer: ${hints.join(' | ')}`);
      await jump.tap();
      await phone.getByRole('combobox', { name: 'Channel or person' }).waitFor();
      hints = await hintsShown();
      assert(hints.length === 0, `keyboard hints in the quick switcher: ${hints.join(' | ')}`);
      await phone.keyboard.press('Escape');
      await phone.getByRole('combobox', { name: 'Channel or person' }).waitFor({ state: 'detached' });
      await phone.goto(`${s.base}/c/${id}`);
      await phone.locator('.channel .msg', { hasText: 'Radio check 40:' }).waitFor();
      await phone.locator('.channel .composer-input').tap();
      await phone.locator('.channel .composer-input').press('ArrowUp');
      const editor = phone.locator('.channel .edit-actions');
      await editor.waitFor();
      hints = await hintsShown();
      assert(hints.length === 0, `keyboard hints in the message editor: ${hints.join(' | ')}`);
      await editor.getByRole('button', { name: 'Cancel', exact: true }).tap();
      await editor.waitFor({ state: 'detached' });

      // "Jump to the latest messages" sits under the list: no message text behind it.
      const list = phone.locator('.channel .messages');
      await list.evaluate((el) => (el.scrollTop = 0));
      const pill = phone.getByRole('button', { name: 'Jump to the latest messages' });
      await pill.waitFor();
      const pillBox = await pill.boundingBox();
      const listBox = await list.boundingBox();
      assert(pillBox.y >= listBox.y + listBox.height - 1, `the pill is below the list: pill ${JSON.stringify(pillBox)}, list ${JSON.stringify(listBox)}`);
      await shot(phone, 'phone-jump-latest');
      await pill.tap();
      await pill.waitFor({ state: 'detached' });

      // The administration's tables are cards with labels.
      await phone.goto(`${s.base}/admin`);
      const users = phone.locator('table.admin-users');
      await users.locator('tr[data-username="boris"]').waitFor();
      const cards = (table) =>
        phone.locator(table).evaluate((t) => {
          const rows = [...t.querySelectorAll('tbody tr')];
          const head = t.querySelector('thead').getBoundingClientRect().height;
          const labels = [...t.querySelectorAll('tbody td[data-label]')].map((td) => getComputedStyle(td, '::before').content);
          return { grid: rows.every((r) => getComputedStyle(r).display === 'grid'), head, labels, wide: t.scrollWidth > t.clientWidth + 1 };
        });
      let c = await cards('table.admin-users');
      assert(c.grid && c.head <= 1 && !c.wide, `users as cards: ${JSON.stringify(c)}`);
      assert(c.labels.some((l) => l.includes('Last sign-in')) && c.labels.some((l) => l.includes('Status')), `users' labels: ${c.labels}`);
      assert(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'nothing sticks out');
      await users.locator('tr[data-username="boris"]').scrollIntoViewIfNeeded();
      await shot(phone, 'phone-admin-cards');
      hints = await hintsShown();
      assert(hints.length === 0, `keyboard hints on the admin page: ${hints.join(' | ')}`);
      await phone.locator('.admin-tabs').getByRole('link', { name: 'Channels' }).tap();
      await phone.locator('tr[data-channel="field-office"]').waitFor();
      c = await cards('table.admin-channel-table');
      assert(c.grid && c.head <= 1 && !c.wide && c.labels.some((l) => l.includes('Members')), `channels as cards: ${JSON.stringify(c)}`);
      await phone.locator('.admin-tabs').getByRole('link', { name: 'Audit log' }).tap();
      await phone.locator('.audit-sentence').first().waitFor();
      c = await cards('table.admin-audit');
      assert(c.grid && c.head <= 1 && !c.wide && c.labels.some((l) => l.includes('Time')) && c.labels.some((l) => l.includes('Event')), `audit as cards: ${JSON.stringify(c)}`);

      // At desktop width with a mouse: the buttons themselves, and the hints.
      const desk = await page();
      await signIn(desk, s.base, 'admin', 'admin-pass-12345');
      await desk.goto(`${s.base}/c/${id}`);
      await desk.locator('.channel .messages:not(.messages-loading)').waitFor();
      const deskHead = desk.locator('.channel-head');
      assert(await deskHead.getByRole('button', { name: 'Start a call in field-office' }).isVisible(), 'Call in the desktop header');
      for (const label of ['Details', 'Pinned', 'Leave']) {
        assert(await deskHead.getByRole('button', { name: label, exact: true }).isVisible(), `${label} in the desktop header`);
      }
      assert((await deskHead.getByRole('button', { name: 'More', exact: true }).count()) === 0, 'no menu on the desktop');
      assert(await desk.locator('.composer-hint.kbd-hint').isVisible(), 'the composer hint on the desktop');
      assert(await desk.locator('#sidebar kbd').isVisible(), 'Ctrl K on the desktop');

      // A call on, on a 320px phone: joining is an icon and the count (its words are the button's
      // name), and "More" stays on the screen, before joining and in the call.
      const boris = await page();
      const carol = await page();
      for (const [p, name] of [[boris, 'boris'], [carol, 'carol']]) {
        await signIn(p, s.base, name, `${name}-pass-12345`);
        assert((await api(p, 'POST', `/channels/${id}/join`)).status < 300, `${name} joined the channel`);
        await p.goto(`${s.base}/c/${id}`);
      }
      const small = await page({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
      await signIn(small, s.base, 'admin', 'admin-pass-12345');
      await small.goto(`${s.base}/c/${id}`);
      await small.locator('.channel .messages:not(.messages-loading)').waitFor();
      await boris.getByRole('button', { name: 'Start a call in field-office' }).click();
      // Carol answers first: were every member rung to decline, the call would end.
      const carolRing = carol.locator('.call-incoming');
      await carolRing.waitFor({ timeout: 20_000 });
      await carolRing.getByRole('button', { name: 'Accept' }).click();
      await carol.getByTestId('call-here').waitFor();
      // The ring covers the header on so small a screen.
      const ring = small.locator('.call-incoming');
      await ring.waitFor({ timeout: 20_000 });
      await ring.getByRole('button', { name: 'Decline' }).tap();
      await ring.waitFor({ state: 'detached' });
      const smallHead = small.locator('.channel-head');
      const join = smallHead.locator('.call-join-btn');
      await eventually(async () => (await join.getAttribute('aria-label')) === 'Join the call (2 people in it)', 'the join button named with the call’s two people');
      assert((await join.textContent()).trim() === '2', `joining shows the count, not the words: ${await join.textContent()}`);
      const moreOnScreen = async (when) => {
        const moreBox = await smallHead.getByRole('button', { name: 'More', exact: true }).boundingBox();
        assert(moreBox && moreBox.x >= 0 && moreBox.x + moreBox.width <= 320, `"More" on the screen ${when}: ${JSON.stringify(moreBox)}`);
        const box = await smallHead.boundingBox();
        assert(box.height < 70, `the header stays one line ${when}: ${box.height}px`);
        assert(await smallHead.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), `nothing sticks out of the header ${when}`);
      };
      await moreOnScreen('with a call on');
      await shot(small, 'phone-320-call');
      await join.tap();
      const here = smallHead.getByTestId('call-here');
      await here.waitFor();
      assert((await here.textContent()).trim() === 'In call', 'in the call, said to screen readers');
      await moreOnScreen('in the call');
      await smallHead.getByRole('button', { name: 'More', exact: true }).tap();
      await small.getByRole('menu', { name: 'Actions for field-office' }).waitFor();
      await small.keyboard.press('Escape');
      await small.getByRole('button', { name: 'Leave the call' }).first().tap();
      await here.waitFor({ state: 'detached' });
    });
  });

  await scenario('first run: setup link, #general and the invite step', async () => {
    const dir = tempDir('first-run');
    const s = await startServer(dir);
    const pages = [];
    try {
      await eventually(() => s.setupToken, 'setup token printed');
      const setupUrl = `${s.base}/setup?token=${s.setupToken}`;
      const page = await newUserPage();
      pages.push(page);
      await page.goto(setupUrl);
      await page.getByRole('heading', { name: 'Set up Outpost' }).waitFor();
      await page.getByLabel('User name').fill('chief');
      await page.getByLabel('Display name').fill('Chief Admin');
      await page.getByLabel('Password', { exact: true }).fill('first-admin-pass-1');
      await page.getByLabel('Repeat password').fill('first-admin-pass-1');
      await page.getByRole('button', { name: 'Create administrator' }).click();

      // Invite your people: the link to copy with its QR code, and the address for phones.
      await page.getByRole('heading', { name: 'Invite your people' }).waitFor();
      const invite = await page.getByLabel('Invitation link').inputValue();
      assert(new RegExp(`^${s.base.replace(/[.]/g, '\\.')}/invite/[A-Za-z0-9_-]{20,}$`).test(invite), `an invitation link: ${invite}`);
      const phones = await page.getByLabel('Address for phones').inputValue();
      const port = s.http.split(':').pop();
      assert(phones === `http://127.0.0.1:${port}/`, `the onboarding address: ${phones}`);
      await eventually(async () => (await page.locator('img.qr-image').count()) === 2 && imagesLoaded(page, 'img.qr-image'), 'both QR codes drawn');
      await shot(page, 'setup-invite');
      // The invitation works (checked, not used).
      const invited = await newUserPage();
      pages.push(invited);
      await invited.goto(invite);
      await invited.getByRole('heading', { name: 'Join Outpost' }).waitFor();
      await invited.getByLabel('User name').waitFor();

      // Into #general, which the server made.
      await page.getByRole('button', { name: 'Continue to Outpost' }).click();
      await page.locator('.channel-title', { hasText: 'general' }).waitFor();
      assert(/^\/c\/\d+$/.test(new URL(page.url()).pathname), `a channel page: ${page.url()}`);

      // The setup link worked once.
      const again = await newUserPage();
      pages.push(again);
      await again.goto(setupUrl);
      await again.getByText('This setup link was already used or has expired.').waitFor();
      assert((await again.locator('input[type=password]').count()) === 0, 'no form on a used setup link');
      await again.getByRole('link', { name: 'Go to sign in' }).waitFor();
    } finally {
      for (const p of pages) await p.context().close().catch(() => {});
      await stopServer(s);
    }
  });
}
