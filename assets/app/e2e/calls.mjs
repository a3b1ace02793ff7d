// End-to-end scenarios of voice calls, run by run.mjs (`E2E_ONLY=call` runs only these).
//
// Every participant is its own browser context whose microphone is an oscillator at a tone
// unique to that person, so the receiving side can tell whose audio arrived (an AnalyserNode
// on the remote track peaks at the sender's tone). Calls go through the server's SFU on
// 127.0.0.1 (ephemeral UDP port, no STUN/TURN). The server here rings for RING_SECS.

const RING_SECS = 15;
const CALL_T = 30_000;
const TONES = { alice: 440, bob: 660, carol: 880 };

/** Replaces getUserMedia({audio}) with an oscillator at `tone` Hz (video stays the fake camera). */
function fakeMicrophone(tone) {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = async (constraints) => {
    if (constraints && constraints.audio && !constraints.video) {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = tone;
      const gain = ctx.createGain();
      gain.gain.value = 0.4;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      await ctx.resume().catch(() => {});
      window.__fakeMic = { ctx, osc, gain, tone };
      return dest.stream;
    }
    return original(constraints);
  };
}

/** A browser that refuses the microphone (as after the user blocked it for the site). */
function blockedMicrophone() {
  const md = navigator.mediaDevices;
  if (md) md.getUserMedia = async () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
}

/** A network that cannot reach the media server: every offered candidate points at a closed port. */
function unreachableMedia() {
  const original = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (d) {
    const sdp = d?.sdp?.replace(/^(a=candidate:\S+ \d+ (?:udp|tcp) \d+ \S+ )\d+/gim, '$19');
    return original.call(this, sdp ? { type: d.type, sdp } : d);
  };
}

/** In the page: the media connection and every inbound audio line, with its sender. */
function callStats() {
  return (async () => {
    const calls = window.__outpost?.call;
    const pc = calls?.pc;
    if (!pc) return { pc: null, active: calls?.state.active?.phase ?? null, notice: calls?.state.notice?.key ?? null };
    const byMid = {};
    for (const r of calls.remoteTracks()) byMid[r.mid] = r.userId;
    const inbound = [];
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        inbound.push({
          mid: r.mid ?? null,
          user: r.mid != null ? (byMid[r.mid] ?? null) : null,
          packets: r.packetsReceived ?? 0,
          bytes: r.bytesReceived ?? 0,
          lost: r.packetsLost ?? 0,
          energy: r.totalAudioEnergy ?? 0,
        });
      }
    });
    return {
      pc: pc.connectionState,
      ice: pc.iceConnectionState,
      active: calls.state.active?.phase ?? null,
      notice: calls.state.notice?.key ?? null,
      inbound,
    };
  })();
}

/** In the page: the dominant frequency of each remote microphone track, by sender id. */
function remoteTones() {
  return (async () => {
    const tracks = window.__outpost.call.remoteTracks().filter((t) => t.source === 'mic');
    const out = {};
    for (const t of tracks) {
      const ctx = new AudioContext();
      await ctx.resume().catch(() => {});
      const src = ctx.createMediaStreamSource(new MediaStream([t.track]));
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 4096;
      analyser.smoothingTimeConstant = 0.5;
      src.connect(analyser);
      await new Promise((r) => setTimeout(r, 800));
      const data = new Float32Array(analyser.frequencyBinCount);
      analyser.getFloatFrequencyData(data);
      let best = 1;
      for (let i = 2; i < data.length; i++) if (data[i] > data[best]) best = i;
      out[t.userId] = { hz: Math.round((best * ctx.sampleRate) / analyser.fftSize), db: Math.round(data[best]) };
      await ctx.close();
    }
    return out;
  })();
}

