//! A database damaged inside row data (bytes overwritten mid-page, structure intact): `doctor`
//! names the rows, and the server serves around them and logs each.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const MARKER: &str = "ZQXDAMAGEDROWQZX";

/// Overwrites part of every copy of `MARKER` in the file with bytes that are not UTF-8; returns
/// how many copies there were.
fn damage(db: &std::path::Path) -> usize {
    let mut bytes = std::fs::read(db).unwrap();
    let needle = MARKER.as_bytes();
    let mut hits = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            for b in &mut bytes[i + 3..i + 9] {
                *b = 0xff;
            }
            hits += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    std::fs::write(db, bytes).unwrap();
    hits
}

#[tokio::test]
async fn damaged_rows_are_reported_by_doctor_and_served_around() {
    // Damage inside SQLite's file: this test is about the one-box store on either suite run.
    let app = spawn_app_with(|c| c.cluster.database.clear()).await;
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let ch = create_channel(&app, &alice, "damaged", false).await;
    let r = api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success());
    let (_, ready) = app.ws(&bob, None).await;
    let from = ready["position"].as_i64().unwrap();
    post_message(&app, &alice, ch, "before").await;
    let bad = post_message(&app, &alice, ch, &format!("this one {MARKER} gets damaged")).await;
    post_message(&app, &alice, ch, "after 1").await;
    post_message(&app, &alice, ch, "after 2").await;
    let (dir, config) = app.stop().await;

    let db = config.db_path();
    // The message row and its event's payload.
    assert!(damage(&db) >= 2);
    let data = config.data_dir.to_str().unwrap().to_string();

    let d = data.clone();
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(["doctor", "--data-dir", &d])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{text}");
    let bad_id = bad["id"].as_i64().unwrap();
    assert!(
        text.contains(&format!("damaged row: table messages rowid {bad_id}")),
        "{text}"
    );
    assert!(text.contains("damaged row: table events rowid"), "{text}");

    // The server starts, and the channel's history answers without the damaged row.
    let d = data.clone();
    let (server, log) = tokio::task::spawn_blocking(move || serve_with_log(&d, &[]))
        .await
        .unwrap();
    let addr: std::net::SocketAddr = server.https.parse().unwrap();
    let ca = std::fs::read_to_string(config.data_dir.join("certs/ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(&ca))
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let r = client
        .get(format!(
            "https://localhost:{}/api/v1/channels/{ch}/messages",
            addr.port()
        ))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Vec<Value> = r.json().await.unwrap();
    let bodies: Vec<&str> = page.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["before", "after 1", "after 2"]);

    // A client resuming from before the damaged event gets the ones after it and is told to
    // reload, every time it tries.
    for _ in 0..2 {
        let (mut ws, ready) = ws_connect(addr, &ca, &bob, Some(from)).await;
        assert_eq!(ready["resync"], true, "{ready}");
        assert_eq!(ready["skipped"], 1, "{ready}");
        let mut got = Vec::new();
        while let Some(f) = ws.poll(Duration::from_millis(300)).await {
            if f["type"] == "event" && f["event"]["kind"] == "message.new" {
                got.push(f["event"]["message"]["body"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(got, ["before", "after 1", "after 2"]);
        ws.send(json!({"type": "ping", "req": "p"})).await;
        assert_eq!(ws.wait_for("pong").await["req"], "p");
    }

    // Each damaged row was logged, with its table and id.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines = log.lock().unwrap().clone();
        let logged = |table: &str| {
            lines.iter().any(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or_default();
                v["level"] == "ERROR" && l.contains(&format!("\"table\":\"{table}\""))
            })
        };
        if logged("messages") && logged("events") {
            break;
        }
        assert!(Instant::now() < deadline, "not logged: {lines:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);
    drop(dir);
}
