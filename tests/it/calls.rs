//! Calls: the signaling state machine over the WebSocket, and real media through the server's
//! SFU between str0m participants on 127.0.0.1.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::rtc_client::RtcClient;

async fn dm(app: &TestApp, token: &str, other: i64) -> i64 {
    let r = api(
        app,
        token,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [other]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A participant: its WebSocket and its media connection.
struct Party {
    ws: Ws,
    rtc: RtcClient,
    call: u64,
}

impl Party {
    async fn join(ws: Ws, call: u64, epoch: Instant) -> Party {
        Party::join_with(ws, call, RtcClient::new(epoch).await).await
    }

    async fn join_with(mut ws: Ws, call: u64, rtc: RtcClient) -> Party {
        let r = ws
            .request(json!({"type": "call_join", "call_id": call}))
            .await;
        assert_eq!(r["type"], "call", "{r}");
        let mut p = Party { ws, rtc, call };
        let offer = p.ws.wait_for("call_offer").await;
        p.answer(&offer).await;
        p
    }

    async fn answer(&mut self, offer: &Value) {
        let text = offer["sdp"].as_str().unwrap();
        assert!(text.contains("a=ice-lite"));
        // Congestion-control feedback only where it steers something: the video a browser sends.
        // Audio lines ask for the configured frame size (40 ms unless a test set another).
        for section in text.split("\nm=").skip(1) {
            let twcc = section.contains("transport-wide-cc");
            assert_eq!(twcc, section.starts_with("video"), "{section}");
            let ptime = section.contains("\na=ptime:");
            assert_eq!(ptime, section.starts_with("audio"), "{section}");
        }
        let sdp = self.rtc.accept(offer);
        self.ws
            .send(json!({"type": "call_answer", "call_id": self.call, "sdp": sdp}))
            .await;
    }

    /// Runs media for a slice of time and answers any new offer; returns other frames.
    async fn pump(&mut self, slice: Duration) -> Vec<Value> {
        let mut others = Vec::new();
        while let Some(f) = self.ws.poll(Duration::from_millis(1)).await {
            if f["type"] == "call_offer" {
                self.answer(&f).await;
            } else {
                others.push(f);
            }
        }
        self.rtc.run_until(Instant::now() + slice).await;
        others
    }
}

/// Runs every party until `check` holds or the deadline passes.
async fn run_all(
    parties: &mut [&mut Party],
    secs: u64,
    check: impl Fn(&[&mut Party]) -> bool,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        for p in parties.iter_mut() {
            p.pump(Duration::from_millis(10)).await;
        }
        if check(parties) {
            return true;
        }
    }
    false
}

/// Runs a two-person call until each side has received more than `packets` audio packets
/// (30 s at most).
async fn both_hear(a: &mut Party, b: &mut Party, packets: u64) -> bool {
    run_all(&mut [a, b], 30, |ps| {
        ps.iter()
            .all(|p| p.rtc.received.values().sum::<u64>() > packets)
    })
    .await
}

fn got(p: &Party, from: u64) -> u64 {
    p.rtc.received.get(&from).copied().unwrap_or(0)
}

async fn three(app: &TestApp) -> (String, String, String, i64) {
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let carol = app.invite_user(&admin, "carol", "carol-password-1").await;
    (admin, bob, carol, 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_person_call_forwards_everyones_audio_and_mute_and_leave_take_effect() {
    let app = spawn_app().await;
    let (alice, bob, carol, _) = three(&app).await;
    let ch = create_channel(&app, &alice, "ops", false).await;
    for t in [&bob, &carol] {
        assert!(api(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/channels/{ch}/join"),
            None
        )
        .await
        .status()
        .is_success());
    }
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wb, _) = app.ws(&bob, None).await;
    let (wc, _) = app.ws(&carol, None).await;
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    let ring = wb.wait_for("call_ring").await;
    assert_eq!(ring["call"]["id"], call_id);
    assert_eq!(ring["call"]["ringing"], json!([2, 3]));
    let epoch = Instant::now();
    let mut a = Party::join(wa, call_id, epoch).await;
    let mut b = Party::join(wb, call_id, epoch).await;
    let mut c = Party::join(wc, call_id, epoch).await;
    // The offers asked for the default 40 ms of sound per packet.
    assert!([&a, &b, &c]
        .iter()
        .all(|p| p.rtc.frame == Duration::from_millis(40)));
    let peers: Vec<u64> = {
        let state = app.handle.state.calls.list(1);
        state[0].participants.iter().map(|p| p.peer).collect()
    };
    let (pa, pb, pc) = (peers[0], peers[1], peers[2]);
    // Everyone hears both others.
    let all_flowing = run_all(&mut [&mut a, &mut b, &mut c], 30, |ps| {
        ps[0].rtc.received.len() == 2
            && ps[1].rtc.received.len() == 2
            && ps[2].rtc.received.len() == 2
            && ps.iter().all(|p| p.rtc.received.values().all(|n| *n > 25))
    })
    .await;
    assert!(
        all_flowing,
        "a {:?} b {:?} c {:?}",
        a.rtc.received, b.rtc.received, c.rtc.received
    );
    assert_eq!(
        (
            got(&a, pb) > 0,
            got(&a, pc) > 0,
            got(&b, pa) > 0,
            got(&c, pa) > 0
        ),
        (true, true, true, true)
    );

    // Carol mutes: nothing of hers reaches the others, Bob still does.
    c.ws.send(json!({"type": "call_mute", "call_id": call_id, "muted": true}))
        .await;
    run_all(&mut [&mut a, &mut b, &mut c], 1, |_| false).await;
    let (a_c, a_b, b_c) = (got(&a, pc), got(&a, pb), got(&b, pc));
    run_all(&mut [&mut a, &mut b, &mut c], 2, |_| false).await;
    assert_eq!(got(&a, pc), a_c, "muted audio still arrives");
    assert_eq!(got(&b, pc), b_c);
    assert!(got(&a, pb) > a_b + 10, "bob's audio stopped too");
    let state = app.handle.state.calls.list(1);
    assert!(state[0]
        .participants
        .iter()
        .any(|p| p.peer == pc && p.muted));
    c.ws.send(json!({"type": "call_mute", "call_id": call_id, "muted": false}))
        .await;
    assert!(
        run_all(&mut [&mut a, &mut b, &mut c], 10, |ps| got(ps[0], pc)
            > a_c + 25)
        .await,
        "unmute resumes"
    );

    // Carol's room goes quiet: after a short hangover her packets are held back as a
    // browser's DTX would, and when she talks again her stream picks up where it left off.
    c.rtc.level = -90;
    run_all(&mut [&mut a, &mut b, &mut c], 2, |_| false).await;
    let (a_c, a_b) = (got(&a, pc), got(&a, pb));
    run_all(&mut [&mut a, &mut b, &mut c], 2, |_| false).await;
    assert_eq!(got(&a, pc), a_c, "a quiet microphone is still forwarded");
    assert!(got(&a, pb) > a_b + 10, "bob's audio stopped too");
    c.rtc.level = -20;
    assert!(
        run_all(&mut [&mut a, &mut b, &mut c], 10, |ps| got(ps[0], pc)
            > a_c + 25)
        .await,
        "talking again resumes"
    );
    // Neither the mute nor the quiet spell shows as loss: the sequence has no break.
    assert_eq!(a.rtc.gaps.get(&pc), None, "alice saw carol's stream break");
    assert_eq!(b.rtc.gaps.get(&pc), None, "bob saw carol's stream break");

    // Bob leaves: his line goes from the others' offers and his audio stops.
    b.ws.send(json!({"type": "call_leave", "call_id": call_id}))
        .await;
    let mut renegotiated = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !renegotiated {
        for f in a.ws_frames_and_offers().await {
            if f["type"] == "call_state" && f["call"]["participants"].as_array().unwrap().len() == 2
            {
                renegotiated = true;
            }
        }
        c.pump(Duration::from_millis(10)).await;
    }
    assert!(renegotiated, "alice saw bob leave");
    assert!(
        !a.rtc.tracks.values().any(|p| *p == pb) || {
            run_all(&mut [&mut a, &mut c], 5, |ps| {
                !ps[0].rtc.tracks.values().any(|p| *p == pb)
            })
            .await
        },
        "bob's line was removed from alice's connection"
    );
    let before = got(&a, pb);
    run_all(&mut [&mut a, &mut c], 1, |_| false).await;
    assert_eq!(got(&a, pb), before);
    assert_eq!(app.handle.state.calls.sfu().unwrap().peer_count().await, 2);
}

impl Party {
    async fn ws_frames_and_offers(&mut self) -> Vec<Value> {
        self.pump(Duration::from_millis(10)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_to_one_call_rings_connects_and_leaves_a_record() {
    let app = spawn_app().await;
    let alice = app.setup_admin().await;
    let bob = app.invite_user(&alice, "bob", "bob-password-1").await;
    let eve = app.invite_user(&alice, "eve", "eve-password-1").await;
    let ch = dm(&app, &alice, 2).await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wb, _) = app.ws(&bob, None).await;
    let (mut we, _) = app.ws(&eve, None).await;
    // Nobody outside the conversation can start, join or decline its call.
    let r = we
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    assert_eq!(
        (r["type"].as_str(), r["code"].as_str()),
        (Some("error"), Some("not-found"))
    );
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    let again = wb
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    assert_eq!(again["call"]["id"], call_id, "one call per conversation");
    let r = we
        .request(json!({"type": "call_join", "call_id": call_id}))
        .await;
    assert_eq!(r["code"], "not-found");
    assert!(app
        .get_with(&eve, "/api/v1/calls")
        .await
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
    let listed: Value = app
        .get_with(&bob, "/api/v1/calls")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], call_id);
    assert!(wb.wait_for("call_ring").await["call"]["ringing"] == json!([2]));

    let epoch = Instant::now();
    let mut a = Party::join(wa, call_id, epoch).await;
    let mut b = Party::join(wb, call_id, epoch).await;
    assert!(
        both_hear(&mut a, &mut b, 50).await,
        "audio both ways: a {:?} b {:?}",
        a.rtc.received,
        b.rtc.received
    );
    // Speaking is detected from the audio level the senders mark.
    assert!(
        run_all(&mut [&mut a, &mut b], 10, |_| {
            app.handle
                .state
                .calls
                .list(1)
                .first()
                .is_some_and(|c| c.participants.iter().all(|p| p.speaking))
        })
        .await,
        "both speaking"
    );
    assert_eq!(
        app.handle
            .state
            .metrics
            .active_calls
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    // One side hangs up: in a one-to-one call that ends it for both, everyone is told, and
    // the conversation has its record. (It used to leave bob alone in the call.)
    a.ws.send(json!({"type": "call_leave", "call_id": call_id}))
        .await;
    let ended = b.ws.wait_for("call_ended").await;
    assert_eq!(ended["reason"], "ended");
    let record = loop {
        let e = b.ws.next_event().await;
        if e["event"]["kind"] == "message.new" && e["event"]["message"]["kind"] == "call" {
            break e["event"]["message"].clone();
        }
    };
    let body: Value = serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["missed"], false);
    assert!(body["duration_ms"].as_i64().unwrap() > 0);
    assert_eq!(body["participants"], json!([1, 2]));
    assert_eq!(record["author_id"], 1);
    assert!(app
        .get_with(&bob, "/api/v1/calls")
        .await
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_unanswered_call_is_missed_a_declined_one_ends_and_calls_have_a_size_limit() {
    let app = spawn_app_with(|c| {
        c.calls.ring_secs = 1;
        c.calls.max_participants = 2;
    })
    .await;
    let alice = app.setup_admin().await;
    let bob = app.invite_user(&alice, "bob", "bob-password-1").await;
    let carol = app.invite_user(&alice, "carol", "carol-password-1").await;
    let ch = dm(&app, &alice, 2).await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wb, _) = app.ws(&bob, None).await;
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    assert_eq!(
        wa.request(json!({"type": "call_join", "call_id": call_id}))
            .await["type"],
        "call"
    );
    let ended = wb.wait_for("call_ended").await;
    assert_eq!(
        (ended["call_id"].as_u64(), ended["reason"].as_str()),
        (Some(call_id), Some("missed"))
    );
    // The record follows the notice as a durable event.
    let record = loop {
        let e = wb.next_event().await;
        if e["event"]["kind"] == "message.new" {
            break e["event"]["message"].clone();
        }
    };
    assert_eq!(record["kind"], "call");
    let body: Value = serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (body["missed"].as_bool(), body["duration_ms"].as_i64()),
        (Some(true), Some(0))
    );

    // Declined by the only other member: over at once.
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    wb.send(json!({"type": "call_decline", "call_id": call_id}))
        .await;
    let ended = loop {
        let f = wa.wait_for("call_ended").await;
        if f["call_id"] == call_id {
            break f;
        }
    };
    assert_eq!(ended["reason"], "declined");

    // A group conversation with a limit of two.
    let group = {
        let r = api(
            &app,
            &alice,
            Method::POST,
            "/api/v1/dms",
            Some(json!({"user_ids": [2, 3]})),
        )
        .await;
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    };
    let (mut wc, _) = app.ws(&carol, None).await;
    let call = wa
        .request(json!({"type": "call_start", "channel_id": group}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    assert_eq!(
        wa.request(json!({"type": "call_join", "call_id": call_id}))
            .await["type"],
        "call"
    );
    assert_eq!(
        wb.request(json!({"type": "call_join", "call_id": call_id}))
            .await["type"],
        "call"
    );
    let full = wc
        .request(json!({"type": "call_join", "call_id": call_id}))
        .await;
    assert_eq!(full["code"], "call-full");
    // Closing the WebSocket leaves the call.
    drop(wb);
    let state = loop {
        let f = wc.wait_for("call_state").await;
        if f["call"]["participants"].as_array().unwrap().len() == 1 {
            break f;
        }
    };
    assert_eq!(state["call"]["participants"][0]["user_id"], 1);
}

#[tokio::test]
async fn a_server_restart_ends_calls_and_says_so() {
    let app = spawn_app().await;
    let alice = app.setup_admin().await;
    let bob = app.invite_user(&alice, "bob", "bob-password-1").await;
    let ch = dm(&app, &alice, 2).await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wb, _) = app.ws(&bob, None).await;
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    wa.request(json!({"type": "call_join", "call_id": call_id}))
        .await;
    wb.request(json!({"type": "call_join", "call_id": call_id}))
        .await;
    let (dir, config) = app.stop().await;
    let ended = wb.wait_for("call_ended").await;
    assert_eq!(ended["reason"], "server-restart");
    assert_eq!(wb.close_code().await, Some(1012));
    // The record was written before the server stopped.
    let app = spawn_in(dir, config).await;
    let login: Value = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "bob", "password": "bob-password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hist: Value = app
        .get_with(
            login["token"].as_str().unwrap(),
            &format!("/api/v1/channels/{ch}/messages"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(hist.to_string().contains("\"kind\":\"call\""), "{hist}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_udp_is_blocked_media_flows_over_ice_tcp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|c| {
        c.calls.tcp_port = port;
        c.calls.audio_frame_ms = 20;
    })
    .await;
    let alice = app.setup_admin().await;
    let bob = app.invite_user(&alice, "bob", "bob-password-1").await;
    let ch = dm(&app, &alice, 2).await;
    let tcp = app.handle.state.calls.sfu().unwrap().tcp[0];
    let (mut wa, _) = app.ws(&alice, None).await;
    let (wb, _) = app.ws(&bob, None).await;
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    let epoch = Instant::now();
    let mut a = Party::join(wa, call_id, epoch).await;
    // Bob's only candidate is TCP; the offer carries the server's passive TCP candidate.
    let mut b = Party::join_with(wb, call_id, RtcClient::new_tcp(epoch, tcp).await).await;
    // The configured frame size reached the offers.
    assert_eq!(b.rtc.frame, Duration::from_millis(20));
    assert!(
        both_hear(&mut a, &mut b, 50).await,
        "audio both ways over TCP: a {:?} b {:?}",
        a.rtc.received,
        b.rtc.received
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_added_mid_call_reaches_the_others_without_stopping_voice() {
    let app = spawn_app().await;
    let alice = app.setup_admin().await;
    let bob = app.invite_user(&alice, "bob", "bob-password-1").await;
    let ch = dm(&app, &alice, 2).await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (wb, _) = app.ws(&bob, None).await;
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    let epoch = Instant::now();
    let mut a = Party::join(wa, call_id, epoch).await;
    let mut b = Party::join(wb, call_id, epoch).await;
    assert!(both_hear(&mut a, &mut b, 25).await);
    a.ws.send(json!({"type": "call_media", "call_id": call_id, "camera": true, "screen": false}))
        .await;
    let video = run_all(&mut [&mut a, &mut b], 30, |ps| {
        ps[0].rtc.cam.is_some() && ps[1].rtc.received_video.values().sum::<u64>() > 20
    })
    .await;
    assert!(video, "bob gets alice's camera: {:?}", b.rtc.received_video);
    let before = b.rtc.received.values().sum::<u64>();
    run_all(&mut [&mut a, &mut b], 2, |_| false).await;
    // Two seconds of 40 ms packets are 50: at least half of them.
    assert!(
        b.rtc.received.values().sum::<u64>() > before + 25,
        "voice goes on beside video"
    );
    let state = app.handle.state.calls.list(1);
    assert!(state[0]
        .participants
        .iter()
        .any(|p| p.user_id == 1 && p.camera));
}

/// A call lives on the node where it was started; someone connected to another node joins it
/// through that node (signaling over NATS) and sends media straight to the call's node. When
/// that node dies, the people on the other node are told the call ended, and a new call can be
/// started in the same conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_reaches_people_on_other_nodes_and_ends_with_notice_when_its_node_dies() {
    let (Some(url), Ok(nats)) = (test_database(), std::env::var("OUTPOST_TEST_NATS")) else {
        eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE and OUTPOST_TEST_NATS (scripts/with-postgres scripts/with-nats)");
        return;
    };
    // Node A is a real process, so it can die without a goodbye; node B runs in the test.
    let a_dir = tempfile::tempdir().unwrap();
    let ca_file = test_cluster_ca();
    add_admin(
        a_dir.path(),
        &[
            ("OUTPOST_CLUSTER_DATABASE", &url),
            ("OUTPOST_CLUSTER_CA_FILE", ca_file.to_str().unwrap()),
        ],
    );
    let mut a = crate::cluster::Node::start_with(
        a_dir.path(),
        &url,
        &[
            ("OUTPOST_CLUSTER_NATS", &nats),
            ("OUTPOST_CALLS_ADDRESSES", "127.0.0.1"),
            ("OUTPOST_CALLS_UDP_PORT", "0"),
            ("OUTPOST_CALLS_TCP_PORT", "0"),
        ],
    );
    let b = spawn_node_with_ca_of(a_dir.path(), |c| {
        c.cluster.database = url.clone();
        c.cluster.nats = vec![nats.clone()];
    })
    .await;
    let login: Value = a
        .client
        .post(a.url("/api/v1/auth/login"))
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alice = login["token"].as_str().unwrap().to_string();
    let bob = b.invite_user(&alice, "bob", "bob-password-1").await;
    let bob_id = b
        .get_with(&bob, "/api/v1/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let ch = dm(&b, &alice, bob_id).await;
    let (wa, _) = ws_connect(a.addr, &a.ca, &alice, None).await;
    let (wb, _) = b.ws(&bob, None).await;
    // The nodes' NATS subscriptions are made as they start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut wa, mut wb) = (wa, wb);

    // Alice starts it on A; Bob, on B, is rung and finds the same call: one per conversation.
    let call = wa
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    let call_id = call["call"]["id"].as_u64().unwrap();
    assert_eq!(wb.wait_for("call_ring").await["call"]["id"], call_id);
    let again = wb
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    assert_eq!(again["call"]["id"], call_id, "{again}");
    let listed: Value = b
        .get_with(&bob, "/api/v1/calls")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], call_id, "{listed}");

    // Both hear each other: Bob's offer and answer travel through B, his media goes to A.
    let epoch = Instant::now();
    let mut pa = Party::join(wa, call_id, epoch).await;
    let mut pb = Party::join(wb, call_id, epoch).await;
    assert!(
        both_hear(&mut pa, &mut pb, 50).await,
        "audio both ways across nodes: a {:?} b {:?}",
        pa.rtc.received,
        pb.rtc.received
    );

    // A dies: Bob is told within seconds, and can call again from B.
    a.kill();
    let ended = tokio::time::timeout(Duration::from_secs(10), pb.ws.wait_for("call_ended"))
        .await
        .expect("the call ends with notice when its node dies");
    assert_eq!(ended["call_id"], call_id);
    assert_eq!(ended["reason"], "server-restart");
    let mut wb = pb.ws;
    let fresh = wb
        .request(json!({"type": "call_start", "channel_id": ch}))
        .await;
    assert_eq!(fresh["type"], "call", "{fresh}");
    assert_ne!(fresh["call"]["id"], call_id);
    let listed: Value = b
        .get_with(&bob, "/api/v1/calls")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    b.stop().await;
}
