//! Incoming webhooks: who may create, list and delete them; what a post through one looks like
//! to members (stored, live, mentions); and bad input at the secret URL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn hook_post(app: &TestApp, path: &str, body: reqwest::Body) -> reqwest::Response {
    app.api_client()
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn join(app: &TestApp, token: &str, ch: i64) {
    let r = api(
        app,
        token,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn owners_and_admins_manage_webhooks_and_nobody_else_sees_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let carol = app.invite_user(&admin, "carol", "carol-password").await;
    let ops = create_channel(&app, &alice, "ops", false).await;
    join(&app, &bob, ops).await;
    let secret = create_channel(&app, &alice, "secret", true).await;
    let hooks = |ch: i64| format!("/api/v1/channels/{ch}/webhooks");

    // A member who does not own the channel, and a non-member of a private one, get nothing.
    let r = api(
        &app,
        &bob,
        Method::POST,
        &hooks(ops),
        Some(json!({"name": "Zabbix"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(&app, &bob, Method::GET, &hooks(ops), None).await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &carol,
        Method::POST,
        &hooks(secret),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = api(
        &app,
        &alice,
        Method::POST,
        &hooks(ops),
        Some(json!({"name": "  "})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        &app,
        &alice,
        Method::POST,
        &hooks(ops),
        Some(json!({"name": "Zab\u{202e}bix"})),
    )
    .await;
    assert_eq!(
        r.status(),
        400,
        "names people read cannot hide text direction tricks"
    );
    let r = api(
        &app,
        &alice,
        Method::POST,
        &hooks(ops),
        Some(json!({"name": 5})),
    )
    .await;
    assert_eq!(r.status(), 400);

    // The owner creates one: the URL is shown once and never listed again.
    let r = api(
        &app,
        &alice,
        Method::POST,
        &hooks(ops),
        Some(json!({"name": "Zabbix"})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    assert_eq!(created["path"], format!("/api/v1/hooks/{token}"));
    let list: Value = api(&app, &alice, Method::GET, &hooks(ops), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "Zabbix");
    assert!(!list.to_string().contains(&token));
    // An administrator who is not a member may manage it too, even in a private channel.
    let r = api(
        &app,
        &admin,
        Method::POST,
        &hooks(secret),
        Some(json!({"name": "Alarm"})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let alarm: Value = r.json().await.unwrap();

    // Deleting: not by a member who does not own the channel; by the owner, at once.
    let id = created["webhook"]["id"].as_i64().unwrap();
    let r = api(
        &app,
        &bob,
        Method::DELETE,
        &format!("/api/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &carol,
        Method::DELETE,
        &format!("/api/v1/webhooks/{}", alarm["webhook"]["id"]),
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    let path = format!("/api/v1/hooks/{token}");
    let r = hook_post(&app, &path, json!({"text": "before"}).to_string().into()).await;
    assert_eq!(r.status(), 200);
    let r = api(
        &app,
        &alice,
        Method::DELETE,
        &format!("/api/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    let r = hook_post(&app, &path, json!({"text": "after"}).to_string().into()).await;
    assert_eq!(r.status(), 404, "a deleted webhook's URL is dead at once");
    // What it posted stays, under its name.
    let msgs: Value = app
        .get_with(&bob, &format!("/api/v1/channels/{ops}/messages"))
        .await
        .json()
        .await
        .unwrap();
    let before = msgs
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "before")
        .unwrap();
    assert_eq!(before["sender_name"], "Zabbix");

    let audit: Value = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(text.contains("webhook-created") && text.contains("webhook-deleted"));
    assert!(!text.contains(&token), "the secret is not in the audit log");
    app.stop().await;
}

#[tokio::test]
async fn a_post_reaches_members_live_with_its_sender_name_and_mentions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let ops = create_channel(&app, &alice, "ops", false).await;
    join(&app, &bob, ops).await;
    let r = api(
        &app,
        &alice,
        Method::POST,
        &format!("/api/v1/channels/{ops}/webhooks"),
        Some(json!({"name": "Zabbix"})),
    )
    .await;
    let created: Value = r.json().await.unwrap();
    let path = created["path"].as_str().unwrap().to_string();
    let (mut ws, _) = app.ws(&bob, None).await;

    let r = hook_post(
        &app,
        &path,
        json!({"text": "@channel disk full on **db1**", "display_name": "Zabbix (HQ)"})
            .to_string()
            .into(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let posted: Value = r.json().await.unwrap();
    assert_eq!(posted["channel_id"], ops);
    let ev = ws.next_event().await;
    assert_eq!(ev["event"]["kind"], "message.new");
    let m = &ev["event"]["message"];
    assert_eq!(m["id"], posted["message_id"]);
    assert_eq!(m["author_id"], Value::Null, "not a person");
    assert_eq!(m["sender_name"], "Zabbix (HQ)");
    assert_eq!(m["webhook_id"], created["webhook"]["id"]);
    assert_eq!(m["body"], "@channel disk full on **db1**");
    // @channel counts as a mention for every member.
    let channels: Value = app
        .get_with(&bob, "/api/v1/channels")
        .await
        .json()
        .await
        .unwrap();
    let mine = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == ops)
        .unwrap();
    assert_eq!(mine["mentions"], 1, "{mine}");
    // Its own name when the post names none; found by search like any message.
    let r = hook_post(
        &app,
        &path,
        json!({"text": "generator started"}).to_string().into(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let ev = ws.next_event().await;
    assert_eq!(ev["event"]["message"]["sender_name"], "Zabbix");
    let hits: Value = app
        .get_with(&bob, "/api/v1/search?q=generator")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let list: Value = app
        .get_with(&alice, &format!("/api/v1/channels/{ops}/webhooks"))
        .await
        .json()
        .await
        .unwrap();
    assert!(list[0]["last_used_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn bad_posts_get_clear_errors_and_store_nothing() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ops = create_channel(&app, &admin, "ops", false).await;
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ops}/webhooks"),
        Some(json!({"name": "Zabbix"})),
    )
    .await;
    let created: Value = r.json().await.unwrap();
    let path = created["path"].as_str().unwrap().to_string();
    let stored = || async {
        app.get_with(&admin, &format!("/api/v1/channels/{ops}/messages"))
            .await
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["webhook_id"].is_number())
            .count()
    };

    for (body, status, code) in [
        ("{\"text\": \"unterminated".to_string(), 400, None),
        (json!({"text": 5}).to_string(), 400, None),
        (json!({"body": "wrong field"}).to_string(), 400, None),
        (
            json!({"text": "   "}).to_string(),
            400,
            Some("empty-message"),
        ),
        (
            json!({"text": "x".repeat(17 * 1024)}).to_string(),
            413,
            None,
        ),
        (
            json!({"text": "hi", "display_name": "a\u{200b}dmin"}).to_string(),
            400,
            Some("hidden-characters"),
        ),
        (
            json!({"text": "x".repeat(300 * 1024)}).to_string(),
            413,
            None,
        ),
    ] {
        let r = hook_post(&app, &path, body.clone().into()).await;
        assert_eq!(r.status(), status, "{}", &body[..body.len().min(60)]);
        let got = error_code(r).await;
        if let Some(code) = code {
            assert_eq!(got, code);
        }
    }
    let r = hook_post(
        &app,
        "/api/v1/hooks/not-a-real-token",
        json!({"text": "hi"}).to_string().into(),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = hook_post(
        &app,
        &format!("/api/v1/hooks/{}", "x".repeat(300)),
        json!({"text": "hi"}).to_string().into(),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(stored().await, 0, "nothing stored from bad posts");

    // A runaway script is slowed down: at most a burst, then 429 with Retry-After.
    let mut ok = 0;
    let mut limited = false;
    for i in 0..60 {
        let r = hook_post(
            &app,
            &path,
            json!({"text": format!("alert {i}")}).to_string().into(),
        )
        .await;
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            limited = true;
            break;
        }
        assert_eq!(r.status(), 200);
        ok += 1;
    }
    assert!(limited && ok >= 30, "{ok} accepted before the limit");
    assert_eq!(stored().await, ok);
    app.stop().await;
}

/// A receiver on loopback that records what it is sent and answers with `answer`.
async fn receiver(
    answer: Value,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
) {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let seen = seen.clone();
            let answer = answer.clone();
            async move {
                seen.lock().unwrap().push(v);
                axum::Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, got)
}

#[tokio::test]
async fn outgoing_webhooks_call_the_lan_system_an_admin_entered_and_post_its_answer() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let ops = create_channel(&app, &alice, "ops", false).await;
    let (addr, got) = receiver(json!({"text": "db1 is up, load 0.3"})).await;
    let path = format!("/api/v1/channels/{ops}/outgoing-webhooks");
    let url = format!("http://{addr}/hook");

    // Only administrators make Outpost call out, and only to an IP address over http.
    let r = api(
        &app,
        &alice,
        Method::POST,
        &path,
        Some(json!({"name": "Status", "trigger_words": ["!status"], "url": url})),
    )
    .await;
    assert_eq!(r.status(), 403, "not even the channel's owner");
    for bad in [
        "http://monitor.local/hook",
        "https://10.0.0.1/",
        "gopher://1.2.3.4/",
    ] {
        let r = api(
            &app,
            &admin,
            Method::POST,
            &path,
            Some(json!({"name": "Status", "trigger_words": ["!status"], "url": bad})),
        )
        .await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let r = api(
        &app,
        &admin,
        Method::POST,
        &path,
        Some(json!({"name": "Status", "trigger_words": [], "url": url})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        &app,
        &admin,
        Method::POST,
        &path,
        Some(json!({"name": "Status", "trigger_words": ["!status", "!st"], "url": url})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let hook: Value = r.json().await.unwrap();
    assert_eq!(
        app.get_with(&alice, "/api/v1/outgoing-webhooks")
            .await
            .status(),
        403
    );

    // A message not starting with a trigger calls nothing; one that does is sent, and the
    // answer comes back into the channel under the webhook's name.
    let (mut ws, _) = app.ws(&alice, None).await;
    post_message(&app, &alice, ops, "what is the !status of db1").await;
    post_message(&app, &alice, ops, "!status db1").await;
    let mut answer = None;
    for _ in 0..4 {
        let ev = ws.next_event().await;
        if ev["event"]["message"]["sender_name"] == "Status" {
            answer = Some(ev["event"]["message"].clone());
            break;
        }
    }
    let answer = answer.expect("the answer is posted back");
    assert_eq!(answer["body"], "db1 is up, load 0.3");
    assert_eq!(answer["author_id"], Value::Null);
    let calls = got.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "only the triggering message was sent");
    assert_eq!(calls[0]["text"], "!status db1");
    assert_eq!(calls[0]["trigger_word"], "!status");
    assert_eq!(calls[0]["user_name"], "alice");
    assert_eq!(calls[0]["channel_name"], "ops");
    assert_eq!(calls[0]["token"], hook["secret"]);

    // A receiver that is down costs the sender nothing, and the failure is audited.
    let r = api(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/outgoing-webhooks/{}", hook["id"]),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    drop(dead);
    let r = api(
        &app,
        &admin,
        Method::POST,
        &path,
        Some(json!({"name": "Down", "trigger_words": ["!ping"], "url": dead_url})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let sent = post_message(&app, &alice, ops, "!ping").await;
    assert!(sent["id"].is_number());
    post_message(&app, &alice, ops, "!status again").await;
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "a deleted webhook calls no more"
    );
    let mut audited = false;
    for _ in 0..50 {
        let audit: Value = app
            .get_with(&admin, "/api/v1/admin/audit?action=outgoing-webhook-called")
            .await
            .json()
            .await
            .unwrap();
        let text = audit.to_string();
        if text.contains("cannot connect") {
            assert!(
                text.contains("HTTP 200"),
                "the successful call is audited too"
            );
            audited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(audited, "each call is in the audit log");
    app.stop().await;
}
