//! The WebSocket: live delivery, order, idempotency, resume without gaps or duplicates,
//! propagation of changes, read state across sessions, and connections that must end.

use std::collections::HashSet;

use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn three_users(app: &TestApp) -> (String, String, String) {
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let carol = app.invite_user(&admin, "carol", "carol-password").await;
    (alice, bob, carol)
}

#[tokio::test]
async fn messages_reach_every_member_and_no_one_else() {
    let app = spawn_app().await;
    let (alice, bob, carol) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "team", true).await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wc, _) = app.ws(&carol, None).await;
    let bob_id = app
        .get_with(&bob, "/api/v1/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    api(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/channels/{ch}/members"),
        Some(json!({"user_id": bob_id})),
    )
    .await;
    let (mut wb, _) = app.ws(&bob, None).await;
    assert_eq!(wa.next_event().await["event"]["kind"], "member.joined");

    let ack = wa
        .request(json!({"type": "send", "channel_id": ch, "client_id": "m1", "body": "hello team"}))
        .await;
    assert_eq!(ack["type"], "ack");
    let id = ack["message"]["id"].clone();
    for ws in [&mut wa, &mut wb] {
        let ev = ws.next_event().await;
        assert_eq!(ev["event"]["kind"], "message.new");
        assert_eq!(ev["event"]["message"]["id"], id);
        assert!(ev["pos"].as_i64().unwrap() > 0);
    }
    // Carol's next event is from her own channel: Alice's message never reached her.
    let own = create_channel(&app, &carol, "carols", false).await;
    let ev = wc.next_event().await;
    assert_eq!(ev["event"]["kind"], "member.joined");
    assert_eq!(ev["event"]["channel_id"], own);

    // Carol cannot post, react, edit, read-mark or type in it over the WebSocket either.
    for frame in [
        json!({"type": "send", "channel_id": ch, "body": "let me in"}),
        json!({"type": "react", "message_id": id, "emoji": "👀"}),
        json!({"type": "edit", "message_id": id, "body": "mine now"}),
        json!({"type": "delete", "message_id": id}),
        json!({"type": "read", "channel_id": ch, "seq": 1}),
    ] {
        let answer = wc.request(frame.clone()).await;
        assert_eq!(answer["type"], "error", "{frame}");
        assert_eq!(answer["code"], "not-found", "{frame}");
    }
    wc.send(json!({"type": "typing", "channel_id": ch})).await;
    let answer = wc.next().await.unwrap();
    assert_eq!(answer["code"], "not-found");

    // A refusal over the WebSocket carries the field and the values, as over HTTP, for the
    // client to say in the reader's language.
    let answer = wa
        .request(json!({"type": "react", "message_id": id, "emoji": "yes"}))
        .await;
    assert_eq!(answer["type"], "error");
    assert_eq!(answer["code"], "not-one-emoji");
    assert_eq!(answer["field"], "emoji");
    let answer = wa
        .request(json!({"type": "send", "channel_id": ch, "client_id": "bad id!", "body": "x"}))
        .await;
    assert_eq!(answer["code"], "bad-client-id");
    assert_eq!(answer["field"], "client_id");
    assert!(answer.get("params").is_none(), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn order_is_per_channel_and_retries_do_not_duplicate() {
    let app = spawn_app().await;
    let (alice, bob, _) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "order", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wb, _) = app.ws(&bob, None).await;
    // Pipelined: many sends in flight at once from both.
    for i in 0..20 {
        wa.send(json!({"type": "send", "req": format!("a{i}"), "channel_id": ch, "client_id": format!("a{i}"), "body": format!("a{i}")})).await;
        wb.send(json!({"type": "send", "req": format!("b{i}"), "channel_id": ch, "client_id": format!("b{i}"), "body": format!("b{i}")})).await;
    }
    // The same client id again answers with the first message.
    let retry = wa
        .request(json!({"type": "send", "channel_id": ch, "client_id": "a0", "body": "a0"}))
        .await;
    let mut seqs = Vec::new();
    let mut acked_a0 = None;
    while seqs.len() < 40 {
        let f = wb.next().await.unwrap();
        if f["type"] == "event" && f["event"]["kind"] == "message.new" {
            seqs.push(f["event"]["message"]["seq"].as_i64().unwrap());
        }
    }
    while acked_a0.is_none() {
        let f = wa.next().await.unwrap();
        if f["type"] == "ack" && f["req"] == "a0" {
            acked_a0 = Some(f["message"]["id"].clone());
        }
    }
    assert_eq!(retry["message"]["id"], acked_a0.unwrap());
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let page: Vec<Value> = api(
        &app,
        &alice,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages?limit=200"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page.len(), 40);
    // One client's messages are stored in the order it sent them.
    let mine: Vec<&str> = page
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .filter(|b| b.starts_with('a'))
        .collect();
    let expected: Vec<String> = (0..20).map(|i| format!("a{i}")).collect();
    assert_eq!(mine, expected);
    app.stop().await;
}

#[tokio::test]
async fn resume_after_random_drops_loses_nothing_and_duplicates_nothing() {
    let app = spawn_app_with(|c| c.limits.messages_per_second = 1000.0).await;
    let (alice, bob, _) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "resume", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let (_, ready) = app.ws(&bob, None).await;
    let mut pos = ready["position"].as_i64().unwrap();

    const TOTAL: usize = 150;
    let sender = {
        let base = app.url("");
        let client = app.api_client();
        let alice = alice.clone();
        tokio::spawn(async move {
            for i in 0..TOTAL {
                let r = client
                    .post(format!("{base}/api/v1/channels/{ch}/messages"))
                    .bearer_auth(&alice)
                    .json(&json!({"body": format!("m{i}"), "client_id": format!("m{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                if i % 7 == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
                }
            }
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut ids = HashSet::new();
    let mut reconnects = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < TOTAL {
        assert!(
            std::time::Instant::now() < deadline,
            "resume did not converge"
        );
        let (mut ws, ready) = app.ws(&bob, Some(pos)).await;
        assert_eq!(ready["resync"], false);
        reconnects += 1;
        let take = rand::rng().random_range(1..12);
        let mut got = 0;
        while got < take && seen.len() < TOTAL {
            let f = ws.next().await.expect("open");
            if f["type"] != "event" {
                continue;
            }
            let p = f["pos"].as_i64().unwrap();
            assert!(p > pos, "positions only grow: {p} after {pos}");
            pos = p;
            if f["event"]["kind"] == "message.new" {
                let m = &f["event"]["message"];
                assert!(ids.insert(m["id"].as_i64().unwrap()), "duplicate {m}");
                seen.push(m["body"].as_str().unwrap().to_string());
                got += 1;
            }
        }
        // Drop abruptly, mid-stream.
        drop(ws);
    }
    sender.await.unwrap();
    let expected: Vec<String> = (0..TOTAL).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);
    assert!(reconnects > 10);
    app.stop().await;
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_reload() {
    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;
    let (_, ready) = app.ws(&alice, Some(i64::MAX / 2)).await;
    assert_eq!(ready["resync"], true);
    assert!(ready["position"].as_i64().is_some());
    app.stop().await;
}

#[tokio::test]
async fn changes_propagate_and_read_state_syncs_across_sessions() {
    let app = spawn_app().await;
    let (alice, bob, _) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "sync", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let (mut wa, _) = app.ws(&alice, None).await;
    let (mut wb, _) = app.ws(&bob, None).await;
    // A second session of Bob's (another device).
    let bob2: Value = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "bob", "password": "bob-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (mut wb2, _) = app.ws(bob2["token"].as_str().unwrap(), None).await;

    let ack = wa
        .request(json!({"type": "send", "channel_id": ch, "body": "root"}))
        .await;
    let mid = ack["message"]["id"].as_i64().unwrap();
    let seq = ack["message"]["seq"].as_i64().unwrap();
    assert_eq!(wb.next_event().await["event"]["kind"], "message.new");
    assert_eq!(wb2.next_event().await["event"]["kind"], "message.new");

    let steps = [
        (
            json!({"type": "edit", "message_id": mid, "body": "root (edited)"}),
            "edited",
        ),
        (
            json!({"type": "react", "message_id": mid, "emoji": "🎉"}),
            "reactions",
        ),
        (json!({"type": "delete", "message_id": mid}), "deleted"),
    ];
    for (frame, what) in steps {
        let ack = wa.request(frame).await;
        assert_eq!(ack["type"], "ack", "{what}: {ack}");
        let ev = wb.next_event().await;
        assert_eq!(ev["event"]["kind"], "message.updated", "{what}");
        let m = &ev["event"]["message"];
        match what {
            "edited" => assert_eq!(
                (m["edited"].as_bool(), m["body"].as_str()),
                (Some(true), Some("root (edited)"))
            ),
            "reactions" => assert_eq!(m["reactions"][0]["emoji"], "🎉"),
            _ => assert_eq!(
                (m["deleted"].as_bool(), m["body"].as_str()),
                (Some(true), Some(""))
            ),
        }
    }
    // Bob reads on one device; the other hears it.
    let ack = wb
        .request(json!({"type": "read", "channel_id": ch, "seq": seq}))
        .await;
    assert_eq!(ack["seq"], seq);
    let ev = loop {
        let ev = wb2.next_event().await;
        if ev["event"]["kind"] == "read" {
            break ev;
        }
    };
    assert_eq!(ev["event"]["channel_id"], ch);
    assert_eq!(ev["event"]["seq"], seq);

    // Typing reaches the others without being stored.
    wa.send(json!({"type": "typing", "channel_id": ch})).await;
    let typing = loop {
        let f = wb.next().await.unwrap();
        if f["type"] == "typing" {
            break f;
        }
    };
    assert_eq!(typing["channel_id"], ch);
    app.stop().await;
}

#[tokio::test]
async fn presence_follows_connections() {
    let app = spawn_app().await;
    let (alice, bob, _) = three_users(&app).await;
    let bob_id = app
        .get_with(&bob, "/api/v1/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    let (mut wa, _) = app.ws(&alice, None).await;
    wa.send(json!({"type": "presence_sub", "user_ids": [bob_id]}))
        .await;
    let state = wa.next().await.unwrap();
    assert_eq!(state["users"][0]["status"], "offline");
    let (mut wb, _) = app.ws(&bob, None).await;
    assert_eq!(wa.next().await.unwrap()["status"], "online");
    wb.send(json!({"type": "presence", "status": "away"})).await;
    assert_eq!(wa.next().await.unwrap()["status"], "away");
    drop(wb);
    assert_eq!(wa.next().await.unwrap()["status"], "offline");
    app.stop().await;
}

#[tokio::test]
async fn malformed_frames_get_an_error_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "frames", false).await;
    let (mut ws, _) = app.ws(&alice, None).await;
    for bad in [
        "not json",
        "{\"type\":\"send\"}",
        "{\"type\":\"explode\"}",
        "[1,2,3]",
        "{\"type\":\"send\",\"channel_id\":\"x\",\"body\":1}",
    ] {
        ws.send_raw(bad).await;
        let f = ws.next().await.unwrap();
        assert_eq!(f["type"], "error", "{bad}");
        assert_eq!(f["code"], "malformed-frame", "{bad}");
    }
    let big = "y".repeat(20_000);
    let f = ws
        .request(json!({"type": "send", "channel_id": ch, "body": big}))
        .await;
    assert_eq!(f["code"], "message-too-large");
    let f = ws
        .request(json!({"type": "send", "channel_id": ch, "body": "still here"}))
        .await;
    assert_eq!(f["type"], "ack");
    // A frame beyond the frame limit ends the connection instead of being buffered.
    ws.send_raw(&format!(
        "{{\"type\":\"ping\",\"req\":\"{}\"}}",
        "z".repeat(100_000)
    ))
    .await;
    assert!(ws.raw_next().await.is_none() || ws.raw_next().await.is_none());
    app.stop().await;
}

#[tokio::test]
async fn disabling_a_user_or_revoking_a_session_closes_live_connections() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let carol = app.invite_user(&admin, "carol", "carol-password").await;
    let (mut wb, _) = app.ws(&bob, None).await;
    let (mut wc, _) = app.ws(&carol, None).await;
    let users: Vec<Value> = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let bob_id = users.iter().find(|u| u["username"] == "bob").unwrap()["id"].clone();
    api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{bob_id}/disable"),
        None,
    )
    .await;
    assert_eq!(wb.close_code().await, Some(4001));

    // The CLI, a separate process, disables Carol while the server runs.
    let d = app.data_dir();
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args([
                "user",
                "disable",
                "carol",
                "--data-dir",
                d.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    assert_eq!(wc.close_code().await, Some(4001));
    app.stop().await;
}

#[tokio::test]
async fn shutdown_tells_connected_clients() {
    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;
    let (mut ws, _) = app.ws(&alice, None).await;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(ws.close_code().await, Some(1012));
    stopping.await.unwrap();
}

#[tokio::test]
async fn websocket_needs_a_session_and_the_same_origin() {
    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;
    let c = app.api_client();
    let upgrade = |token: Option<&str>, origin: Option<&str>| {
        let mut rb = c
            .get(app.url("/api/v1/ws"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        rb.send()
    };
    assert_eq!(upgrade(None, None).await.unwrap().status(), 401);
    assert_eq!(upgrade(Some("bogus"), None).await.unwrap().status(), 401);
    assert_eq!(
        upgrade(Some(&alice), Some("https://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    app.stop().await;
}

type RawWs =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// Opens `/api/v1/ws` without panicking (the server may be restarting), optionally with a small
/// receive buffer so that a client that stops reading blocks the server quickly.
async fn try_ws(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    token: &str,
    resume_from: Option<i64>,
    recv_buffer: Option<u32>,
) -> Option<RawWs> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let step = std::time::Duration::from_secs(5);
    let sock = tokio::net::TcpSocket::new_v4().ok()?;
    if let Some(n) = recv_buffer {
        sock.set_recv_buffer_size(n).ok()?;
    }
    let tcp = tokio::time::timeout(step, sock.connect(addr))
        .await
        .ok()?
        .ok()?;
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client_tls(ca_pem)));
    let tls = tokio::time::timeout(step, tls.connect("localhost".try_into().ok()?, tcp))
        .await
        .ok()?
        .ok()?;
    let url = match resume_from {
        Some(p) => format!("wss://localhost:{}/api/v1/ws?resume_from={p}", addr.port()),
        None => format!("wss://localhost:{}/api/v1/ws", addr.port()),
    };
    let mut req = url.into_client_request().ok()?;
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().ok()?);
    let (stream, _) = tokio::time::timeout(step, tokio_tungstenite::client_async(req, tls))
        .await
        .ok()?
        .ok()?;
    Some(stream)
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_promptly_and_released() {
    use futures_util::StreamExt;
    use std::time::{Duration, Instant};
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app_with(|c| {
        c.limits.messages_per_second = 100_000.0;
        c.limits.message_burst = 100_000;
    })
    .await;
    let (alice, bob, _) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "firehose", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let metrics = app.handle.state.metrics.clone();
    let hub = app.handle.state.chat.hub().clone();
    let (mut wa, _) = app.ws(&alice, None).await;
    // Bob connects, reads up to `ready`, then stops reading.
    let mut stalled = try_ws(app.https_addr(), &app.ca_pem(), &bob, None, Some(4096))
        .await
        .expect("bob connects");
    loop {
        match stalled.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains("\"ready\"") => break,
            Some(Ok(_)) => continue,
            other => panic!("no ready: {other:?}"),
        }
    }
    assert_eq!(hub.connection_count(), 2);
    assert_eq!(
        metrics
            .websocket_tasks
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );

    // Alice sends large messages in windows (bounded in count and time) until the server lets
    // Bob go.
    let body = "x".repeat(8_000);
    let started = Instant::now();
    let mut sent = 0;
    let mut dropped_at = None;
    while sent < 3_000 && started.elapsed() < Duration::from_secs(40) {
        for _ in 0..50 {
            wa.send(json!({"type": "send", "channel_id": ch, "body": body}))
                .await;
            sent += 1;
        }
        let mut acks = 0;
        while acks < 50 {
            let f = wa.next().await.expect("alice stays connected");
            if f["type"] == "ack" {
                acks += 1;
            } else if f["type"] == "error" {
                panic!("{f}");
            }
        }
        if hub.connection_count() == 1 {
            dropped_at = Some(Instant::now());
            break;
        }
    }
    let dropped_at = dropped_at.unwrap_or_else(|| panic!("bob was never dropped ({sent} sent)"));
    // The task lets go of the socket and everything queued for it within seconds, without
    // Bob reading anything.
    let deadline = dropped_at + Duration::from_secs(5);
    while metrics
        .websocket_tasks
        .load(std::sync::atomic::Ordering::Relaxed)
        > 1
    {
        assert!(
            Instant::now() < deadline,
            "the stalled connection's task is still alive"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // When Bob reads again he gets what was in flight, then the end: a 4008 or the TCP close.
    let mut events = 0;
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next())
            .await
            .expect("the stream ends")
        {
            Some(Ok(Message::Text(_))) => events += 1,
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    assert!(end.is_none() || end == Some(4008), "{end:?}");
    assert!(events < sent, "bob could not have been sent everything");
    // Bob can come back.
    let (_, ready) = app.ws(&bob, None).await;
    assert_eq!(ready["type"], "ready");
    app.stop().await;
}

#[tokio::test]
async fn a_client_close_is_answered_with_the_same_code() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;
    let (mut ws, _) = app.ws(&alice, None).await;
    ws.stream
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await
        .unwrap();
    let answer = loop {
        match tokio::time::timeout(WAIT, ws.stream.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("no Close frame in answer: {other:?}"),
        }
    };
    assert_eq!(answer.map(|f| f.code), Some(CloseCode::Normal));
    // Then the server ends the connection.
    let after = tokio::time::timeout(WAIT, ws.stream.next()).await.unwrap();
    assert!(!matches!(after, Some(Ok(_))), "{after:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_waits_for_the_first() {
    let app = spawn_app().await;
    let (dir, config) = (app.dir.clone(), app.config.clone());
    let second = tokio::spawn(spawn_in(dir, config));
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(
        !second.is_finished(),
        "two servers must never share a database: each would publish only its own events"
    );
    app.stop().await;
    let second = tokio::time::timeout(std::time::Duration::from_secs(20), second)
        .await
        .expect("the second starts once the first has stopped")
        .unwrap();
    second.stop().await;
}

#[tokio::test]
async fn events_logged_by_another_process_still_reach_live_clients() {
    let app = spawn_app().await;
    let (alice, bob, _) = three_users(&app).await;
    let ch = create_channel(&app, &alice, "foreign", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let (mut wb, ready) = app.ws(&bob, None).await;
    let mut pos = ready["position"].as_i64().unwrap();
    // Something outside this server (another process on the same database) logs an event.
    let foreign: i64 = app
        .beside(move |db| {
            outpost::store::chat::append_event(
                db,
                Some(ch),
                None,
                r#"{"kind":"channel.updated","channel":{"id":0}}"#,
            )
        })
        .await;
    post_message(&app, &alice, ch, "after the foreign event").await;
    let mut positions = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        assert!(std::time::Instant::now() < deadline);
        match wb.next().await {
            Some(f) if f["type"] == "event" => {
                let p = f["pos"].as_i64().unwrap();
                assert!(p > pos, "{p} after {pos}");
                pos = p;
                positions.push(p);
                if f["event"]["kind"] == "message.new" {
                    break;
                }
            }
            Some(_) => {}
            None => wb = app.ws(&bob, Some(pos)).await.0,
        }
    }
    assert!(
        positions.contains(&foreign),
        "event {foreign} was stepped over: {positions:?}"
    );
    app.stop().await;
}

/// One resuming receiver for the restart test: follows the server wherever it restarts, resumes
/// from the last position it saw, and records every `message.new` id in the order received.
async fn follow(
    addr: tokio::sync::watch::Receiver<Option<std::net::SocketAddr>>,
    ca: String,
    token: String,
    mut pos: i64,
    last_id: std::sync::Arc<std::sync::atomic::AtomicI64>,
) -> Vec<i64> {
    use futures_util::StreamExt;
    use std::sync::atomic::Ordering;
    use tokio_tungstenite::tungstenite::Message;
    let mut ids: Vec<i64> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
    loop {
        let target = last_id.load(Ordering::SeqCst);
        if target > 0 && ids.last() == Some(&target) {
            return ids;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "receiver did not catch up"
        );
        let Some(a) = *addr.borrow() else {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        };
        let Some(mut ws) = try_ws(a, &ca, &token, Some(pos), None).await else {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        };
        loop {
            let msg = tokio::time::timeout(std::time::Duration::from_millis(500), ws.next()).await;
            let text = match msg {
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(_))) => continue,
                Ok(_) => break,
                // Quiet: the run may be over (check) or the server gone without a word.
                Err(_) => {
                    let target = last_id.load(Ordering::SeqCst);
                    if target > 0 && ids.last() == Some(&target) {
                        return ids;
                    }
                    if addr.borrow().is_some_and(|now| now == a) {
                        continue;
                    }
                    break;
                }
            };
            let f: Value = serde_json::from_str(text.as_str()).unwrap();
            if f["type"] == "ready" {
                assert_eq!(f["resync"], false, "{f}");
            }
            if f["type"] != "event" {
                continue;
            }
            let p = f["pos"].as_i64().unwrap();
            assert!(p > pos, "positions only grow: {p} after {pos}");
            pos = p;
            if f["event"]["kind"] == "message.new" {
                ids.push(f["event"]["message"]["id"].as_i64().unwrap());
            }
        }
    }
}

/// Restarts the server on the same data directory many times while messages flow. Each next
/// server is started as soon as the previous one begins stopping (as a supervisor that restarts
/// on a free port would), so the old one's last commits race the new one's first connections.
/// Every receiver must get every stored message exactly once, in order.
/// `OUTPOST_RESTART_CYCLES` raises the count (default 100, bounded to about a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarts_under_load_lose_nothing_and_repeat_nothing() {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let cycles: usize = std::env::var("OUTPOST_RESTART_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let budget = Duration::from_secs(
        std::env::var("OUTPOST_RESTART_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
    );
    let mut app = spawn_app_with(|c| {
        c.limits.messages_per_second = 100_000.0;
        c.limits.message_burst = 100_000;
    })
    .await;
    let admin = app.setup_admin().await;
    let senders = [
        app.invite_user(&admin, "alice", "alice-password").await,
        app.invite_user(&admin, "bob", "bob-password").await,
    ];
    let receivers = [
        app.invite_user(&admin, "carol", "carol-password").await,
        app.invite_user(&admin, "dave", "dave-password").await,
        app.invite_user(&admin, "erin", "erin-password").await,
    ];
    let ch = create_channel(&app, &senders[0], "restarts", false).await;
    for t in senders[1..].iter().chain(receivers.iter()) {
        let r = api(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/channels/{ch}/join"),
            None,
        )
        .await;
        assert!(r.status().is_success());
    }
    let ca = app.ca_pem();
    let (addr_tx, addr_rx) = tokio::sync::watch::channel(Some(app.https_addr()));
    let stop = Arc::new(AtomicBool::new(false));
    let last_id = Arc::new(AtomicI64::new(0));

    let mut followers = Vec::new();
    for t in &receivers {
        let (_, ready) = app.ws(t, None).await;
        followers.push(tokio::spawn(follow(
            addr_rx.clone(),
            ca.clone(),
            t.clone(),
            ready["position"].as_i64().unwrap(),
            last_id.clone(),
        )));
    }
    let mut posting = Vec::new();
    for (k, t) in senders.iter().enumerate() {
        let (addr, ca, t, stop) = (addr_rx.clone(), ca.clone(), t.clone(), stop.clone());
        posting.push(tokio::spawn(async move {
            let mut clients: Option<(std::net::SocketAddr, reqwest::Client)> = None;
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let Some(a) = *addr.borrow() else {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                };
                if clients.as_ref().is_none_or(|(was, _)| *was != a) {
                    let c = reqwest::Client::builder()
                        .use_preconfigured_tls(client_tls(&ca))
                        .resolve("localhost", a)
                        .timeout(Duration::from_secs(20))
                        .build()
                        .unwrap();
                    clients = Some((a, c));
                }
                let Some((_, c)) = &clients else { continue };
                // The same client_id on a retry: a message stored before a failed answer is
                // not stored twice.
                let r = c
                    .post(format!(
                        "https://localhost:{}/api/v1/channels/{ch}/messages",
                        a.port()
                    ))
                    .bearer_auth(&t)
                    .json(&json!({"body": format!("s{k}-{i}"), "client_id": format!("s{k}-{i}")}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => i += 1,
                    _ => tokio::time::sleep(Duration::from_millis(2)).await,
                }
            }
            i
        }));
    }

    let dir = app.dir.clone();
    let config = app.config.clone();
    let started = Instant::now();
    let mut done = 0;
    while done < cycles && started.elapsed() < budget {
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(20..120))).await;
        addr_tx.send_replace(None);
        let stopping = tokio::spawn(app.stop());
        app = spawn_in(dir.clone(), config.clone()).await;
        stopping.await.unwrap();
        addr_tx.send_replace(Some(app.https_addr()));
        done += 1;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = 0;
    for p in posting {
        acked += p.await.unwrap();
    }

    // The stored history, oldest first.
    let mut stored: Vec<i64> = Vec::new();
    let mut after = 0;
    loop {
        let page: Vec<Value> = api(
            &app,
            &senders[0],
            Method::GET,
            &format!("/api/v1/channels/{ch}/messages?after={after}&limit=200"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let Some(last) = page.last() else { break };
        after = last["seq"].as_i64().unwrap();
        stored.extend(page.iter().map(|m| m["id"].as_i64().unwrap()));
    }
    assert!(
        stored.len() >= acked,
        "{} stored, {acked} acknowledged",
        stored.len()
    );
    last_id.store(
        *stored.last().expect("messages were sent"),
        Ordering::SeqCst,
    );
    for f in followers {
        let got = f.await.unwrap();
        assert_eq!(
            got.len(),
            stored.len(),
            "a receiver missed or repeated messages"
        );
        assert_eq!(got, stored, "every message exactly once, in order");
    }
    eprintln!(
        "{done} restarts, {} messages, {:?}",
        stored.len(),
        started.elapsed()
    );
    assert!(done >= 20, "only {done} restarts in the time budget");
    app.stop().await;
}

/// Opens a WebSocket and returns it once `ready` arrived.
async fn ready_socket(app: &TestApp, token: &str) -> Ws {
    app.ws(token, None).await.0
}

#[tokio::test]
async fn refused_frames_dropped_the_socket_without_a_close_code() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::Message;

    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;

    // Over limits.max_ws_frame (64 KiB): 1009 "message too big".
    let mut ws = ready_socket(&app, &alice).await;
    ws.send_raw(&format!(
        "{{\"type\":\"ping\",\"req\":\"{}\"}}",
        "z".repeat(70 * 1024)
    ))
    .await;
    assert_eq!(ws.close_code().await, Some(1009));

    // A text frame that is not UTF-8: 1007 "invalid frame payload data".
    let mut ws = ready_socket(&app, &alice).await;
    let bad = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    ws.stream.send(Message::Frame(bad)).await.unwrap();
    assert_eq!(ws.close_code().await, Some(1007));

    // Binary frames are not part of the protocol: 1003 "unsupported data".
    let mut ws = ready_socket(&app, &alice).await;
    ws.stream
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(ws.close_code().await, Some(1003));

    // Frames that are text but not understood still get an error frame and the connection
    // stays (malformed_frames_get_an_error_and_the_connection_stays_usable).
    let mut ws = ready_socket(&app, &alice).await;
    ws.send_raw("{\"type\":\"ping\"").await;
    assert_eq!(ws.next().await.unwrap()["code"], "malformed-frame");
    let pong = ws.request(json!({"type": "ping"})).await;
    assert_eq!(pong["type"], "pong");
    app.stop().await;
}

#[tokio::test]
async fn refused_websocket_handshakes_were_answered_in_plain_text() {
    let app = spawn_app().await;
    let (alice, _, _) = three_users(&app).await;
    let c = app.api_client();
    let get = |version: Option<&str>, upgrade: bool, query: &str| {
        let mut rb = c
            .get(app.url(&format!("/api/v1/ws{query}")))
            .bearer_auth(&alice);
        if upgrade {
            rb = rb
                .header("connection", "upgrade")
                .header("upgrade", "websocket")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        }
        if let Some(v) = version {
            rb = rb.header("sec-websocket-version", v);
        }
        rb.send()
    };
    let check = |r: reqwest::Response, status: u16, code: &'static str| async move {
        assert_eq!(r.status(), status, "{code}");
        assert_eq!(r.headers()["content-type"], "application/json", "{code}");
        assert_eq!(error_code(r).await, code);
    };

    // A plain GET, as a browser tab opening the address would send.
    check(
        get(None, false, "").await.unwrap(),
        400,
        "websocket-required",
    )
    .await;
    // An unsupported protocol version: 426 naming the one we speak (RFC 6455 4.4).
    let r = get(Some("8"), true, "").await.unwrap();
    assert_eq!(r.headers()["sec-websocket-version"], "13");
    check(r, 426, "websocket-version").await;
    // A resume position that is not a number.
    check(
        get(Some("13"), true, "?resume_from=abc").await.unwrap(),
        400,
        "invalid-query",
    )
    .await;
    app.stop().await;
}
