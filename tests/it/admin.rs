//! Observability and accountability: `/metrics`, `outpost status`, the admin status endpoint and
//! the audit log.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn audit(app: &TestApp, admin: &str) -> Vec<Value> {
    api(
        app,
        admin,
        Method::GET,
        "/api/v1/admin/audit?limit=1000",
        None,
    )
    .await
    .json()
    .await
    .unwrap()
}

fn has(entries: &[Value], action: &str, pred: impl Fn(&Value) -> bool) -> bool {
    entries.iter().any(|e| e["action"] == action && pred(e))
}

#[tokio::test]
async fn security_events_are_in_the_audit_log_and_exportable_by_admins_only() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let c = app.api_client();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "bob", "password": "wrong-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "bob", "password": "bob-password"}))
        .send()
        .await
        .unwrap();
    let bob2 = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    api(&app, &bob2, Method::POST, "/api/v1/auth/logout", None).await;
    let ch = create_channel(&app, &bob, "ops", false).await;
    let users: Vec<Value> = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let admin_id = users.iter().find(|u| u["username"] == ADMIN).unwrap()["id"].clone();
    let bob_id = users.iter().find(|u| u["username"] == "bob").unwrap()["id"].clone();
    // An admin who is not a member changes membership and archives.
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/members"),
        Some(json!({"user_id": admin_id})),
    )
    .await;
    assert_eq!(r.status(), 204);
    api(
        &app,
        &admin,
        Method::PATCH,
        &format!("/api/v1/channels/{ch}"),
        Some(json!({"archived": true})),
    )
    .await;
    api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{bob_id}/disable"),
        None,
    )
    .await;

    // The CLI promotes someone; that is recorded too.
    let d = app.data_dir();
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(["user", "promote", "bob", "--data-dir", d.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());

    let log = audit(&app, &admin).await;
    let from_loopback = |e: &Value| e["address"] == "127.0.0.1";
    assert!(
        has(&log, "user-created", |e| e["target"] == ADMIN),
        "{log:#?}"
    );
    assert!(has(&log, "invite-created", |e| e["actor"] == ADMIN));
    assert!(has(&log, "invite-used", |e| e["target"] == "bob"));
    assert!(has(&log, "user-created", |e| e["target"] == "bob"));
    assert!(has(&log, "sign-in-failed", |e| e["target"] == "bob"
        && from_loopback(e)));
    assert!(has(&log, "sign-in", |e| e["actor"] == "bob" && from_loopback(e)));
    assert!(has(&log, "session-revoked", |e| e["actor"] == "bob"));
    assert!(has(&log, "channel-created", |e| e["target"]
        == format!("#ops ({ch})")));
    assert!(has(&log, "member-added", |e| e["actor"] == ADMIN));
    assert!(has(&log, "channel-archived", |e| e["actor"] == ADMIN));
    assert!(has(&log, "user-disabled", |e| e["target"] == "bob"
        && e["actor"] == ADMIN));
    assert!(has(&log, "user-promoted", |e| e["target"] == "bob"
        && e["actor"] == "cli"));
    assert!(
        !log.iter().any(|e| e.to_string().contains("bob-password")),
        "no secrets"
    );

    let csv = api(
        &app,
        &admin,
        Method::GET,
        "/api/v1/admin/audit?format=csv",
        None,
    )
    .await;
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("id,at,actor_id,actor,action,target,address,details\n"));
    assert!(text.contains("\"sign-in-failed\""));
    let carol = app.invite_user(&admin, "carol", "carol-password").await;
    assert_eq!(
        api(&app, &carol, Method::GET, "/api/v1/admin/audit", None)
            .await
            .status(),
        403
    );

    // A restart with a different configuration is recorded.
    let (dir, mut config) = app.stop().await;
    config.site_name = "Renamed Site".into();
    let app = spawn_in(dir, config).await;
    let log = audit(&app, &admin).await;
    assert!(has(&log, "config-changed", |e| e["actor"] == "system"));
    app.stop().await;
}

