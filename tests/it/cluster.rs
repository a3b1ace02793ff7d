//! Cluster mode's store (issue 18): moving a one-box site into PostgreSQL with nothing lost.
//! These tests need a PostgreSQL server: `scripts/with-postgres` starts one for the run and sets
//! `OUTPOST_TEST_DATABASE` (scripts/test does). Without it they say so and pass nothing off as
//! tested: the whole rest of the suite then runs on SQLite.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn outpost(args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = outpost_bin()
            .args(&args)
            .env_remove("OUTPOST_CLUSTER_DATABASE")
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .unwrap()
}

async fn history(app: &TestApp, token: &str, ch: i64) -> Vec<Value> {
    api(
        app,
        token,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages?limit=200"),
        None,
    )
    .await
    .json()
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_box_site_moves_into_postgres_with_nothing_lost() {
    let Some(url) = test_database() else {
        eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE (scripts/with-postgres)");
        return;
    };
    // A one-box site with people, channels, a thread, a reaction, a direct message.
    let app = spawn_app_with(|c| c.cluster.database.clear()).await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let ch = create_channel(&app, &admin, "ops", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let root = post_message(&app, &admin, ch, "fuel convoy leaves at noon").await;
    for i in 0..30 {
        post_message(&app, &bob, ch, &format!("status report {i}")).await;
    }
    let reply = api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "copied", "thread_root": root["id"]})),
    )
    .await;
    assert_eq!(reply.status(), 200);
    let reply: Value = reply.json().await.unwrap();
    let r = api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/messages/{}/reactions", root["id"]),
        Some(json!({"emoji": "👍"})),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    let before = history(&app, &admin, ch).await;
    let (_, ready) = app.ws(&bob, None).await;
    let position = ready["position"].as_i64().unwrap();
    let data = app.data_dir();
    let config = app.config.clone();
    let dir = app.dir.clone();

    // Refused while the server runs: it holds the data dir.
    let args = |to: &str| {
        vec![
            "migrate".to_string(),
            "--to".into(),
            to.to_string(),
            "--data-dir".into(),
            data.to_string_lossy().into_owned(),
        ]
    };
    let (ok, out) = outpost(args(&url)).await;
    assert!(!ok && out.contains("stop it first"), "{out}");
    app.stop().await;

    let (ok, out) = outpost(args(&url)).await;
    assert!(ok, "{out}");
    assert!(out.contains("moved") && out.contains(" s;"), "{out}");
    assert!(!out.contains(&url), "the URL may hold a password: {out}");
    // The SQLite file is kept aside, never served again; a second move is refused.
    assert!(!data.join("outpost.db").exists());
    let (ok, out) = outpost(args(&url)).await;
    assert!(!ok && out.contains("already"), "{out}");

    // The node starts on PostgreSQL (its data dir remembers the database): the same people,
    // sessions, history, reactions and positions.
    let mut config = config;
    config.cluster.database = url.clone();
    let moved = spawn_in(dir, config).await;
    assert_eq!(moved.get_with(&bob, "/api/v1/me").await.status(), 200);
    assert_eq!(login(&moved, "bob", "bob-password").await.status(), 200);
    let after = history(&moved, &admin, ch).await;
    assert_eq!(before, after);
    let (mut ws, ready) = moved.ws(&bob, Some(position)).await;
    assert!(ready["position"].as_i64().unwrap() >= position);
    // New messages continue the numbering: next seq in the channel, a new id, delivered live.
    let new = post_message(&moved, &admin, ch, "after the move").await;
    assert_eq!(
        new["seq"].as_i64().unwrap(),
        reply["seq"].as_i64().unwrap() + 1
    );
    assert_eq!(
        new["id"].as_i64().unwrap(),
        reply["id"].as_i64().unwrap() + 1
    );
    let frame = loop {
        let f = ws.next_event().await;
        if f["event"]["message"]["body"] == "after the move" {
            break f;
        }
    };
    assert!(frame["pos"].as_i64().unwrap() > position);
    // Search finds moved messages (indexed in PostgreSQL after the move).
    let hits: Vec<Value> = api(&moved, &bob, Method::GET, "/api/v1/search?q=convoys", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    moved.stop().await;

    // Into a database that already holds a site: refused, nothing written.
    let fresh = spawn_app_with(|c| c.cluster.database.clear()).await;
    fresh.setup_admin().await;
    let fresh_data = fresh.data_dir();
    let _kept = fresh.stop().await;
    let (ok, out) = outpost(vec![
        "migrate".into(),
        "--to".into(),
        url.clone(),
        "--data-dir".into(),
        fresh_data.to_string_lossy().into_owned(),
    ])
    .await;
    assert!(!ok && out.contains("already holds a site"), "{out}");
    assert!(fresh_data.join("outpost.db").exists());
}

