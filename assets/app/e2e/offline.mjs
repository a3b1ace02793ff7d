// End-to-end scenario of reading without the server (issue #21), run by run.mjs
// (`E2E_ONLY=offline` runs only it). It starts its own server.
//
// Erin reads a channel where Frank posted text and a photo; the server stops; Erin reloads
// and still reads them (the app from the service worker's cache, the messages and the
// thumbnail from IndexedDB) under the offline banner, and writes a message that waits in the
// outbox; the server comes back on the same address and the message is delivered once.
// Signing out while the server is away again erases the device's data at once and the logout
// goes when it is back (the old session then ends); signing out online leaves nothing either.

const PASS = (name) => `${name}-pass-12345`;
const T = 10_000;

export async function offlineScenarios(h) {
  const { scenario, wants, assert, eventually, startServer, stopServer, addUser, tempDir, newUserPage, signIn, api, shot, trustingBrowser } = h;
  const name = 'offline: saved conversations are read without the server, a queued message is sent when it is back, sign-out erases them (server away or not)';
  if (!wants(name)) return;

  await scenario(name, async () => {
    const data = tempDir('offline');
    for (const user of ['erin', 'frank']) addUser(data, user, PASS(user));
    let server = await startServer(data);
    // Service workers only run for a certificate the browser trusts, as on a device with the CA installed.
    const trusting = await trustingBrowser(data);
    if (!trusting) {
      console.log('  (openssl missing: skipped)');
      await stopServer(server);
      return;
    }
    const errors = [];
    let frank = null;
    try {
      const base = server.base;
      const context = await trusting.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
      const erin = await context.newPage();
      erin.setDefaultTimeout(T);
      erin.on('pageerror', (e) => errors.push(e.message));
      frank = await newUserPage();
      await signIn(frank, base, 'frank', PASS('frank'));
      await signIn(erin, base, 'erin', PASS('erin'));
      const erinId = (await api(erin, 'GET', '/me')).body.id;

      // Frank's channel, which Erin joins; his messages, one with a photo (a PNG drawn in his page).
      const created = await api(frank, 'POST', '/channels', { name: 'field-notes' });
      assert(created.status === 201 || created.status === 200, `channel created: ${created.status}`);
      const channelId = created.body.id;
      assert((await api(erin, 'POST', `/channels/${channelId}/join`)).status < 300, 'erin joined');
      for (const body of ['Ridge trail is open again', 'Bring water, the spring is dry']) {
        assert((await api(frank, 'POST', `/channels/${channelId}/messages`, { body })).status < 300, 'posted');
      }
      const posted = await frank.evaluate(async (channel) => {
        const canvas = document.createElement('canvas');
        canvas.width = 640;
        canvas.height = 480;
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = '#2f6b3a';
        ctx.fillRect(0, 0, 640, 480);
        ctx.fillStyle = '#e9d9a6';
        ctx.beginPath();
        ctx.moveTo(0, 480);
        ctx.lineTo(320, 120);
        ctx.lineTo(640, 480);
        ctx.fill();
        const png = await new Promise((r) => canvas.toBlob(r, 'image/png'));
        const json = { 'Content-Type': 'application/json' };
        const upload = await (
          await fetch('/api/v1/uploads', { method: 'POST', headers: json, body: JSON.stringify({ name: 'ridge.png', size: png.size, mime: 'image/png' }) })
        ).json();
        const done = await (
          await fetch(`/api/v1/uploads/${upload.id}`, {
            method: 'PATCH',
            headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' },
            body: png,
          })
        ).json();
        const res = await fetch(`/api/v1/channels/${channel}/messages`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ body: 'Photo of the ridge', attachments: [done.file.id] }),
        });
        return { status: res.status, thumb: done.file.thumb_url };
      }, channelId);
      assert(posted.status < 300 && posted.thumb, `photo message posted with a thumbnail: ${JSON.stringify(posted)}`);

      const msg = (text) => erin.locator('.channel .msg:not(.msg-pending)', { hasText: text });
      await erin.goto(`${base}/c/${channelId}`);
      await msg('Photo of the ridge').waitFor();
      await msg('Ridge trail is open again').waitFor();
      const img = msg('Photo of the ridge').locator('.att-image img');
      await eventually(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), 'thumbnail shown online');
      assert((await erin.getByTestId('offline-banner').count()) === 0, 'no offline banner while connected');
      await eventually(() => erin.evaluate(() => !!navigator.serviceWorker.controller), 'the service worker controls the page', 20_000);

      // The copy is written behind the app: wait until it holds the messages and the photo's thumbnail.
      const saved = () =>
        erin.evaluate(
          async ({ userId, channel }) => {
            const name = `outpost-offline-${userId}`;
            if (!(await indexedDB.databases()).some((d) => d.name === name)) return null;
            const db = await new Promise((resolve, reject) => {
              const req = indexedDB.open(name);
              req.onsuccess = () => resolve(req.result);
              req.onerror = () => reject(req.error);
            });
            try {
              const read = (store, fn) =>
                new Promise((resolve) => {
                  const req = fn(db.transaction(store).objectStore(store));
                  req.onsuccess = () => resolve(req.result);
                });
              const conversation = await read('conversations', (s) => s.get(channel));
              return {
                bodies: (conversation?.messages ?? []).map((m) => m.body),
                thumbs: await read('thumbs', (s) => s.count()),
                me: (await read('meta', (s) => s.get('me')))?.value?.username ?? null,
              };
            } finally {
              db.close();
            }
          },
          { userId: erinId, channel: channelId },
        );
      await eventually(async () => {
        const s = await saved();
        return s && s.me === 'erin' && s.bodies.includes('Photo of the ridge') && s.bodies.includes('Ridge trail is open again') && s.thumbs === 1;
      }, 'the conversation and its thumbnail saved in IndexedDB');

      // The server goes away; the page is reloaded.
      const { https, http } = server;
      await stopServer(server);
      await erin.reload();
      const banner = erin.getByTestId('offline-banner');
      await banner.waitFor();
      assert((await banner.textContent()).includes('The server cannot be reached.'), 'the banner says why');
      assert(/Saved \d{1,2}:\d{2}/.test(await banner.textContent()), `the banner says how old the copy is: ${await banner.textContent()}`);
      await msg('Ridge trail is open again').waitFor();
      await msg('Bring water, the spring is dry').waitFor();
      const savedImg = msg('Photo of the ridge').locator('.att-image img');
      await eventually(async () => ((await savedImg.getAttribute('src')) ?? '').startsWith('blob:'), 'thumbnail from the saved Blob');
      await eventually(() => savedImg.evaluate((el) => el.complete && el.naturalWidth > 0), 'saved thumbnail rendered');
      await erin.locator('#sidebar .ch-link', { hasText: 'field-notes' }).waitFor();

      // Writing works as before: the message waits in the outbox.
      const box = erin.locator('.channel .composer-input');
      await box.click();
      await box.fill('Written without the server: heron');
      await box.press('Enter');
      const pending = erin.locator('.msg-pending', { hasText: 'heron' });
      await pending.waitFor();
      assert((await pending.getAttribute('data-state')) === 'pending', 'shown as queued');
      await shot(erin, 'offline-reading');

      // The server comes back on the same address: fresh data replaces the copy, the message goes once.
      server = await startServer(data, { https, http });
      try {
        await eventually(async () => (await msg('heron').count()) === 1 && (await erin.locator('.msg-pending').count()) === 0, 'queued message delivered', 40_000);
      } catch (err) {
        // Say what the page showed, so a failure here can be told apart from a slow reconnect.
        const state = await erin.evaluate(() => ({
          heron: [...document.querySelectorAll('.msg')].filter((m) => m.textContent.includes('heron')).length,
          pending: [...document.querySelectorAll('.msg-pending')].map((m) => m.getAttribute('data-state')),
          banner: document.querySelector('[data-testid=offline-banner]')?.textContent ?? null,
          conn: document.querySelector('.conn')?.getAttribute('data-connection') ?? null,
        }));
        const outbox = await erin.evaluate((id) => localStorage.getItem(`outpost.outbox.${id}`), erinId);
        const onServer = (await api(frank, 'GET', `/channels/${channelId}/messages?limit=50`)).body.filter((m) => m.body.includes('heron')).length;
        throw new Error(`${err.message}: ${JSON.stringify({ ...state, outbox, onServer })}`);
      }
      await eventually(async () => (await banner.count()) === 0, 'banner gone once connected', 20_000);
      await eventually(async () => ((await erin.locator('.channel .att-image img').getAttribute('src')) ?? '').endsWith('/thumb'), 'the server’s thumbnail again');
      const stored = await api(frank, 'GET', `/channels/${channelId}/messages?limit=50`);
      assert(stored.body.filter((m) => m.body.includes('heron')).length === 1, 'stored exactly once');

      // Signing out while the server is away again: nothing of Erin's stays on the device, at once.
      const outpostDatabases = () =>
        erin.evaluate(async () => (await indexedDB.databases()).filter((d) => d.name.startsWith('outpost-offline-')).length);
      const userKeys = () =>
        erin.evaluate(() => Object.keys(localStorage).filter((k) => /^outpost\.(outbox|pos|draft|lastChannel)\./.test(k)));
      assert((await userKeys()).length > 0, 'the user has local data before signing out');
      await stopServer(server);
      await erin.getByRole('button', { name: 'Sign out' }).first().click();
      await erin.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
      await eventually(async () => (await outpostDatabases()) === 0, 'IndexedDB erased on sign-out without the server');
      assert((await userKeys()).length === 0, `per-user keys erased: ${await userKeys()}`);
      assert((await erin.evaluate(() => localStorage.getItem('outpost.offline.user'))) === null, 'last-user marker removed');
      assert((await erin.evaluate(() => localStorage.getItem('outpost.logoutPending'))) === '1', 'the logout is owed');
      await erin.getByText('your session there ends as soon as it can be', { exact: false }).waitFor();

      // The server is back: the next start sends the logout, and the old session is over there.
      server = await startServer(data, { https, http });
      await erin.reload();
      await erin.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
      await eventually(async () => (await erin.evaluate(() => localStorage.getItem('outpost.logoutPending'))) === null, 'the owed logout sent');
      assert((await api(erin, 'GET', '/me')).status === 401, 'the old session ended on the server');

      // Signing out with the server there leaves nothing of Erin's conversations on the device either.
      await signIn(erin, base, 'erin', PASS('erin'));
      await erin.goto(`${base}/c/${channelId}`);
      await msg('heron').waitFor();
      await eventually(async () => (await outpostDatabases()) === 1, 'a copy written again');
      await erin.getByRole('button', { name: 'Sign out' }).first().click();
      await erin.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
      await eventually(async () => (await outpostDatabases()) === 0, 'IndexedDB erased on sign-out');
      assert((await erin.evaluate(() => localStorage.getItem('outpost.offline.user'))) === null, 'last-user marker removed');
      assert((await erin.evaluate(() => localStorage.getItem('outpost.logoutPending'))) === null, 'nothing owed');
      assert(errors.length === 0, `page errors:\n${errors.join('\n')}`);
      await context.close();
    } finally {
      await frank?.context().close().catch(() => {});
      await trusting.close().catch(() => {});
      await stopServer(server);
    }
  });
}