/// Parses with the Prometheus client's own parser; a cluster node's `node` label is left out
/// of the keys, so one set of assertions serves both engines.
fn prometheus_parses(text: &str) -> Value {
    let script = "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families\nout = {}\nfor fam in text_string_to_metric_families(sys.stdin.read()):\n    for s in fam.samples:\n        labels = {k: v for k, v in s.labels.items() if k != 'node'}\n        out[s.name + ('' if not labels else str(sorted(labels.items())))] = s.value\nprint(json.dumps(out))\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not valid Prometheus text: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn metrics_are_valid_prometheus_text_and_remote_non_admins_are_refused() {
    // Loopback is trusted by default: the test client is on 127.0.0.1.
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "m", false).await;
    let (mut ws, _) = app.ws(&admin, None).await;
    for i in 0..3 {
        ws.request(json!({"type": "send", "channel_id": ch, "body": format!("hello {i}")}))
            .await;
    }
    for _ in 0..3 {
        ws.next_event().await;
    }
    let r = app
        .api_client()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let m = prometheus_parses(&r.text().await.unwrap());
    assert_eq!(m["outpost_open_connections"], 1.0);
    assert_eq!(m["outpost_messages_total"], 3.0);
    assert!(m["outpost_database_bytes"].as_f64().unwrap() > 0.0);
    assert!(m["outpost_certificate_expiry_seconds"].as_f64().unwrap() > 80.0 * 86400.0);
    assert!(
        m["outpost_delivery_latency_seconds_count"]
            .as_f64()
            .unwrap()
            >= 3.0
    );
    let status: Value = api(&app, &admin, Method::GET, "/api/v1/admin/status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["messages_total"], 3);
    assert_eq!(status["open_connections"], 1);

    // `outpost status` on the same machine reads the same figures.
    let d = app.data_dir();
    let listen = app.https_addr().to_string();
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(["status", "--data-dir", d.to_str().unwrap()])
            .env("OUTPOST_LISTEN", listen)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("open connections:     1"), "{text}");
    assert!(text.contains("messages since start: 3"), "{text}");
    app.stop().await;

    // With loopback not trusted, the server treats the client as remote.
    let app = spawn_app_with(|c| c.metrics.allow_loopback = false).await;
    let admin = app.setup_admin().await;
    let member = app.invite_user(&admin, "member", "member-password").await;
    assert_eq!(
        app.api_client()
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(app.get_with(&member, "/metrics").await.status(), 403);
    let r = app.get_with(&admin, "/metrics").await;
    assert_eq!(r.status(), 200);
    prometheus_parses(&r.text().await.unwrap());
    assert_eq!(
        app.get_with(&member, "/api/v1/admin/status").await.status(),
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn retention_deletes_exactly_the_expired_messages_and_is_audited() {
    let app = spawn_app_with(|c| c.retention.days = 30).await;
    let admin = app.setup_admin().await;
    let member = app.invite_user(&admin, "member", "member-password").await;
    let general = create_channel(&app, &admin, "lobby", false).await;
    let short = create_channel(&app, &admin, "short", false).await;
    let mut ids = std::collections::HashMap::new();
    for (ch, name) in [
        (general, "old"),
        (general, "old-root"),
        (general, "new"),
        (short, "week-old"),
        (short, "today"),
    ] {
        ids.insert(
            name,
            post_message(&app, &admin, ch, name).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let path = format!("/api/v1/channels/{general}/messages");
    let reply = |root: i64, body: &'static str| {
        api(
            &app,
            &admin,
            Method::POST,
            &path,
            Some(json!({"body": body, "thread_root": root})),
        )
    };
    let old_reply = reply(ids["old-root"], "old reply")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let new_reply = reply(ids["old-root"], "new reply")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // Age some messages directly in the database.
    let day = 86_400_000i64;
    let now = outpost::store::now_ms();
    let ages = [
        (ids["old"], 40),
        (ids["old-root"], 40),
        (old_reply, 35),
        (new_reply, 1),
        (ids["week-old"], 8),
    ];
    app.beside(move |db| {
        for (id, age_days) in ages {
            db.execute(
                "UPDATE messages SET created_at = ?1 WHERE id = ?2",
                [now - age_days * day, id],
            )?;
        }
        Ok(())
    })
    .await;
    // A member may not set retention; an admin sets one week for #short.
    let r = api(
        &app,
        &member,
        Method::PUT,
        &format!("/api/v1/admin/channels/{short}/retention"),
        Some(json!({"days": 7})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::PUT,
        &format!("/api/v1/admin/channels/{short}/retention"),
        Some(json!({"days": 7})),
    )
    .await;
    assert_eq!(r.status(), 204);

    let deleted = app.handle.state.chat.apply_retention(30).await.unwrap();
    assert_eq!(deleted, 3, "old, old reply, week-old");
    let page: Vec<Value> = api(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/channels/{general}/messages"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let bodies: Vec<&str> = page.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        vec!["old-root", "new"],
        "a root stays while a reply is younger"
    );
    assert_eq!(page[0]["reply_count"], 1);
    let thread: Vec<Value> = api(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/messages/{}/thread", ids["old-root"]),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(thread.len(), 2);
    let page: Vec<Value> = api(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/channels/{short}/messages"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["body"], "today");
    let hits: Vec<Value> = api(&app, &admin, Method::GET, "/api/v1/search?q=old", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        hits.iter().all(|h| h["message"]["body"] != "old"),
        "gone from search too"
    );
    let log = audit(&app, &admin).await;
    assert_eq!(
        log.iter()
            .filter(|e| e["action"] == "retention-applied")
            .count(),
        2
    );
    assert!(has(&log, "retention-set", |e| e["actor"] == ADMIN));
    // Nothing else is due.
    assert_eq!(app.handle.state.chat.apply_retention(30).await.unwrap(), 0);
    app.stop().await;
}