/// The bodies of `message.new` events a client receives until it has `n`, with their positions.
async fn receive_messages(ws: &mut Ws, n: usize) -> Vec<(i64, String)> {
    let mut got = Vec::new();
    while got.len() < n {
        let f = tokio::time::timeout(WAIT, ws.next_event())
            .await
            .expect("every message arrives");
        if f["event"]["kind"] == "message.new" {
            got.push((
                f["pos"].as_i64().unwrap(),
                f["event"]["message"]["body"].as_str().unwrap().to_string(),
            ));
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_deliver_every_message_to_members_on_either_in_the_same_order() {
    let Some(url) = test_database() else {
        eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE (scripts/with-postgres)");
        return;
    };
    let a = spawn_app_with(|c| c.cluster.database = url.clone()).await;
    let b = spawn_app_with(|c| c.cluster.database = url.clone()).await;
    let alice = a.setup_admin().await;
    let bob = a.invite_user(&alice, "bob", "bob-password").await;
    let carol = b.invite_user(&alice, "carol", "carol-password").await;
    let ch = create_channel(&a, &alice, "ops", false).await;
    // Bob joins through node B; both nodes know him as a member at once.
    let r = api(
        &b,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success());

    let (mut wa, _) = a.ws(&alice, None).await;
    let (mut wb, _) = b.ws(&bob, None).await;
    // Carol is connected to A and joins through B: A's connections learn of her membership
    // from the log, so she gets what is posted on B.
    let (mut wc, _) = a.ws(&carol, None).await;
    let r = api(
        &b,
        &carol,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success());

    // Both post at once, each through their own node.
    let n = 40;
    let sends = |app: &TestApp, token: String, who: &'static str| {
        let client = app.api_client();
        let url = app.url(&format!("/api/v1/channels/{ch}/messages"));
        tokio::spawn(async move {
            for i in 0..n {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"body": format!("{who} {i}"), "client_id": format!("{who}-{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        })
    };
    let ta = sends(&a, alice.clone(), "alice");
    let tb = sends(&b, bob.clone(), "bob");
    ta.await.unwrap();
    tb.await.unwrap();

    let seen_a = receive_messages(&mut wa, 2 * n).await;
    let seen_b = receive_messages(&mut wb, 2 * n).await;
    let seen_c = receive_messages(&mut wc, 2 * n).await;
    // The same events in the same order on both nodes, positions rising without repeats.
    assert_eq!(seen_a, seen_b);
    assert_eq!(seen_a, seen_c);
    assert!(seen_a.windows(2).all(|w| w[0].0 < w[1].0), "{seen_a:?}");
    // And in the order of the channel's history.
    let history = history(&b, &alice, ch).await;
    let bodies: Vec<&str> = history
        .iter()
        .filter(|m| m["body"].as_str().is_some_and(|s| s.contains(' ')))
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    let live: Vec<&str> = seen_a.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(bodies, live);

    // Node A goes away; Alice resumes on B from the last position she saw: what was posted
    // meanwhile arrives once, nothing before it again.
    let last = seen_a.last().unwrap().0;
    drop(wa);
    drop(wc);
    let _kept = a.stop().await;
    for i in 0..5 {
        post_message(&b, &bob, ch, &format!("while A is down {i}")).await;
    }
    let (mut wa, _) = b.ws(&alice, Some(last)).await;
    let resumed = receive_messages(&mut wa, 5).await;
    let bodies: Vec<&str> = resumed.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(
        bodies,
        (0..5)
            .map(|i| format!("while A is down {i}"))
            .collect::<Vec<_>>()
    );
    assert!(resumed[0].0 > last);
    b.stop().await;
}
