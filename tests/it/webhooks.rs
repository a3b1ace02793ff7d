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
        (json!({"text": "   "}).to_string(), 400, Some("invalid")),
        (
            json!({"text": "x".repeat(17 * 1024)}).to_string(),
            413,
            None,
        ),
        (
            json!({"text": "hi", "display_name": "a\u{200b}dmin"}).to_string(),
            400,
            Some("invalid"),
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
