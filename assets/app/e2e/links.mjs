// End-to-end scenario of linked sites (issue 19), run by run.mjs (`E2E_ONLY='linked sites'`
// runs only it). It starts two servers of its own, "HQ" and "Field", on loopback.
//
// The administrators pair the sites in the admin page's "Linked sites" tab (HQ makes the
// invitation, Field accepts it after comparing the fingerprint); HQ's administrator creates
// #ops and shares it with Field in the channel's details; Anna (HQ) and Felix (Field) join it
// and talk, each seeing the other as "Name · Site". HQ's server stops: Field's header turns into
// the "link down" warning and Felix still posts; HQ comes back on the same addresses: Anna's
// page reconnects by itself and gets Felix's message, and Field's header is back to normal.

import { createServer } from 'node:net';

const PASS = (name) => `${name}-pass-12345`;
/** The channel header's link state is asked every 15 s: a state change shows within ~20 s. */
const LINK_STATE_WAIT = 30_000;

/** `n` distinct free TCP ports on 127.0.0.1 (throwaway sockets held open together, then closed). */
async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

export async function linkScenarios(h) {
  const { scenario, wants, assert, eventually, startServer, stopServer, addUser, tempDir, newUserPage, signIn, api, shot, openChannel, send, messageByText } = h;
  const name = 'linked sites: people on two sites chat in a shared channel and see the link go down and come back';
  if (!wants(name)) return;

  await scenario(name, async () => {
    const hqData = tempDir('links-hq');
    const fieldData = tempDir('links-field');
    addUser(hqData, 'hqadmin', PASS('hqadmin'), true, 'Hanna Admin');
    addUser(hqData, 'anna', PASS('anna'), false, 'Anna Berg');
    addUser(fieldData, 'fieldadmin', PASS('fieldadmin'), true, 'Fred Admin');
    addUser(fieldData, 'felix', PASS('felix'), false, 'Felix Moreau');

    // HQ is restarted below and Field must find it again: its HTTPS and link ports are fixed.
    const [hqPort, hqLinkPort] = await freePorts(2);
    const hqOptions = {
      https: `127.0.0.1:${hqPort}`,
      env: { OUTPOST_SITE_NAME: 'HQ', OUTPOST_LINKS_LISTEN: `127.0.0.1:${hqLinkPort}` },
    };
    const fieldOptions = { env: { OUTPOST_SITE_NAME: 'Field', OUTPOST_LINKS_LISTEN: '127.0.0.1:0' } };

    /**
     * HQ's header for #ops: "Shared with Field", connected. The listening site counts a link as
     * connected between the other site's pulls too (a few milliseconds apart), so the header's
     * request right after sharing or joining must not land on "link down".
     */
    const hqPillConnected = async (p, when) => {
      const connected = p.getByRole('button', { name: 'Shared with Field', exact: true });
      const down = p.getByRole('button', { name: 'Shared with Field · link down', exact: true });
      await connected.or(down).waitFor();
      assert((await down.count()) === 0, `HQ's header said “link down” for a connected link (${when})`);
      assert((await connected.getAttribute('data-look')) === 'connected', 'HQ’s header: connected');
    };

    let hq = null;
    let field = null;
    const pages = [];
    const page = async () => {
      const p = await newUserPage();
      pages.push(p);
      return p;
    };
    try {
      hq = await startServer(hqData, hqOptions);
      field = await startServer(fieldData, fieldOptions);
      assert(hq.base === `https://127.0.0.1:${hqPort}`, `HQ on its fixed port: ${hq.base}`);

      // ---- 1. Pairing, in the admin pages ---------------------------------------------------
      const hqAdmin = await page();
      const fieldAdmin = await page();
      await signIn(hqAdmin, hq.base, 'hqadmin', PASS('hqadmin'));
      await signIn(fieldAdmin, field.base, 'fieldadmin', PASS('fieldadmin'));

      await hqAdmin.goto(`${hq.base}/admin/links`);
      await hqAdmin.getByRole('heading', { name: 'Linked sites' }).waitFor();
      await hqAdmin.getByText('No linked sites yet.').waitFor();
      await hqAdmin.getByRole('button', { name: 'Create invitation' }).click();
      const codeField = hqAdmin.getByRole('region', { name: 'Invite another site' }).getByLabel('Invitation code', { exact: true });
      await codeField.waitFor();
      const code = await codeField.inputValue();
      assert(code.startsWith('outpost-link:'), `an invitation code: ${code.slice(0, 40)}`);
      const invite = hqAdmin.locator('.link-invite');
      assert((await invite.locator('dd').first().textContent()) === 'HQ', 'the invitation names this site');
      await invite.getByText(`127.0.0.1:${hqLinkPort}`).waitFor();
      const hqFingerprint = (await invite.locator('.fingerprint-line').allTextContents()).join(':');
      assert(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(hqFingerprint), `HQ shows its CA fingerprint: ${hqFingerprint}`);
      await shot(hqAdmin, 'links-invite');

      await fieldAdmin.goto(`${field.base}/admin/links`);
      const accept = fieldAdmin.getByRole('region', { name: 'Accept an invitation' });
      await accept.getByLabel('Invitation code', { exact: true }).fill(code);
      await accept.getByRole('button', { name: 'Continue' }).click();
      const confirm = accept.locator('.link-confirm');
      await confirm.getByRole('heading', { name: 'Check the other site' }).waitFor();
      assert((await confirm.locator('.link-confirm-name').textContent()) === 'HQ', 'the invitation is from HQ');
      const shownFingerprint = (await confirm.locator('.fingerprint-line').allTextContents()).join(':');
      assert(shownFingerprint === hqFingerprint, `Field shows the fingerprint HQ read out: ${shownFingerprint}`);
      const linkButton = fieldAdmin.getByRole('button', { name: 'Link the sites' });
      assert(await linkButton.isDisabled(), 'linking waits for the confirmation');
      await fieldAdmin.getByRole('checkbox', { name: 'The fingerprint matches the one the other administrator read out' }).check();
      await shot(fieldAdmin, 'links-accept-confirm');
      await linkButton.click();
      await accept.getByText('Linked with HQ.').waitFor();

      // Both list the link, connected (asked through the API until the dialer is through, then shown).
      const linkRow = (p, site) => p.locator('.admin-link-table tbody tr', { hasText: site });
      for (const [p, site] of [[fieldAdmin, 'HQ'], [hqAdmin, 'Field']]) {
        await eventually(
          async () => (await api(p, 'GET', '/admin/links')).body?.some?.((l) => l.name === site && l.state === 'connected'),
          `${site} listed as connected`,
          LINK_STATE_WAIT,
        );
        await p.reload();
        const row = linkRow(p, site);
        await row.waitFor();
        assert((await row.getAttribute('data-state')) === 'connected', `${site}: data-state connected`);
        assert((await row.locator('.link-state').textContent()) === 'Connected', `${site}: shown as “Connected”`);
      }
      await shot(hqAdmin, 'links-admin');

      // ---- 2. HQ creates #ops and shares it with Field (channel details) -----------------------
      await hqAdmin.goto(`${hq.base}/`);
      await hqAdmin.getByRole('button', { name: 'Create a channel' }).first().click();
      await hqAdmin.getByLabel('Name', { exact: true }).fill('ops');
      await hqAdmin.getByRole('button', { name: 'Create', exact: true }).click();
      await hqAdmin.locator('.channel-title', { hasText: 'ops' }).waitFor();
      await hqAdmin.getByRole('button', { name: 'Details' }).click();
      const details = hqAdmin.getByRole('dialog');
      const linksPart = details.locator('section.channel-links');
      await linksPart.getByText('Not shared with any linked site.').waitFor();
      assert((await linksPart.getByLabel('Share with').locator('option:checked').textContent()) === 'Field', 'Field offered');
      await linksPart.getByRole('button', { name: 'Share', exact: true }).click();
      await linksPart.getByText('#ops is now shared with Field.').waitFor();
      await linksPart.locator('.channel-link-row', { hasText: 'Field' }).waitFor();
      await hqAdmin.keyboard.press('Escape');
      await hqPillConnected(hqAdmin, 'after sharing');

      // Anna joins on HQ; #ops reaches Field, where Felix finds it in "Browse channels".
      const anna = await page();
      const felix = await page();
      await signIn(anna, hq.base, 'anna', PASS('anna'));
      await signIn(felix, field.base, 'felix', PASS('felix'));
      const join = async (p) => {
        await p.getByRole('button', { name: 'Browse channels' }).first().click();
        await p.getByRole('button', { name: 'Join ops' }).click();
        await p.locator('.channel-title', { hasText: 'ops' }).waitFor();
      };
      await join(anna);
      await eventually(
        async () => (await api(felix, 'GET', '/channels/browse')).body?.some?.((c) => c.name === 'ops'),
        '#ops reached Field',
        LINK_STATE_WAIT,
      );
      await join(felix);
      await hqAdmin.context().close();
      await fieldAdmin.context().close();

      // ---- 3, 4. Each opens #ops; Anna writes, Felix answers ---------------------------------------
      await openChannel(anna, 'ops');
      await openChannel(felix, 'ops');
      const pill = (p) => p.locator('.channel .link-indicator');
      await hqPillConnected(anna, 'Anna opened #ops');
      await felix.getByRole('button', { name: 'Shared from HQ', exact: true }).waitFor();
      assert((await pill(felix).getAttribute('data-look')) === 'connected', 'Field’s header: connected');

      await send(anna, 'Generator 2 is back online, fuel at 80%');
      const atField = messageByText(felix, 'Generator 2 is back online');
      await atField.waitFor();
      // (A person of another site is new to Felix's people list: the app asks for it once she writes.)
      const author = (msg) => msg.locator('.msg-author').textContent();
      await eventually(async () => (await author(atField)) === 'Anna Berg · HQ', 'Felix sees Anna with her site').catch(async (err) => {
        throw new Error(`${err.message}: shown as “${await author(atField)}”`);
      });
      await send(felix, 'Copy that, we refuel the trucks at noon');
      const atHq = messageByText(anna, 'we refuel the trucks');
      await atHq.waitFor();
      await eventually(async () => (await author(atHq)) === 'Felix Moreau · Field', 'Anna sees Felix with his site').catch(async (err) => {
        throw new Error(`${err.message}: shown as “${await author(atHq)}”`);
      });
      assert((await author(messageByText(felix, 'we refuel the trucks'))) === 'Felix Moreau', 'his own name, without a site');
      await shot(anna, 'links-chat-hq');
      await shot(felix, 'links-chat-field');

      // ---- 5. HQ's server stops: the link is down -------------------------------------------------
      await stopServer(hq); // SIGTERM to the child's PID, then waits for its exit
      await eventually(async () => (await anna.locator('.conn').getAttribute('data-connection')) !== 'connected', 'Anna’s page sees HQ gone');
      const down = felix.getByRole('button', { name: 'Shared from HQ · link down', exact: true });
      await down.waitFor({ timeout: LINK_STATE_WAIT });
      assert((await down.locator('.link-indicator-warn').textContent()) === 'link down', 'the warning says “link down”');
      assert((await down.getAttribute('data-look')) === 'down', 'the pill looks down');
      await send(felix, 'Road to the north camp is flooded');
      await messageByText(felix, 'Road to the north camp is flooded').waitFor();
      assert((await felix.locator('.msg-pending').count()) === 0, 'posted on Field, nothing queued');
      await shot(felix, 'links-down-field');

      // ---- 6. HQ comes back on the same addresses ----------------------------------------------------
      hq = await startServer(hqData, hqOptions);
      assert(hq.base === `https://127.0.0.1:${hqPort}`, 'HQ back on the same address');
      // Anna's page reconnects by itself (no reload) and gets what Field posted meanwhile.
      await eventually(async () => (await anna.locator('.conn').getAttribute('data-connection')) === 'connected', 'Anna’s page reconnected', LINK_STATE_WAIT);
      const late = messageByText(anna, 'Road to the north camp is flooded');
      await late.waitFor({ timeout: LINK_STATE_WAIT });
      assert((await late.count()) === 1, 'shown once');
      const opsAtHq = Number(await anna.locator('.channel').getAttribute('data-channel-id'));
      const stored = await api(anna, 'GET', `/channels/${opsAtHq}/messages?limit=50`);
      assert(stored.body.filter((m) => m.body.includes('north camp')).length === 1, 'stored once at HQ');
      const back = felix.getByRole('button', { name: 'Shared from HQ', exact: true });
      await back.waitFor({ timeout: LINK_STATE_WAIT });
      assert((await back.getAttribute('data-look')) === 'connected', 'Field’s header is back to connected');
      assert((await felix.locator('.link-indicator-warn').count()) === 0, 'no warning any more');
      await hqPillConnected(anna, 'after HQ restarted');
      // And the link still carries new messages both ways.
      await send(anna, 'Noted, sending the pump');
      await messageByText(felix, 'Noted, sending the pump').waitFor();
      await shot(anna, 'links-back-hq');
      await shot(felix, 'links-back-field');
    } finally {
      for (const p of pages) await p.context().close().catch(() => {});
      await stopServer(hq);
      await stopServer(field);
    }
  });
}
