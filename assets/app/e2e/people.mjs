// End-to-end scenarios of people and notifications, run by run.mjs (`E2E_ONLY=people:` runs
// only these): profile photos and statuses arriving live, profile cards, muted conversations,
// do not disturb and the daily quiet time, read receipts, deactivated colleagues, and the
// people pages in Russian at phone size. Every scenario starts its own server.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

/** CRC-32 (the PNG chunk checksum). */
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A valid RGB PNG of `size`×`size` pixels: a diagonal two-colour pattern. */
function makePng(size = 64) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3); // filter byte 0
    for (let x = 0; x < size; x++) {
      const on = (x + y) % 16 < 8;
      row.set(on ? [0x1f, 0x6f, 0xb4] : [0xf2, 0xa9, 0x3b], 1 + x * 3);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * In the page, before the app loads: desktop notifications are allowed, and every one the app
 * shows is recorded in `window.__notes` ({title, body, tag}) instead.
 */
function recordNotifications() {
  window.__notes = [];
  class RecordedNotification {
    static get permission() {
      return 'granted';
    }
    static requestPermission() {
      return Promise.resolve('granted');
    }
    constructor(title, options = {}) {
      this.title = title;
      this.body = options.body ?? '';
      this.tag = options.tag ?? '';
      this.onclick = null;
      window.__notes.push({ title, body: this.body, tag: this.tag });
    }
    close() {}
  }
  window.Notification = RecordedNotification;
}

/** In the page: the visible texts of buttons and headings (their accessible names when empty). */
function visibleLabels() {
  return [...document.querySelectorAll('button, h1, h2, h3, h4, legend, [role=heading], label')]
    .filter((el) => (typeof el.checkVisibility === 'function' ? el.checkVisibility() : el.offsetParent !== null))
    .map((el) => (el.innerText || el.getAttribute('aria-label') || el.getAttribute('title') || '').trim())
    .filter(Boolean);
}

const ENGLISH = /\b(Save|Cancel|Mute|Unmute|Status|People|Notifications|Profile|Message|Search|Close|Clear|Set a status)\b/;

export async function peopleScenarios(h) {
  const {
    scenario,
    wants,
    assert,
    eventually,
    startServer,
    stopServer,
    addUser,
    tempDir,
    newUserPage,
    signIn,
    api,
    shot,
    sidebarLink,
    openChannel,
    send,
    messageByText,
  } = h;
  const names = [
    'people: a photo and a status appear for the other user live',
    'people: muting a channel stops notifications and badge counts',
    'people: do not disturb and the quiet schedule hold notifications',
    'people: read receipts in a DM',
    'people: a deactivated colleague keeps their name',
    'people: Russian and phone-sized',
  ];
  if (!names.some(wants)) return;

  const pass = (name) => `${name}-pass-12345`;

  /** A server of its own with these users (`admins` among them are administrators). */
  async function serverWith(users, admins = []) {
    const dir = tempDir('people');
    for (const u of users) addUser(dir, u, pass(u), admins.includes(u));
    return { dir, s: await startServer(dir) };
  }

  /** `name` signed in, in a new browser context; `init` scripts run before every page load. */
  async function open(s, name, { init = [], ...options } = {}) {
    const page = await newUserPage(options);
    for (const script of init) await page.addInitScript(script);
    await signIn(page, s.base, name, pass(name));
    return page;
  }

  /** username → user id, as `page`'s user sees the people list. */
  async function userIds(page) {
    const r = await api(page, 'GET', '/people');
    assert(r.status === 200, `people: ${r.status}`);
    return Object.fromEntries(r.body.map((p) => [p.username, p.id]));
  }

  /** A public channel made by `page`'s user, with `members` added. */
  async function channelWith(page, name, members) {
    const r = await api(page, 'POST', '/channels', { name });
    assert(r.status < 300, `create ${name}: ${r.status}`);
    for (const id of members) {
      const m = await api(page, 'POST', `/channels/${r.body.id}/members`, { user_id: id });
      assert(m.status < 300, `add ${id} to ${name}: ${m.status}`);
    }
    return r.body.id;
  }

  async function post(page, channelId, body) {
    const r = await api(page, 'POST', `/channels/${channelId}/messages`, { body });
    assert(r.status < 300, `post: ${r.status}`);
    return r.body;
  }

  const notes = (page) => page.evaluate(() => window.__notes.slice());
  const unreadIn = (page, channelId) => page.evaluate((id) => window.__outpost.state.channels.get(id)?.unread ?? -1, channelId);

  /** Runs `fn` with a fresh server; stops it and closes the pages `fn` registers. */
  async function withServer(users, admins, fn) {
    const { dir, s } = await serverWith(users, admins);
    const pages = [];
    try {
      await fn(s, pages, dir);
    } finally {
      for (const p of pages) await p.context().close().catch(() => {});
      await stopServer(s);
    }
  }

  // (a) ------------------------------------------------------------------------------------
  await scenario(names[0], () =>
    withServer(['alice', 'bob'], [], async (s, pages, dir) => {
      const alice = await open(s, 'alice');
      pages.push(alice);
      const ids = await userIds(alice);
      const r = await api(alice, 'PATCH', '/me', { display_name: 'Alice Archer', title: 'Dispatcher', department: 'Logistics' });
      assert(r.status === 200, `profile: ${r.status}`);
      const lobby = await channelWith(alice, 'lobby', [ids.bob]);
      await post(alice, lobby, 'Leaving the depot now');

      const bob = await open(s, 'bob');
      pages.push(bob);
      await openChannel(bob, 'lobby');
      const msg = messageByText(bob, 'Leaving the depot now');
      await msg.locator('.msg-author', { hasText: 'Alice Archer' }).waitFor();
      assert((await msg.locator('.msg-gutter img').count()) === 0, 'initials before the photo');
      assert((await msg.locator('.status-emoji').count()) === 0, 'no status yet');
      await bob.evaluate(() => {
        window.__sameDocument = true;
      });

      // Alice uploads a photo on her profile page…
      await alice.getByRole('link', { name: 'Profile' }).click();
      await alice.getByRole('heading', { name: 'Profile', exact: true }).waitFor();
      const file = join(dir, 'alice.png');
      writeFileSync(file, makePng(64));
      await alice.locator('#profile-photo-file').setInputFiles(file);
      await alice.getByText('Photo updated.').waitFor();
      await alice.locator('.topbar-user img.av-img').waitFor();

      // …and sets "🚗 On the way" until the end of the day.
      await alice
        .locator('section[aria-labelledby="profile-status"]')
        .getByRole('button', { name: 'Set a status' })
        .click();
      const dialog = alice.getByRole('dialog', { name: 'Set a status' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: /On the way/ }).click();
      assert((await dialog.getByLabel('What’s your status?').inputValue()) === 'On the way', 'preset text');
      await dialog.getByLabel('Clear after').selectOption('today');
      await shot(alice, 'status-dialog');
      await dialog.getByRole('button', { name: 'Save', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      await alice.locator('.status-current', { hasText: 'On the way' }).waitFor();
      const me = await api(alice, 'GET', '/me');
      assert(me.body.status?.emoji === '🚗' && me.body.status?.text === 'On the way', `status saved: ${JSON.stringify(me.body.status)}`);
      assert(me.body.status.expires_at > Date.now(), 'status clears later today');

      // Bob sees both on the message he is looking at, without reloading.
      const img = msg.locator('.msg-gutter img.av-img');
      await img.waitFor();
      await eventually(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the photo loads');
      const emoji = msg.locator('.msg-head .status-emoji');
      await emoji.waitFor();
      assert((await emoji.textContent()) === '🚗', 'status emoji next to the name');
      assert((await emoji.getAttribute('aria-label')) === 'Status: On the way', 'status has a name');
      assert(await bob.evaluate(() => window.__sameDocument === true), 'no reload');

      // Bob opens Alice's profile card from her name.
      await msg.getByRole('button', { name: 'Alice Archer' }).click();
      const card = bob.locator('dialog.profile-card');
      await card.getByRole('heading', { name: 'Alice Archer' }).waitFor();
      const big = card.locator('.pc-head img.av-img');
      await big.waitFor();
      assert(/size=large/.test((await big.getAttribute('src')) ?? ''), 'the card shows the large photo');
      await eventually(() => big.evaluate((el) => el.complete && el.naturalWidth > 0), 'the large photo loads');
      assert((await card.locator('.pc-title').textContent()) === 'Dispatcher', 'job title');
      assert((await card.locator('.pc-department').textContent()) === 'Logistics', 'department');
      const status = await card.locator('.pc-status').innerText();
      assert(status.includes('🚗') && status.includes('On the way'), `status on the card: ${status}`);
      assert((await card.locator('.pc-username').textContent()) === '@alice', 'user name');
      await shot(bob, 'profile-card');
      await card.getByRole('button', { name: 'Message' }).click();
      await card.waitFor({ state: 'detached' });
      await bob.locator('.channel-title', { hasText: 'Alice Archer' }).waitFor();
      await bob.locator('.channel .messages:not(.messages-loading)').waitFor();
      const dmId = Number(new URL(bob.url()).pathname.split('/').pop());
      const dm = await api(bob, 'GET', `/channels/${dmId}`);
      assert(dm.status === 200 && dm.body.kind === 'dm', `a direct conversation: ${JSON.stringify(dm.body)}`);
      await sidebarLink(bob, 'Alice Archer').waitFor();

      // The directory shows the same: photo, status, job.
      await bob.getByRole('link', { name: 'People' }).click();
      await bob.getByRole('heading', { name: 'People' }).waitFor();
      const row = bob.locator(`.dir-item[data-user-id="${ids.alice}"]`);
      await row.locator('img.av-img').waitFor();
      await row.locator('.status-emoji', { hasText: '🚗' }).waitFor();
      assert((await row.locator('.dir-job').textContent()).includes('Dispatcher · Logistics'), 'job line');
      await shot(bob, 'people-directory');
    }),
  );

  // (b) ------------------------------------------------------------------------------------
  await scenario(names[1], () =>
    withServer(['alice', 'bob'], [], async (s, pages) => {
      const alice = await open(s, 'alice');
      pages.push(alice);
      const ids = await userIds(alice);
      const ops = await channelWith(alice, 'ops', [ids.bob]);
      await channelWith(alice, 'lobby', [ids.bob]);

      const bob = await open(s, 'bob', { init: [recordNotifications] });
      pages.push(bob);
      await openChannel(bob, 'lobby');
      const title = () => bob.evaluate(() => document.title);
      await eventually(async () => (await title()) === '#lobby · Outpost', 'title without unread');

      // Not muted: a plain message notifies and the title shows unread activity.
      await post(alice, ops, 'Morning, ops team');
      await eventually(async () => (await notes(bob)).length === 1, 'a notification before muting');
      const first = (await notes(bob))[0];
      assert(first.title === 'alice · #ops' && first.body === 'Morning, ops team', `notification: ${JSON.stringify(first)}`);
      await eventually(async () => (await title()) === '• #lobby · Outpost', 'title marks unread');

      // Bob mutes #ops from its details.
      await openChannel(bob, 'ops');
      await bob.getByRole('button', { name: 'Details' }).click();
      const details = bob.getByRole('dialog');
      await details.locator('.notify-settings').waitFor();
      await details.getByRole('button', { name: 'Until I unmute' }).click();
      await details.locator('.notify-settings[data-muted="true"]').waitFor();
      await details.getByText('Muted until you unmute it.').waitFor();
      await bob.keyboard.press('Escape');
      await details.waitFor({ state: 'detached' });
      await bob.locator('.channel-muted').waitFor();
      await openChannel(bob, 'lobby');
      const link = sidebarLink(bob, 'ops');
      await eventually(async () => /\bch-muted\b/.test((await link.getAttribute('class')) ?? ''), 'ops dimmed');
      assert(Number(await link.evaluate((el) => getComputedStyle(el).opacity)) < 1, 'a muted channel is dimmed');
      assert((await link.getAttribute('aria-label')).includes('muted'), `label says muted: ${await link.getAttribute('aria-label')}`);
      await bob.evaluate(() => {
        window.__notes.length = 0;
      });

      // A plain message in the muted channel: counted, but no notification, badge or title count.
      await post(alice, ops, 'Convoy leaves at noon');
      await eventually(async () => (await unreadIn(bob, ops)) === 1, 'bob received it');
      await bob.waitForTimeout(500);
      assert((await notes(bob)).length === 0, `no notification when muted: ${JSON.stringify(await notes(bob))}`);
      assert((await title()) === '#lobby · Outpost', `no unread count in the title: ${await title()}`);
      assert((await link.locator('.ch-badge').count()) === 0, 'no badge');
      assert(!/\bch-unread\b/.test((await link.getAttribute('class')) ?? ''), 'not bold');
      assert(Number(await link.evaluate((el) => getComputedStyle(el).opacity)) < 1, 'still dimmed');

      // A mention still gets through: the count, the badge and one notification.
      await post(alice, ops, '@bob please check the fuel');
      await link.locator('.ch-badge', { hasText: '1' }).waitFor();
      await eventually(async () => (await title()) === '(1) #lobby · Outpost', 'the title counts the mention');
      await eventually(async () => (await notes(bob)).length === 1, 'a notification for the mention');
      const mention = (await notes(bob))[0];
      assert(mention.title === 'alice · #ops' && mention.body.includes('check the fuel'), `mention: ${JSON.stringify(mention)}`);
      await bob.waitForTimeout(300);
      assert((await notes(bob)).length === 1, 'exactly one notification');
    }),
  );

  // (c) ------------------------------------------------------------------------------------
  await scenario(names[2], () =>
    withServer(['alice', 'bob'], [], async (s, pages) => {
      const alice = await open(s, 'alice');
      pages.push(alice);
      const ids = await userIds(alice);
      const dm = (await api(alice, 'POST', '/dms', { user_ids: [ids.bob] })).body.id;
      assert(dm > 0, 'a direct conversation');

      const bob = await open(s, 'bob', { init: [recordNotifications], timezoneId: 'Europe/Moscow' });
      pages.push(bob);
      await bob.getByRole('link', { name: 'Profile' }).click();
      const card = bob.locator('section.prefs-card');
      await card.getByRole('heading', { name: 'Notifications' }).waitFor();
      await card.locator('.dnd-state[data-dnd="off"]').waitFor();

      // A daily quiet time from an hour ago to an hour from now, on Moscow's clock.
      const clock = await bob.evaluate(() => {
        const f = (t) => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
        return { zone: Intl.DateTimeFormat().resolvedOptions().timeZone, start: f(Date.now() - 3_600_000), end: f(Date.now() + 3_600_000) };
      });
      assert(clock.zone === 'Europe/Moscow', `page time zone: ${clock.zone}`);
      await card.getByLabel('Time zone').locator('option', { hasText: 'Europe/Moscow' }).first().waitFor({ state: 'attached' });
      await card.getByRole('checkbox', { name: 'Pause notifications every day' }).check();
      await card.getByText('Saved.').waitFor();
      await card.getByLabel('From', { exact: true }).fill(clock.start);
      await card.getByLabel('To', { exact: true }).fill(clock.end);
      await card.locator('.quiet-row').getByRole('button', { name: 'Save' }).click();
      await card.locator('.quiet-row').getByRole('button', { name: 'Save' }).waitFor({ state: 'detached' });
      const prefs = await api(bob, 'GET', '/me/preferences');
      assert(prefs.body.dnd_start === clock.start && prefs.body.dnd_end === clock.end, `quiet time saved: ${JSON.stringify(prefs.body)}`);
      await card.locator('.dnd-state[data-dnd="on"]', { hasText: 'Quiet time now' }).waitFor();
      await card.scrollIntoViewIfNeeded();
      await shot(bob, 'notifications-settings');

      // Quiet time: a DM arrives (counted) without a notification.
      await post(alice, dm, 'Quiet-time ping');
      await eventually(async () => (await unreadIn(bob, dm)) === 1, 'bob received the DM');
      await sidebarLink(bob, 'alice').locator('.ch-badge', { hasText: '1' }).waitFor();
      await bob.waitForTimeout(500);
      assert((await notes(bob)).length === 0, `no notification in the quiet time: ${JSON.stringify(await notes(bob))}`);

      // Bob removes the quiet time: the next DM notifies.
      await card.getByRole('checkbox', { name: 'Pause notifications every day' }).uncheck();
      await card.locator('.dnd-state[data-dnd="off"]').waitFor();
      const cleared = await api(bob, 'GET', '/me/preferences');
      assert(cleared.body.dnd_start === null && cleared.body.dnd_end === null, 'quiet time removed');
      await post(alice, dm, 'Are you free now?');
      await eventually(async () => (await notes(bob)).length === 1, 'a notification after the quiet time');
      const note = (await notes(bob))[0];
      assert(note.title === 'alice' && note.body === 'Are you free now?', `notification: ${JSON.stringify(note)}`);

      // Do not disturb for 30 minutes holds them too, until turned off.
      await card.getByRole('group', { name: 'Pause notifications' }).getByRole('button', { name: '30 minutes' }).click();
      await card.locator('.dnd-state[data-dnd="on"]').waitFor();
      await post(alice, dm, 'Held by do not disturb');
      await eventually(async () => (await unreadIn(bob, dm)) === 3, 'bob received the third DM');
      await bob.waitForTimeout(500);
      assert((await notes(bob)).length === 1, 'no notification during do not disturb');
      await card.getByRole('button', { name: 'Turn off' }).click();
      await card.locator('.dnd-state[data-dnd="off"]').waitFor();
      await post(alice, dm, 'And now?');
      await eventually(async () => (await notes(bob)).length === 2, 'notified again');
    }),
  );

  // (d) ------------------------------------------------------------------------------------
  await scenario(names[3], () =>
    withServer(['alice', 'bob'], [], async (s, pages) => {
      const alice = await open(s, 'alice');
      pages.push(alice);
      const ids = await userIds(alice);
      const dm = (await api(alice, 'POST', '/dms', { user_ids: [ids.bob] })).body.id;
      const bob = await open(s, 'bob');
      pages.push(bob);
      await bob.goto(`${s.base}/people`);
      await bob.getByRole('heading', { name: 'People' }).waitFor();

      await alice.goto(`${s.base}/c/${dm}`);
      await alice.locator('.channel .messages:not(.messages-loading)').waitFor();
      await send(alice, 'Are you at the gate?');
      await messageByText(alice, 'Are you at the gate?').waitFor();
      await eventually(async () => (await unreadIn(bob, dm)) === 1, 'bob received it');
      await alice.waitForTimeout(300);
      assert((await alice.locator('.seen-line').count()) === 0, 'not seen before bob opens it');

      // Bob opens the conversation: Alice sees "Seen" under her message.
      await sidebarLink(bob, 'alice').click();
      await messageByText(bob, 'Are you at the gate?').waitFor();
      const seen = alice.locator('.channel .seen-line');
      await seen.waitFor();
      assert((await seen.locator('[aria-hidden="true"]').textContent()) === 'Seen', 'says Seen');
      assert((await seen.getAttribute('data-readers')) === String(ids.bob), 'read by bob');
      const under = () => seen.evaluate((el) => el.previousElementSibling?.textContent ?? '');
      assert((await under()).includes('Are you at the gate?'), 'under the message bob read');
      await shot(alice, 'dm-seen');

      // Bob turns read receipts off.
      await bob.getByRole('link', { name: 'Profile' }).click();
      const prefs = bob.locator('section.prefs-card');
      const receipts = prefs.getByRole('switch', { name: /Send read receipts/ });
      assert(await receipts.isChecked(), 'read receipts on by default');
      await receipts.uncheck();
      await prefs.getByText('Saved.').waitFor();
      assert((await api(bob, 'GET', '/me/preferences')).body.read_receipts === false, 'saved off');

      // Alice's next message is read by Bob, but she is not told.
      await send(alice, 'Bring the keys please');
      const second = messageByText(alice, 'Bring the keys please');
      await second.waitFor();
      const secondSeq = Number(await second.getAttribute('data-seq'));
      await eventually(async () => (await unreadIn(bob, dm)) === 1, 'bob received the second');
      await sidebarLink(bob, 'alice').click();
      await messageByText(bob, 'Bring the keys please').waitFor();
      await eventually(async () => {
        const list = await api(bob, 'GET', '/channels');
        const c = list.body.find((x) => x.id === dm);
        return c && c.last_read_seq >= secondSeq;
      }, 'bob has read the second message');
      await alice.waitForTimeout(1000);
      assert((await alice.locator('.channel .seen-line').count()) === 1, 'one Seen line');
      const now = await under();
      assert(now.includes('Are you at the gate?') && !now.includes('Bring the keys'), `Seen stays under the first: ${now}`);
      const r = await api(alice, 'GET', `/channels/${dm}/receipts`);
      const bobs = r.body.find((x) => x.user_id === ids.bob);
      assert(!bobs, `someone with receipts off is left out of the receipts: ${JSON.stringify(r.body)}`);
      // After a reload nothing says Seen (the server leaves Bob out now).
      await alice.reload();
      await messageByText(alice, 'Bring the keys please').waitFor();
      await alice.waitForTimeout(500);
      assert((await alice.locator('.channel .seen-line').count()) === 0, 'no Seen after a reload');
    }),
  );

  // (e) ------------------------------------------------------------------------------------
  await scenario(names[4], () =>
    withServer(['root', 'alice', 'carol'], ['root'], async (s, pages) => {
      const root = await open(s, 'root');
      pages.push(root);
      const ids = await userIds(root);
      const lobby = await channelWith(root, 'lobby', [ids.alice, ids.carol]);
      const carol = await open(s, 'carol');
      pages.push(carol);
      assert((await api(carol, 'PATCH', '/me', { display_name: 'Carol Chen' })).status === 200, 'carol named');
      await post(carol, lobby, 'Handover notes are in the binder');

      const alice = await open(s, 'alice');
      pages.push(alice);
      await openChannel(alice, 'lobby');
      const msg = messageByText(alice, 'Handover notes are in the binder');
      await msg.locator('.msg-author', { hasText: 'Carol Chen' }).waitFor();
      assert((await msg.locator('.deactivated-tag').count()) === 0, 'active at first');

      // The administrator disables Carol: her page goes to the sign-in page.
      const off = await api(root, 'POST', `/users/${ids.carol}/disable`);
      assert(off.status === 204 || off.status === 200, `disable: ${off.status}`);
      await carol.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();

      // Alice's page marks her at once, and keeps her name.
      await msg.locator('.deactivated-tag', { hasText: 'deactivated' }).waitFor();
      assert((await msg.locator('.msg-author').textContent()) === 'Carol Chen', 'still her display name');
      // And after a reload.
      await alice.reload();
      await alice.locator('.channel .messages:not(.messages-loading)').waitFor();
      await msg.locator('.deactivated-tag').waitFor();
      assert((await msg.locator('.msg-author').textContent()) === 'Carol Chen', 'her name after a reload');
      assert(!/User \d+/.test(await msg.innerText()), 'not "User N"');

      // Her card says so, and offers no Message button.
      await msg.getByRole('button', { name: 'Carol Chen' }).click();
      const card = alice.locator('dialog.profile-card');
      await card.getByRole('heading', { name: 'Carol Chen' }).waitFor();
      await card.locator('.pc-deactivated', { hasText: 'This account is deactivated.' }).waitFor();
      await card.locator('.loading').waitFor({ state: 'detached' }).catch(() => {});
      await alice.waitForTimeout(300);
      assert((await card.getByRole('button', { name: 'Message' }).count()) === 0, 'no Message button');
      await alice.keyboard.press('Escape');
      await card.waitFor({ state: 'detached' });

      // The directory lists her last, marked.
      await alice.getByRole('link', { name: 'People' }).click();
      const items = alice.locator('.directory .dir-item');
      await items.first().waitFor();
      const last = items.last();
      assert((await last.getAttribute('data-user-id')) === String(ids.carol), 'deactivated last');
      assert(/\bdir-deactivated\b/.test(await last.getAttribute('class')), 'marked in the directory');

      // Carol cannot sign in again, and is told why.
      await carol.getByLabel('User name').fill('carol');
      await carol.getByLabel('Password', { exact: true }).fill(pass('carol'));
      await carol.getByRole('button', { name: 'Sign in' }).click();
      await carol.getByText('This account is deactivated. Ask an administrator to enable it again.').waitFor();
      assert(new URL(carol.url()).pathname === '/login', 'still on the sign-in page');
    }),
  );

  // (f) ------------------------------------------------------------------------------------
  await scenario(names[5], () =>
    withServer(['root', 'alice', 'bob', 'carol'], ['root'], async (s, pages) => {
      const root = await open(s, 'root');
      pages.push(root);
      const ids = await userIds(root);
      const profiles = {
        alice: { display_name: 'Алиса Орлова', title: 'Диспетчер', department: 'Связь' },
        bob: { display_name: 'Борис Петров', title: 'Водитель', department: 'Логистика' },
        carol: { display_name: 'Светлана Ким', title: 'Бухгалтер', department: 'Бухгалтерия' },
      };
      for (const [name, body] of Object.entries(profiles)) {
        const r = await api(root, 'PATCH', `/users/${ids[name]}/profile`, body);
        assert(r.status === 200, `profile of ${name}: ${r.status}`);
      }
      await channelWith(root, 'склад', [ids.alice]);

      const ru = await newUserPage({ locale: 'ru-RU', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      pages.push(ru);
      await ru.goto(`${s.base}/login`);
      await ru.getByLabel('Имя пользователя').fill('alice');
      await ru.getByLabel('Пароль', { exact: true }).fill(pass('alice'));
      await ru.getByRole('button', { name: 'Войти' }).click();
      // The channel's name stays readable beside its buttons, and nothing runs off the screen.
      const chTitle = ru.locator('.channel-title', { hasText: 'склад' });
      await chTitle.waitFor();
      assert((await chTitle.boundingBox()).width >= 40, `channel name shown: ${JSON.stringify(await chTitle.boundingBox())}`);
      for (const b of await ru.locator('.channel-tools button').all()) {
        const r = await b.boundingBox();
        assert(r.x >= 0 && r.x + r.width <= 390, `${await b.innerText()} within the screen: ${JSON.stringify(r)}`);
      }
      const english = async (where) => {
        const found = (await ru.evaluate(visibleLabels)).filter((x) => ENGLISH.test(x));
        assert(found.length === 0, `English labels on ${where}: ${JSON.stringify(found)}`);
      };
      // The page is no wider than the phone.
      const overflow = async () => ru.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

      // The people directory, from the menu.
      await ru.getByRole('button', { name: 'Открыть меню' }).click();
      await ru.getByRole('link', { name: 'Люди' }).click();
      await ru.getByRole('heading', { name: 'Люди' }).waitFor();
      const items = ru.locator('.directory .dir-item');
      await eventually(async () => (await items.count()) === 4, 'everyone listed');
      await ru.locator('.people-count', { hasText: '4 человека' }).waitFor();
      await ru.locator('.dir-item', { hasText: 'Борис Петров' }).locator('.dir-job', { hasText: 'Водитель · Логистика' }).waitFor();
      assert((await overflow()) <= 0, 'no sideways scrolling');
      await english('the people page');
      const search = ru.getByRole('searchbox', { name: 'Поиск людей' });
      await search.fill('логист');
      await eventually(async () => (await items.count()) === 1, 'one match for the department');
      assert((await items.first().getAttribute('data-user-id')) === String(ids.bob), 'found by department');
      await ru.locator('.people-count', { hasText: '1 человек' }).waitFor();
      await search.fill('БУХГАЛ');
      await eventually(async () => (await items.count()) === 1 && (await items.first().getAttribute('data-user-id')) === String(ids.carol), 'case-insensitive Cyrillic');
      await search.fill('');
      await eventually(async () => (await items.count()) === 4, 'everyone again');
      await shot(ru, 'people-phone-ru');

      // A profile card, centred on the phone.
      await ru.locator('.dir-item', { hasText: 'Борис Петров' }).getByRole('button').click();
      const card = ru.locator('dialog.profile-card');
      await card.getByRole('heading', { name: 'Борис Петров' }).waitFor();
      await card.getByRole('button', { name: 'Написать' }).waitFor();
      await card.getByText('Отдел').waitFor();
      const box = await card.boundingBox();
      assert(box.x >= 0 && box.x + box.width <= 390, `card within the screen: ${JSON.stringify(box)}`);
      await english('the profile card');
      await ru.keyboard.press('Escape');
      await card.waitFor({ state: 'detached' });

      // The status dialog.
      await ru.getByRole('button', { name: 'Открыть меню' }).click();
      await ru.locator('#sidebar').getByRole('button', { name: 'Указать статус' }).click();
      const dialog = ru.getByRole('dialog', { name: 'Статус' });
      await dialog.waitFor();
      await dialog.getByLabel('Ваш статус').waitFor();
      await dialog.getByLabel('Когда убрать').waitFor();
      await dialog.getByRole('button', { name: /В пути/ }).waitFor();
      await dialog.getByRole('button', { name: 'Сохранить', exact: true }).waitFor();
      await dialog.getByRole('button', { name: 'Отмена' }).waitFor();
      await english('the status dialog');
      await dialog.getByRole('button', { name: /В пути/ }).click();
      await dialog.getByRole('button', { name: 'Сохранить', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      await ru.getByRole('button', { name: 'Открыть меню' }).click();
      await ru.locator('#sidebar').getByRole('button', { name: 'Изменить статус' }).waitFor();
      await ru.getByRole('button', { name: 'Закрыть меню' }).click();

      // The notification settings of the profile.
      await ru.getByRole('button', { name: 'Открыть меню' }).click();
      await ru.getByRole('link', { name: 'Профиль' }).click();
      const prefs = ru.locator('section.prefs-card');
      await prefs.getByRole('heading', { name: 'Уведомления' }).waitFor();
      await prefs.getByRole('heading', { name: 'Не беспокоить' }).waitFor();
      await prefs.getByRole('heading', { name: 'Тихие часы каждый день' }).waitFor();
      await prefs.getByRole('checkbox', { name: 'Каждый день приостанавливать уведомления' }).waitFor();
      await prefs.getByRole('switch', { name: /Отправлять отметки о прочтении/ }).waitFor();
      await prefs.getByRole('button', { name: 'На 30 минут' }).waitFor();
      await ru.locator('.status-current', { hasText: 'В пути' }).waitFor();
      assert((await overflow()) <= 0, 'the profile fits the phone');
      await english('the profile page');

      // A channel's notification settings.
      await ru.getByRole('button', { name: 'Открыть меню' }).click();
      await sidebarLink(ru, 'склад').click();
      await ru.locator('.channel-title', { hasText: 'склад' }).waitFor();
      // On a phone the header's buttons are in its "Ещё" (More) menu.
      await ru.locator('.channel-head').getByRole('button', { name: 'Ещё', exact: true }).click();
      await ru.getByRole('menuitem', { name: 'О канале' }).click();
      const details = ru.getByRole('dialog');
      await details.locator('.notify-settings').getByRole('heading', { name: 'Уведомления' }).waitFor();
      await details.getByRole('radio', { name: 'Только об упоминаниях' }).waitFor();
      await details.getByRole('button', { name: 'Пока не включу' }).waitFor();
      await english('the channel details');
    }),
  );
}
