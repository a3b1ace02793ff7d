// End-to-end scenarios of the message actions and voice messages, run by run.mjs
// (`E2E_ONLY=messages:` runs only these). Each scenario starts its own server.
//
// Quote replies, forwarding (with a comment, and the original's link for those who may read
// it), saved messages, message links, edit history; voice messages recorded from Chromium's
// fake microphone (a beep), sent, and played on the other side; the same UI in Russian.

const PASS = (name) => `${name}-pass-12345`;

export async function messageScenarios(h) {
  const { scenario, wants, assert, eventually, startServer, stopServer, addUser, tempDir, newUserPage, signIn, api, shot } = h;
  const names = [
    'messages: quote, forward, save, link, edit history across two users',
    'messages: a voice message reaches the other user and plays with the right duration',
    'messages: Russian',
  ];
  if (!names.some(wants)) return;

  /** A server with these users signed in, each in their own browser context; `ids` by user name. */
  async function world(users, options = {}) {
    const data = tempDir('messages');
    for (const name of users) addUser(data, name, PASS(name));
    const server = await startServer(data);
    const pages = {};
    for (const name of users) {
      const page = await newUserPage(options[name] ?? {});
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write', 'microphone'], { origin: server.base });
      if (options[name]?.locale?.startsWith('ru')) {
        await page.goto(`${server.base}/login`);
        await page.getByLabel('Имя пользователя').fill(name);
        await page.getByLabel('Пароль', { exact: true }).fill(PASS(name));
        await page.getByRole('button', { name: 'Войти' }).click();
        await page.locator('.ch-list, .empty-state').first().waitFor({ state: 'attached' });
      } else {
        await signIn(page, server.base, name, PASS(name));
      }
      pages[name] = page;
    }
    const ids = {};
    for (const p of (await api(pages[users[0]], 'GET', '/people')).body) ids[p.username] = p.id;
    const close = async () => {
      for (const p of Object.values(pages)) await p.context().close().catch(() => {});
      await stopServer(server);
    };
    return { server, base: server.base, pages, ids, close };
  }

  const msg = (page, text) => page.locator('.channel .msg:not(.msg-pending)', { hasText: text });
  const box = (page) => page.locator('.channel .composer-input');

  async function openConversation(page, base, id) {
    await page.goto(`${base}/c/${id}`);
    await page.locator('.channel .messages:not(.messages-loading)').waitFor();
  }

  async function say(page, text) {
    await box(page).click();
    await box(page).fill(text);
    await box(page).press('Enter');
    await msg(page, text).last().waitFor();
  }

  /** Opens a message's "More actions" menu and picks `item`. */
  async function menu(page, message, item) {
    await message.hover();
    await message.getByRole('button', { name: /^(More actions|Другие действия)$/ }).click();
    await page.getByRole('menuitem', { name: item, exact: true }).click();
  }

  async function toast(page, text) {
    await page.locator('.toast', { hasText: text }).waitFor();
  }

  // ---- (a) ------------------------------------------------------------------------

  await scenario(names[0], async () => {
    const w = await world(['alice', 'bob']);
    try {
      const { alice, bob } = w.pages;
      const ops = (await api(alice, 'POST', '/channels', { name: 'ops' })).body.id;
      assert((await api(bob, 'POST', `/channels/${ops}/join`)).status < 300, 'bob joins ops');
      const secret = (await api(alice, 'POST', '/channels', { name: 'secret', private: true })).body.id;
      const dm = (await api(alice, 'POST', '/dms', { user_ids: [w.ids.bob] })).body.id;
      await openConversation(alice, w.base, ops);
      await openConversation(bob, w.base, ops);

      // Quote reply: bob answers alice's message; both see the quote, alice live.
      await say(alice, 'Convoy leaves at 06:00');
      const original = msg(bob, 'Convoy leaves at 06:00');
      await original.waitFor();
      await menu(bob, original, 'Quote reply');
      const preview = bob.locator('.composer-quote');
      await preview.waitFor();
      assert((await preview.locator('.msg-quote-text').textContent()) === 'Convoy leaves at 06:00', 'composer preview');
      await preview.getByRole('button', { name: 'Cancel the quote' }).click();
      await preview.waitFor({ state: 'detached' });
      await menu(bob, original, 'Quote reply');
      await say(bob, 'Copy that, at the gate');
      assert((await bob.locator('.composer-quote').count()) === 0, 'the preview goes with the message');
      const answer = msg(alice, 'Copy that, at the gate');
      await answer.locator('.msg-quote', { hasText: 'Convoy leaves at 06:00' }).waitFor();
      assert((await answer.locator('.msg-quote-author').textContent()) === 'alice', 'the quote names its author');
      // Many messages later, the quote jumps back to the original and highlights it.
      for (let i = 0; i < 20; i++) await api(alice, 'POST', `/channels/${ops}/messages`, { body: `filler ${i}` });
      await msg(alice, 'filler 19').waitFor();
      const answered = msg(alice, 'Copy that, at the gate');
      await answered.scrollIntoViewIfNeeded();
      await answered.locator('.msg-quote').click();
      await alice.locator('.msg-highlight', { hasText: 'Convoy leaves at 06:00' }).waitFor();
      assert(/\/c\/\d+\?m=\d+$/.test(alice.url()), `the page points at the original: ${alice.url()}`);

      // Edit history: alice edits twice; bob opens the history from "(edited)".
      const convoyId = Number(await alice.locator('.msg-highlight').getAttribute('data-id'));
      await api(alice, 'PATCH', `/messages/${convoyId}`, { body: 'Convoy leaves at 06:30' });
      await api(alice, 'PATCH', `/messages/${convoyId}`, { body: 'Convoy leaves at 07:00' });
      // The quote follows the message as it is now.
      await msg(bob, 'Copy that, at the gate').locator('.msg-quote', { hasText: 'Convoy leaves at 07:00' }).waitFor();
      const edited = msg(bob, 'Convoy leaves at 07:00').filter({ hasNot: bob.locator('.msg-quote') });
      await edited.locator('.msg-edited').click();
      const history = bob.getByRole('dialog', { name: 'Edit history' });
      await history.waitFor();
      await eventually(async () => (await history.locator('.edit-version').count()) === 3, 'three versions');
      const versions = await history.locator('.edit-version-body').allTextContents();
      assert(
        JSON.stringify(versions.map((v) => v.trim())) ===
          JSON.stringify(['Convoy leaves at 06:00', 'Convoy leaves at 06:30', 'Convoy leaves at 07:00']),
        `versions oldest first: ${versions}`,
      );
      const labels = await history.locator('.edit-version-label').allTextContents();
      assert(labels[0] === 'Original' && labels[2] === 'Current version', `labels: ${labels}`);
      assert((await history.locator('time').count()) === 3, 'each version has its time');
      await bob.keyboard.press('Escape');
      await history.waitFor({ state: 'detached' });

      // Forward with a comment to the direct conversation with bob.
      await menu(alice, msg(alice, 'Convoy leaves at 07:00').filter({ hasNot: alice.locator('.msg-quote') }), 'Forward');
      const dialog = alice.getByRole('dialog', { name: 'Forward message' });
      await dialog.getByLabel('Find a conversation').fill('bo');
      await eventually(async () => (await dialog.locator('.forward-target').count()) === 1, 'the search finds the conversation with bob');
      await dialog.locator('.forward-target', { hasText: 'bob' }).click();
      await dialog.getByLabel('Comment (optional)').fill('FYI, the plan');
      await dialog.getByRole('button', { name: 'Send to bob' }).click();
      await dialog.waitFor({ state: 'detached' });
      await toast(alice, 'Forwarded to bob');
      // And a message from the private channel bob is not in.
      await openConversation(alice, w.base, secret);
      await say(alice, 'Secret route via the north gate');
      await menu(alice, msg(alice, 'Secret route via the north gate'), 'Forward');
      const d2 = alice.getByRole('dialog', { name: 'Forward message' });
      await d2.locator('.forward-target', { hasText: 'bob' }).click();
      await d2.getByRole('button', { name: 'Send to bob' }).click();
      await d2.waitFor({ state: 'detached' });

      await openConversation(bob, w.base, dm);
      await msg(bob, 'FYI, the plan').waitFor();
      const forwarded = msg(bob, 'Convoy leaves at 07:00');
      await forwarded.locator('.msg-forwarded', { hasText: 'Forwarded from alice' }).waitFor();
      await msg(bob, 'Secret route via the north gate').locator('.msg-forwarded-link').waitFor();
      // The comment comes just before the copy.
      const texts = await bob.locator('.channel .msg .msg-body').allTextContents();
      const at = texts.findIndex((t) => t.includes('FYI, the plan'));
      assert(at >= 0 && texts[at + 1]?.includes('Convoy leaves at 07:00'), `comment then copy: ${texts}`);
      // Bob quotes the forwarded message in the conversation: both in one picture.
      await menu(bob, forwarded, 'Quote reply');
      await say(bob, 'Thanks, noted');
      await msg(bob, 'Thanks, noted').locator('.msg-quote').waitFor();
      await shot(bob, 'message-quote-forward');
      // The secret original: bob may not see it.
      await msg(bob, 'Secret route via the north gate').locator('.msg-forwarded-link').click();
      await toast(bob, 'You cannot see the original');
      assert(new URL(bob.url()).pathname === `/c/${dm}`, 'stays in the conversation');
      // The ops original: bob is a member, so it opens there, highlighted.
      await forwarded.locator('.msg-forwarded-link').click();
      await bob.waitForURL(new RegExp(`/c/${ops}\\?m=\\d+$`));
      await bob.locator('.msg-highlight', { hasText: 'Convoy leaves at 07:00' }).waitFor();

      // Save: bob saves the original; the Saved panel lists it with its channel, Jump, Remove.
      const convoy = bob.locator('.msg-highlight');
      await menu(bob, convoy, 'Save');
      await toast(bob, 'Message saved');
      await convoy.hover();
      await convoy.getByRole('button', { name: 'More actions' }).click();
      await bob.getByRole('menuitem', { name: 'Remove from saved' }).waitFor();
      await bob.keyboard.press('Escape');
      await menu(bob, msg(bob, 'Copy that, at the gate'), 'Save');
      await openConversation(bob, w.base, dm);
      await bob.locator('#sidebar').getByRole('button', { name: 'Saved', exact: true }).click();
      const panel = bob.locator('.side-panel[data-panel=saved]');
      await eventually(async () => (await panel.locator('.saved-item').count()) === 2, 'two saved messages');
      const first = panel.locator('.saved-item').first();
      assert((await first.locator('.saved-text').textContent()) === 'Copy that, at the gate', 'newest saved first');
      assert((await first.locator('.result-where').textContent()) === '#ops', 'with its channel');
      assert((await first.locator('time').textContent()).length > 4, 'and its time');
      await shot(bob, 'saved-messages');
      await panel.locator('.saved-item', { hasText: 'Convoy' }).getByRole('button', { name: 'Jump to the message in #ops' }).click();
      await bob.waitForURL(new RegExp(`/c/${ops}\\?m=\\d+$`));
      await bob.locator('.msg-highlight', { hasText: 'Convoy leaves at 07:00' }).waitFor();
      await panel.locator('.saved-item', { hasText: 'Convoy' }).getByRole('button', { name: 'Remove the message in #ops from saved' }).click();
      await eventually(async () => (await panel.locator('.saved-item').count()) === 1, 'removed from the list');
      const saved = await api(bob, 'GET', '/saved');
      assert(saved.body.length === 1 && saved.body[0].message.body === 'Copy that, at the gate', 'the server agrees');
      await panel.getByRole('button', { name: 'Close' }).click();

      // Copy link: alice copies the link of the answer; bob opens it (a member), highlighted.
      await openConversation(alice, w.base, ops);
      const target = msg(alice, 'Copy that, at the gate');
      await target.scrollIntoViewIfNeeded();
      await menu(alice, target, 'Copy link');
      await toast(alice, 'Link copied');
      const link = await alice.evaluate(() => navigator.clipboard.readText());
      assert(new RegExp(`^${w.base}/c/${ops}\\?m=\\d+$`).test(link), `the link: ${link}`);
      await bob.goto(w.base); // away first
      await bob.locator('.channel .messages:not(.messages-loading)').waitFor();
      await bob.goto(link);
      await bob.locator('.msg-highlight', { hasText: 'Copy that, at the gate' }).waitFor();
      // A link into the private channel: not for bob.
      await openConversation(alice, w.base, secret);
      await menu(alice, msg(alice, 'Secret route'), 'Copy link');
      const secretLink = await alice.evaluate(() => navigator.clipboard.readText());
      await bob.goto(secretLink);
      await toast(bob, 'Message not found');
      // A message link in a message opens in the app.
      await openConversation(bob, w.base, dm);
      await say(bob, `see ${link}`);
      await msg(bob, `see ${link}`).locator('a.md-link').click();
      await bob.waitForURL(link);
      await bob.locator('.msg-highlight', { hasText: 'Copy that, at the gate' }).waitFor();
      assert(bob.context().pages().length === 1, 'no new tab');
    } finally {
      await w.close();
    }
  });

  // ---- (b) ------------------------------------------------------------------------

  /** Records about `ms` of the fake microphone with the composer's button and sends it. */
  async function recordVoice(page, ms, { send = 'Send', record = 'Record a voice message' } = {}) {
    const before = await page.locator('.channel .voice').count();
    await page.locator('.channel').getByRole('button', { name: record }).click();
    const bar = page.locator('.channel .voice-rec');
    await bar.waitFor();
    await page.locator('.channel .voice-rec[data-recording=true]').waitFor();
    await page.waitForTimeout(ms);
    await bar.getByRole('button', { name: send, exact: true }).click();
    await bar.waitFor({ state: 'detached' });
    await eventually(async () => (await page.locator('.channel .voice').count()) === before + 1, 'the voice message is sent', 20_000);
  }

  await scenario(names[1], async () => {
    const w = await world(['alice', 'bob']);
    try {
      const { alice, bob } = w.pages;
      const dm = (await api(alice, 'POST', '/dms', { user_ids: [w.ids.bob] })).body.id;
      await openConversation(alice, w.base, dm);
      await openConversation(bob, w.base, dm);

      // Recording: a timer and a live level meter; Escape cancels.
      await alice.locator('.channel').getByRole('button', { name: 'Record a voice message' }).click();
      await alice.locator('.channel .voice-rec[data-recording=true]').waitFor();
      await eventually(async () => (await alice.locator('.voice-rec-time').textContent()) === '0:01', 'the timer runs', 5000);
      const levels = [];
      for (let i = 0; i < 20; i++) {
        levels.push(Number((await alice.locator('.voice-level').getAttribute('data-level')) ?? 0));
        await alice.waitForTimeout(50);
      }
      assert(Math.max(...levels) > 0, `the meter moves: ${levels}`);
      await alice.keyboard.press('Escape');
      await alice.locator('.channel .voice-rec').waitFor({ state: 'detached' });
      await alice.waitForTimeout(300);
      assert((await alice.locator('.channel .voice').count()) === 0, 'a cancelled recording is not sent');

      // Two voice messages, about 2 s each.
      await recordVoice(alice, 2100);
      await recordVoice(alice, 1600);
      const stored = (await api(alice, 'GET', `/channels/${dm}/messages?limit=10`)).body.filter((m) => m.files?.length);
      assert(stored.length === 2, `two messages with files: ${JSON.stringify(stored)}`);
      const f = stored[0].files[0];
      assert(f.voice === true && f.kind === 'audio' && f.mime === 'audio/webm', `stored as a voice message: ${JSON.stringify(f)}`);
      assert(Array.isArray(f.waveform) && f.waveform.length === 64 && Math.max(...f.waveform) === 255, `waveform: ${f.waveform}`);
      assert(f.duration_ms >= 1500 && f.duration_ms <= 3500, `duration ${f.duration_ms}`);

      // Bob: the player shows the duration; playing advances; at the end the next one starts.
      const players = bob.locator('.channel .voice');
      await eventually(async () => (await players.count()) === 2, 'bob has both voice messages');
      const first = players.first();
      const duration = Number(await first.getAttribute('data-duration'));
      assert(duration >= 1000 && duration <= 4000, `duration between 1 and 4 s: ${duration}`);
      assert(/^0:0[1-4]$/.test((await first.locator('.voice-time').textContent()) ?? ''), 'shown as 0:0N');
      assert((await first.locator('.voice-bar').count()) === 64, 'the waveform');
      await shot(bob, 'voice-message');
      await first.getByRole('button', { name: 'Play the voice message' }).click();
      await eventually(async () => Number(await first.getAttribute('data-position')) > 300, 'playing advances', 5000);
      assert((await first.locator('.voice-bar-played').count()) > 0, 'progress on the waveform');
      assert(/^0:0\d \/ 0:0\d$/.test((await first.locator('.voice-time').textContent()) ?? ''), 'elapsed / total');
      // 2× for the rest; the second message starts by itself when the first ends.
      await first.getByRole('button', { name: 'Playback speed: 1×' }).click();
      await first.getByRole('button', { name: 'Playback speed: 1.5×' }).click();
      assert((await players.nth(1).locator('.voice-speed').textContent()) === '2×', 'one speed for all');
      await eventually(async () => (await players.nth(1).getAttribute('data-playing')) === 'true', 'the next voice message plays', 8000);
      assert((await first.getAttribute('data-playing')) === 'false', 'the first one stopped');
      await players.nth(1).getByRole('button', { name: 'Pause' }).click();

      // Phones: hold to talk; sliding left cancels, letting go sends.
      const phone = await newUserPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      try {
        await phone.context().grantPermissions(['microphone'], { origin: w.base });
        await signIn(phone, w.base, 'alice', PASS('alice'));
        await openConversation(phone, w.base, dm);
        const coarse = await phone.evaluate(() => matchMedia('(pointer: coarse)').matches);
        if (!coarse) {
          console.log('  (no coarse pointer in this browser: hold-to-talk not checked)');
        } else {
          const mic = phone.locator('.channel .composer-mic');
          const count = await phone.locator('.channel .voice').count();
          const b = await mic.boundingBox();
          const x = b.x + b.width / 2;
          const y = b.y + b.height / 2;
          await phone.mouse.move(x, y);
          await phone.mouse.down();
          await phone.locator('.channel .voice-rec[data-recording=true]').waitFor();
          await phone.locator('.voice-rec-hint', { hasText: 'Slide left to cancel' }).waitFor();
          await phone.waitForTimeout(800);
          await phone.mouse.move(x - 120, y, { steps: 5 });
          await phone.locator('.voice-rec-hint', { hasText: 'Release to cancel' }).waitFor();
          await phone.mouse.up();
          await phone.locator('.channel .voice-rec').waitFor({ state: 'detached' });
          await phone.waitForTimeout(500);
          assert((await phone.locator('.channel .voice').count()) === count, 'slid away: nothing sent');
          await phone.mouse.move(x, y);
          await phone.mouse.down();
          await phone.locator('.channel .voice-rec[data-recording=true]').waitFor();
          await phone.waitForTimeout(1500);
          await phone.mouse.up();
          await eventually(async () => (await phone.locator('.channel .voice').count()) === count + 1, 'held and let go: sent', 20_000);
        }
      } finally {
        await phone.context().close();
      }
    } finally {
      await w.close();
    }
  });

  // ---- (c) ------------------------------------------------------------------------

  await scenario(names[2], async () => {
    const w = await world(['boris', 'vera'], { boris: { locale: 'ru-RU' } });
    try {
      const { boris, vera } = w.pages;
      const ch = (await api(vera, 'POST', '/channels', { name: 'sklad' })).body.id;
      await api(boris, 'POST', `/channels/${ch}/join`);
      await api(vera, 'POST', `/channels/${ch}/messages`, { body: 'Привет со склада' });
      await openConversation(boris, w.base, ch);
      const m = msg(boris, 'Привет со склада');
      await m.hover();
      await m.getByRole('button', { name: 'Другие действия' }).click();
      const items = await boris.getByRole('menuitem').allTextContents();
      assert(
        JSON.stringify(items) === JSON.stringify(['Ответить с цитатой', 'Переслать', 'Сохранить', 'Копировать ссылку']),
        `menu in Russian: ${items}`,
      );
      await boris.getByRole('menuitem', { name: 'Ответить с цитатой' }).click();
      await boris.locator('.composer-quote', { hasText: 'Ответ на' }).getByRole('button', { name: 'Убрать цитату' }).click();
      await m.hover();
      await m.getByRole('button', { name: 'Другие действия' }).click();
      await boris.getByRole('menuitem', { name: 'Сохранить' }).click();
      await toast(boris, 'Сообщение сохранено');
      await boris.locator('#sidebar').getByRole('button', { name: 'Сохранённое' }).click();
      await boris.locator('.side-panel[data-panel=saved] .saved-item').getByRole('button', { name: 'Перейти' }).waitFor();
      await boris.locator('.side-panel').getByRole('button', { name: 'Закрыть' }).click();

      // The voice UI: recording, then the player.
      await boris.locator('.channel').getByRole('button', { name: 'Записать голосовое сообщение' }).click();
      const bar = boris.locator('.channel .voice-rec');
      await bar.getByRole('button', { name: 'Отменить запись' }).waitFor();
      await bar.getByText('Escape — отменить').waitFor();
      await boris.keyboard.press('Escape');
      await bar.waitFor({ state: 'detached' });
      await recordVoice(boris, 1500, { send: 'Отправить', record: 'Записать голосовое сообщение' });
      const player = boris.locator('.channel .voice').last();
      await player.getByRole('button', { name: 'Воспроизвести голосовое сообщение' }).waitFor();
      await player.getByRole('button', { name: 'Скорость воспроизведения: 1×' }).waitFor();
      await player.getByRole('slider', { name: 'Позиция в голосовом сообщении' }).waitFor();
      // The thread composer's "also send to the channel".
      await m.hover();
      await m.getByRole('button', { name: 'Ответить в ветке' }).click();
      await boris.locator('.side-panel').getByText('Также отправить в #sklad').waitFor();
    } finally {
      await w.close();
    }
  });
}