export async function callScenarios(h) {
  const { scenario, wants, assert, eventually, startServer, stopServer, addUser, tempDir, newUserPage, signIn, api, shot, sidebarLink } = h;
  const names = [
    'call: a 1:1 call rings, is answered and carries both tones',
    'call: three people in a channel hear each other',
    'call: a muted or quiet participant is not forwarded, and resumes without loss',
    'call: a camera and a shared screen reach the others, in the video grid',
    'call: when one leaves, the server stops their line',
    'call: a non-member cannot join a private channel call',
    'call: without a microphone one can still listen, and is told why',
    'call: an unreachable media port is reported plainly',
    'call: records in the conversation, missed and declined calls',
    'call: a server restart ends the call and says so',
  ];
  if (!names.some(wants)) return;

  let server = null;
  let base = '';
  const pages = {};
  const frames = {};
  /** Signs `name` in, in a new context; `key` names the page when one person has two. */
  const open = async (name, { key = name, init = [] } = {}) => {
    const page = await newUserPage();
    if (TONES[name]) await page.addInitScript(fakeMicrophone, TONES[name]);
    for (const script of init) await page.addInitScript(script);
    frames[key] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', (f) => {
        try {
          const j = JSON.parse(String(f.payload));
          if (String(j.type).startsWith('call')) frames[key].push(j.type === 'call_ended' ? `call_ended:${j.reason}` : j.type);
        } catch {
          // not JSON
        }
      }),
    );
    await signIn(page, base, name, `${name}-pass-12345`);
    pages[key] = page;
    return page;
  };
  const stats = (page) => page.evaluate(callStats);
  const describe = async (who) => `${who}: ${JSON.stringify(await stats(pages[who]))} frames=${frames[who].slice(-12).join(',')}`;

  /** Waits until `who` is connected with one growing inbound audio line from each of `from`. */
  async function hears(who, from, timeout = CALL_T) {
    const page = pages[who];
    const ids = from.map((n) => userIds[n]).sort();
    await eventually(async () => {
      const a = await stats(page);
      if (a.pc !== 'connected') throw new Error(await describe(who));
      await page.waitForTimeout(1200);
      const b = await stats(page);
      const users = b.inbound.map((x) => x.user).sort();
      if (JSON.stringify(users) !== JSON.stringify(ids)) throw new Error(`${await describe(who)} wanted ${ids}`);
      for (const x of b.inbound) {
        const before = a.inbound.find((y) => y.mid === x.mid);
        if (!before || x.packets <= before.packets || x.bytes <= before.bytes) throw new Error(`not growing: ${await describe(who)}`);
      }
      return true;
    }, `${who} hears ${from.join(', ')}`, timeout);
  }

  /** `who`'s inbound audio line from `sender` now (packets, bytes, lost). */
  async function lineFrom(who, sender) {
    const s = await stats(pages[who]);
    const line = s.inbound.find((x) => x.user === userIds[sender]);
    if (!line) throw new Error(`${who} has no line from ${sender}: ${await describe(who)}`);
    return line;
  }

  /** Packets received by `who` from `sender` now. */
  async function packetsFrom(who, sender) {
    return (await lineFrom(who, sender)).packets;
  }

  async function tonesAt(who, expected) {
    const tones = await pages[who].evaluate(remoteTones);
    for (const [sender, hz] of Object.entries(expected)) {
      const got = tones[userIds[sender]];
      assert(got && Math.abs(got.hz - hz) <= 15, `${who} hears ${sender} at ${hz} Hz: ${JSON.stringify(tones)}`);
    }
    return tones;
  }

  const userIds = {};
  let dmAliceBob = 0;
  let dmAliceCarol = 0;
  let dmBobCarol = 0;
  let opsId = 0;
  try {
    // Setup (every call scenario depends on it): a failure fails the first wanted scenario.
    const setup = async () => {
      const data = tempDir('calls');
      for (const name of ['alice', 'bob', 'carol', 'dave']) addUser(data, name, `${name}-pass-12345`);
      server = await startServer(data, { env: { OUTPOST_CALLS_RING_SECS: String(RING_SECS) } });
      base = server.base;
      await open('alice');
      await open('bob');
      await open('carol');
      const people = await api(pages.alice, 'GET', '/people');
      for (const p of people.body) userIds[p.username] = p.id;
      dmAliceBob = (await api(pages.alice, 'POST', '/dms', { user_ids: [userIds.bob] })).body.id;
      dmAliceCarol = (await api(pages.alice, 'POST', '/dms', { user_ids: [userIds.carol] })).body.id;
      dmBobCarol = (await api(pages.bob, 'POST', '/dms', { user_ids: [userIds.carol] })).body.id;
      const ops = await api(pages.alice, 'POST', '/channels', { name: 'ops', private: true });
      opsId = ops.body.id;
      for (const n of ['bob', 'carol']) {
        const r = await api(pages.alice, 'POST', `/channels/${opsId}/members`, { user_id: userIds[n] });
        assert(r.status < 300, `add ${n} to ops: ${r.status}`);
      }
      assert(dmAliceBob > 0 && dmAliceCarol > 0 && dmBobCarol > 0 && opsId > 0, 'conversations made');
    };
    try {
      await setup();
    } catch (err) {
      await scenario(names.find(wants), () => {
        throw new Error(`call setup failed: ${err?.stack ?? err}`);
      });
      return;
    }

    await scenario(names[0], async () => {
      const { alice, bob } = pages;
      await alice.goto(`${base}/c/${dmAliceBob}`);
      await bob.goto(`${base}/c/${dmAliceBob}`);
      await alice.getByRole('button', { name: 'Start a call in bob' }).click();
      const ring = bob.locator('.call-incoming');
      await ring.waitFor({ timeout: CALL_T });
      assert((await ring.locator('.call-incoming-caller').textContent()) === 'alice', 'the caller is named');
      await bob.getByText('Direct call').waitFor();
      await shot(bob, 'call-incoming');
      await ring.getByRole('button', { name: 'Accept' }).click();
      await ring.waitFor({ state: 'detached' });
      await hears('alice', ['bob']);
      await hears('bob', ['alice']);
      // Chromium follows the server's a=ptime:40: 25 packets a second, not 50.
      const p0 = await packetsFrom('bob', 'alice');
      await bob.waitForTimeout(2000);
      const pps = ((await packetsFrom('bob', 'alice')) - p0) / 2;
      assert(pps >= 20 && pps <= 30, `alice sends 40 ms audio packets: ${pps} packets/s`);
      await tonesAt('bob', { alice: TONES.alice });
      await tonesAt('alice', { bob: TONES.bob });
      // The call bar: both people, a running clock, and the header says "In call".
      const bar = alice.locator('.call-bar');
      await bar.locator(`.call-person[data-user-id="${userIds.bob}"]`).waitFor();
      await eventually(async () => /^\d+:\d\d$/.test((await bar.locator('.call-status').textContent()) ?? ''), 'duration shown');
      await alice.getByTestId('call-here').waitFor();
      await shot(alice, 'call-bar');
      // The bar stays while browsing other conversations, and leads back.
      await sidebarLink(alice, 'ops').click();
      await alice.locator('.channel-title', { hasText: 'ops' }).waitFor();
      await alice.locator('.call-bar').waitFor();
      await hears('alice', ['bob'], 5000);
      await alice.locator('.call-bar .call-where').click();
      await alice.locator('.channel-title', { hasText: 'bob' }).waitFor();
      // One side hangs up: a one-to-one call is over for both, as on a phone, with a record of
      // its length for both.
      await alice.getByRole('button', { name: 'Leave the call' }).click();
      await bob.locator('.call-bar').waitFor({ state: 'detached', timeout: CALL_T });
      for (const p of [alice, bob]) {
        const record = p.locator('.msg-call .msg-call-text').last();
        await record.waitFor({ timeout: CALL_T });
        assert(/^Call · \d+:\d\d$/.test((await record.textContent()) ?? ''), `call record: ${await record.textContent()}`);
      }
    });

    await scenario(names[1], async () => {
      const { alice, bob, carol } = pages;
      for (const p of [alice, bob, carol]) await p.goto(`${base}/c/${opsId}`);
      await alice.getByRole('button', { name: 'Start a call in ops' }).click();
      // Both answer at once: one after the other could outlast the ring on a slow machine
      // (once someone answers, the others' ringing stops after RING_SECS).
      await Promise.all([bob, carol].map(async (p) => {
        const ring = p.locator('.call-incoming');
        await ring.waitFor({ timeout: CALL_T });
        await p.getByText('Call in #ops').waitFor();
        await ring.getByRole('button', { name: 'Accept' }).click();
      }));
      await hears('alice', ['bob', 'carol']);
      await hears('bob', ['alice', 'carol']);
      await hears('carol', ['alice', 'bob']);
      await tonesAt('alice', { bob: TONES.bob, carol: TONES.carol });
      await tonesAt('carol', { alice: TONES.alice, bob: TONES.bob });
      await alice.locator('.call-bar .call-person').nth(2).waitFor();
      assert((await alice.locator('.call-bar .call-person').count()) === 3, 'three people in the bar');
      await shot(alice, 'call-three');
      // Device settings list the (fake) microphones and cameras by name.
      await alice.getByRole('button', { name: 'Call devices' }).click();
      const dialog = alice.getByRole('dialog', { name: 'Call devices' });
      await dialog.waitFor();
      await eventually(async () => (await dialog.getByLabel('Microphone').locator('option').count()) > 1, 'microphones listed');
      await eventually(async () => (await dialog.getByLabel('Camera').locator('option').count()) > 1, 'cameras listed');
      await shot(alice, 'call-devices');
      await alice.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    });

    await scenario(names[2], async () => {
      const { alice, bob, carol } = pages;
      await carol.getByRole('button', { name: 'Mute', exact: true }).click();
      await alice.locator(`.call-person[data-user-id="${userIds.carol}"][data-muted="true"]`).waitFor({ timeout: CALL_T });
      for (const who of ['alice', 'bob']) {
        await eventually(async () => {
          const a = await packetsFrom(who, 'carol');
          await pages[who].waitForTimeout(2000);
          const b = await packetsFrom(who, 'carol');
          if (a !== b) throw new Error(`${who} still receives carol: ${a} → ${b}`);
          return true;
        }, `${who} receives nothing from muted carol`, CALL_T);
      }
      // Bob's stream to alice keeps flowing meanwhile.
      const a = await packetsFrom('alice', 'bob');
      await alice.waitForTimeout(1500);
      assert((await packetsFrom('alice', 'bob')) > a, 'bob still reaches alice');
      await shot(alice, 'call-muted');
      await carol.getByRole('button', { name: 'Unmute' }).click();
      await alice.locator(`.call-person[data-user-id="${userIds.carol}"][data-muted="false"]`).waitFor({ timeout: CALL_T });
      for (const who of ['alice', 'bob']) {
        await eventually(async () => {
          const x = await packetsFrom(who, 'carol');
          await pages[who].waitForTimeout(1000);
          return (await packetsFrom(who, 'carol')) > x;
        }, `${who} receives carol again`, CALL_T);
      }
      // Carol's room goes quiet without muting: after a short hangover the server holds her
      // packets back, as a browser's DTX would; when she speaks again they flow.
      await carol.evaluate(() => { window.__fakeMic.gain.gain.value = 0; });
      for (const who of ['alice', 'bob']) {
        await eventually(async () => {
          const a = await packetsFrom(who, 'carol');
          await pages[who].waitForTimeout(2000);
          const b = await packetsFrom(who, 'carol');
          if (a !== b) throw new Error(`${who} still receives quiet carol: ${a} → ${b}`);
          return true;
        }, `${who} receives nothing from quiet carol`, CALL_T);
      }
      await carol.evaluate(() => { window.__fakeMic.gain.gain.value = 0.4; });
      for (const who of ['alice', 'bob']) {
        await eventually(async () => {
          const x = await packetsFrom(who, 'carol');
          await pages[who].waitForTimeout(1000);
          return (await packetsFrom(who, 'carol')) > x;
        }, `${who} receives carol after the quiet spell`, CALL_T);
      }
      // A pause just past the hangover (about ten 40 ms packets held back): the server renumbers what
      // follows, so Chrome counts none of them as lost. (Chrome takes a jump of more than 50
      // packets as a restart rather than loss, so only a short pause shows a missing renumbering.)
      const lostBefore = {};
      for (const who of ['alice', 'bob']) lostBefore[who] = (await lineFrom(who, 'carol')).lost;
      await carol.evaluate(async () => {
        window.__fakeMic.gain.gain.value = 0;
        await new Promise((r) => setTimeout(r, 1000));
        window.__fakeMic.gain.gain.value = 0.4;
      });
      await alice.waitForTimeout(1500);
      for (const who of ['alice', 'bob']) {
        const line = await lineFrom(who, 'carol');
        assert(line.lost === lostBefore[who], `${who} counts carol's short pause as loss: ${lostBefore[who]} → ${JSON.stringify(line)}`);
      }
      void bob;
    });

    await scenario(names[3], async () => {
      const { alice, bob, carol } = pages;
      await alice.getByRole('button', { name: 'Turn the camera on' }).click();
      const video = (page) => page.evaluate(async () => {
        const pc = window.__outpost.call.pc;
        const out = [];
        (await pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') out.push({ mid: r.mid, frames: r.framesDecoded ?? 0, w: r.frameWidth ?? 0 });
        });
        return out;
      });
      for (const p of [bob, carol]) {
        const tile = p.locator(`.call-stage video[data-user-id="${userIds.alice}"][data-source="cam"]`);
        await tile.waitFor({ timeout: CALL_T });
        await eventually(async () => {
          const a = await video(p);
          await p.waitForTimeout(1000);
          const b = await video(p);
          if (b.length !== 1 || !(b[0].frames > (a[0]?.frames ?? 0))) throw new Error(`video frames: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
          return true;
        }, 'alice’s camera frames decode', CALL_T);
        await eventually(() => tile.evaluate((v) => v.videoWidth > 0 && !v.paused), 'the video plays', CALL_T);
      }
      // Alice sees herself too, and the call bar's camera button is on.
      await alice.locator('.call-stage .call-tile-mirror video').waitFor();
      await shot(bob, 'call-video');
      // A shared screen takes the large place; the camera moves aside.
      await alice.getByRole('button', { name: 'Share your screen' }).click();
      const screen = bob.locator(`.call-focus video[data-user-id="${userIds.alice}"][data-source="screen"]`);
      await screen.waitFor({ timeout: CALL_T });
      await eventually(() => screen.evaluate((v) => v.videoWidth > 0 && !v.paused), 'the screen plays', CALL_T);
      await bob.locator(`.call-tiles video[data-user-id="${userIds.alice}"][data-source="cam"]`).waitFor();
      await eventually(async () => (await video(bob)).length === 2, 'two video lines from alice', CALL_T);
      await shot(bob, 'call-screen');
      await alice.getByRole('button', { name: 'Stop sharing your screen' }).click();
      await screen.waitFor({ state: 'detached', timeout: CALL_T });
      // Audio still flows both ways meanwhile.
      await hears('bob', ['alice', 'carol']);
      await alice.getByRole('button', { name: 'Turn the camera off' }).click();
      for (const p of [bob, carol]) await p.locator('.call-stage').waitFor({ state: 'detached', timeout: CALL_T });
    });

    await scenario(names[4], async () => {
      const { alice, bob } = pages;
      await bob.getByRole('button', { name: 'Leave the call' }).click();
      await bob.locator('.call-bar').waitFor({ state: 'detached' });
      await hears('alice', ['carol']);
      await hears('carol', ['alice']);
      await eventually(async () => (await alice.locator('.call-bar .call-person').count()) === 2, 'bob left the list');
      // Bob can see the call is still going and join again from the header.
      await bob.getByRole('button', { name: /^Join the call/ }).waitFor({ timeout: CALL_T });
    });

    await scenario(names[5], async () => {
      const callId = await pages.alice.evaluate(() => window.__outpost.call.state.active?.callId ?? null);
      assert(typeof callId === 'number', `alice is in a call: ${callId}`);
      const dave = await open('dave');
      try {
        const listed = await api(dave, 'GET', '/calls');
        assert(listed.status === 200 && !listed.body.some((c) => c.id === callId), `dave does not see it: ${JSON.stringify(listed.body)}`);
        await eventually(() => dave.evaluate(() => window.__outpost.state.connection === 'connected'), 'dave connected');
        const tryFrame = (frame) =>
          dave.evaluate(async (f) => {
            try {
              const r = await window.__outpost.request(f);
              return `answered ${r.type}`;
            } catch (e) {
              return e.code;
            }
          }, frame);
        assert((await tryFrame({ type: 'call_join', call_id: callId })) === 'not-found', 'call_join: not-found');
        assert((await tryFrame({ type: 'call_start', channel_id: opsId })) === 'not-found', 'call_start: not-found');
        // And the call still has exactly alice and carol.
        const call = await pages.alice.evaluate(() => window.__outpost.call.state.active.call);
        assert(call.participants.every((p) => p.user_id !== userIds.dave), 'dave is not in it');
      } finally {
        await dave.context().close();
        delete pages.dave;
      }
    });

    await scenario(names[6], async () => {
      // Bob again, on a second device whose microphone is blocked.
      const bob2 = await open('bob', { key: 'bob2', init: [blockedMicrophone] });
      try {
        await bob2.goto(`${base}/c/${opsId}`);
        await bob2.getByRole('button', { name: /^Join the call/ }).click();
        await bob2.locator('.call-bar [data-mic="blocked"]', { hasText: 'Your microphone is blocked for this site' }).waitFor({ timeout: CALL_T });
        await hears('bob2', ['alice', 'carol']);
        await tonesAt('bob2', { alice: TONES.alice, carol: TONES.carol });
        assert(await bob2.getByRole('button', { name: 'Mute', exact: true }).isDisabled(), 'nothing to mute');
        await shot(bob2, 'call-no-microphone');
        // The others still hear each other (bob2's line to them carries nothing).
        const a = await packetsFrom('alice', 'carol');
        await pages.alice.waitForTimeout(1200);
        assert((await packetsFrom('alice', 'carol')) > a, 'alice still hears carol');
      } finally {
        await bob2.context().close();
        delete pages.bob2;
      }
    });

    await scenario(names[7], async () => {
      const carol2 = await open('carol', { key: 'carol2', init: [unreachableMedia] });
      try {
        // Bob calls; carol answers on the device that cannot reach the media server.
        await carol2.goto(`${base}/c/${dmBobCarol}`);
        await pages.bob.goto(`${base}/c/${dmBobCarol}`);
        await pages.bob.getByRole('button', { name: 'Start a call in carol' }).click();
        await carol2.locator('.call-incoming').getByRole('button', { name: 'Accept' }).click({ timeout: CALL_T });
        const notice = carol2.locator('.call-notice', { hasText: 'This device cannot reach the call server’s media port (UDP ' });
        await eventually(async () => {
          if ((await notice.count()) > 0) return true;
          const sdp = await carol2.evaluate(() => window.__outpost.call.pc?.remoteDescription?.sdp ?? '');
          throw new Error(`${await describe('carol2')} candidates=${JSON.stringify(sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate') || l.startsWith('m=') || l.startsWith('c=')))}`);
        }, 'carol2 is told the media port is unreachable', CALL_T);
        const text = await notice.textContent();
        assert(/\(UDP \d+\)\. Ask your administrator to allow it\./.test(text ?? ''), `the message names the port: ${text}`);
        assert((await carol2.locator('.call-bar').count()) === 0, 'the call was left');
        await shot(carol2, 'call-unreachable');
        // Carol's other device stopped ringing when she answered here.
        assert((await pages.carol.locator('.call-incoming').count()) === 0, 'no ringing left for carol');
        // Carol's device left the one-to-one call, so it is over for bob too.
        await pages.bob.locator('.call-bar').waitFor({ state: 'detached', timeout: CALL_T });
      } finally {
        await carol2.context().close();
        delete pages.carol2;
      }
    });

    await scenario(names[8], async () => {
      const { alice, bob, carol } = pages;
      // The channel call ends when the last two leave: a record with its length.
      for (const p of [alice, carol]) {
        if ((await p.locator('.call-bar').count()) > 0) await p.getByRole('button', { name: 'Leave the call' }).click();
      }
      await alice.goto(`${base}/c/${opsId}`);
      const record = alice.locator('.msg-call').last();
      await record.waitFor({ timeout: CALL_T });
      assert(/^Call · \d+:\d\d$/.test((await record.locator('.msg-call-text').textContent()) ?? ''), `call record: ${await record.textContent()}`);
      await shot(alice, 'call-record');
      // A call nobody answers rings until the ring timeout, then is missed.
      await alice.goto(`${base}/c/${dmAliceCarol}`);
      await carol.goto(`${base}/c/${dmAliceCarol}`);
      await alice.locator('.channel .messages:not(.messages-loading)').waitFor();
      const missedBefore = await alice.locator('.msg-call-missed').count();
      await alice.getByRole('button', { name: 'Start a call in carol' }).click();
      await carol.locator('.call-incoming').waitFor({ timeout: CALL_T });
      await alice.locator('.call-bar .call-status', { hasText: 'Ringing…' }).waitFor({ timeout: CALL_T });
      await carol.locator('.call-incoming').waitFor({ state: 'detached', timeout: (RING_SECS + 15) * 1000 });
      await alice.locator('.call-notice', { hasText: 'No answer.' }).waitFor({ timeout: CALL_T });
      for (const p of [alice, carol]) {
        await eventually(async () => (await p.locator('.msg-call-missed').count()) === missedBefore + 1, 'a missed call recorded', CALL_T);
        assert((await p.locator('.msg-call-missed .msg-call-text').last().textContent()) === 'Missed call', 'shown as missed');
      }
      assert(frames.carol.includes('call_ended:missed'), `carol was told: ${frames.carol}`);
      await shot(carol, 'call-missed');
      // A declined call ends at once for the caller, and is recorded as missed.
      await alice.getByRole('button', { name: 'Dismiss' }).click();
      await alice.goto(`${base}/c/${dmAliceBob}`);
      await bob.goto(`${base}/c/${dmAliceBob}`);
      await bob.locator('.msg-call').first().waitFor({ timeout: CALL_T }); // the 1:1 call's record
      const before = await bob.locator('.msg-call').count();
      await alice.getByRole('button', { name: 'Start a call in bob' }).click();
      await bob.locator('.call-incoming').getByRole('button', { name: 'Decline' }).click({ timeout: CALL_T });
      await alice.locator('.call-notice', { hasText: 'The call was declined.' }).waitFor({ timeout: CALL_T });
      await eventually(async () => (await bob.locator('.msg-call').count()) === before + 1, 'declined call recorded', CALL_T);
      assert((await bob.locator('.msg-call').last().locator('.msg-call-text').textContent()) === 'Missed call', 'recorded as missed');
    });

    await scenario(names[9], async () => {
      const { alice, bob } = pages;
      await alice.goto(`${base}/c/${dmAliceBob}`);
      await bob.goto(`${base}/c/${dmAliceBob}`);
      await alice.getByRole('button', { name: 'Start a call in bob' }).click();
      await bob.locator('.call-incoming').getByRole('button', { name: 'Accept' }).click({ timeout: CALL_T });
      await hears('alice', ['bob']);
      await stopServer(server);
      for (const p of [alice, bob]) {
        await p
          .locator('.call-notice', { hasText: 'The server restarted, so the call ended.' })
          .waitFor({ timeout: CALL_T });
        assert((await p.locator('.call-bar').count()) === 0, 'no call bar left');
      }
      await shot(alice, 'call-server-restart');
      server = null;
    });
  } finally {
    for (const p of Object.values(pages)) await p.context().close().catch(() => {});
    await stopServer(server);
  }
}
