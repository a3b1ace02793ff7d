//! Bot accounts and API tokens: only administrators create them; a token is shown once, works
//! like a session within its scopes, over the REST API and the WebSocket, and stops at once
//! when revoked or when the bot is disabled.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn new_bot(app: &TestApp, admin: &str, name: &str) -> i64 {
    let r = api(
        app,
        admin,
        Method::POST,
        "/api/v1/bots",
        Some(json!({"username": name, "display_name": "Duty Bot"})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let bot: Value = r.json().await.unwrap();
    assert_eq!(bot["is_bot"], true);
    bot["id"].as_i64().unwrap()
}

async fn new_token(app: &TestApp, admin: &str, bot: i64, scopes: &[&str]) -> (i64, String) {
    let r = api(
        app,
        admin,
        Method::POST,
        &format!("/api/v1/bots/{bot}/tokens"),
        Some(json!({"name": "duty roster", "scopes": scopes})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    (
        t["id"].as_i64().unwrap(),
        t["token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn only_administrators_make_bots_and_tokens_and_secrets_show_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/bots",
        Some(json!({"username": "dutybot"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.get_with(&bob, "/api/v1/bots").await.status(), 403);
    let bot = new_bot(&app, &admin, "dutybot").await;
    let r = api(
        &app,
        &admin,
        Method::POST,
        "/api/v1/bots",
        Some(json!({"username": "dutybot"})),
    )
    .await;
    assert_eq!(r.status(), 409);
    let r = api(
        &app,
        &admin,
        Method::POST,
        "/api/v1/bots",
        Some(json!({"username": "no spaces"})),
    )
    .await;
    assert_eq!(r.status(), 400);

    let path = format!("/api/v1/bots/{bot}/tokens");
    let r = api(
        &app,
        &bob,
        Method::POST,
        &path,
        Some(json!({"name": "x", "scopes": ["read"]})),
    )
    .await;
    assert_eq!(r.status(), 403);
    for scopes in [json!([]), json!(["root"]), json!("read")] {
        let r = api(
            &app,
            &admin,
            Method::POST,
            &path,
            Some(json!({"name": "x", "scopes": scopes})),
        )
        .await;
        assert_eq!(r.status(), 400, "{scopes}");
    }
    let users: Value = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let bob_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "bob")
        .unwrap()["id"]
        .clone();
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/bots/{bob_id}/tokens"),
        Some(json!({"name": "x", "scopes": ["read"]})),
    )
    .await;
    assert_eq!(r.status(), 404, "people do not get bot tokens");

    let (_, secret) = new_token(&app, &admin, bot, &["write"]).await;
    let list: Value = app
        .get_with(&admin, "/api/v1/bots")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["user"]["username"], "dutybot");
    assert_eq!(list[0]["tokens"][0]["scopes"], json!(["read", "write"]));
    assert!(!list.to_string().contains(&secret));
    // A bot cannot sign in with any password.
    for password in ["", "!", "dutybot"] {
        let r = app
            .api_client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "dutybot", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let audit: Value = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("api-token-created"));
    assert!(!audit.to_string().contains(&secret));
    app.stop().await;
}

#[tokio::test]
async fn a_token_acts_within_its_scopes_over_http_and_the_websocket() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let ops = create_channel(&app, &alice, "ops", false).await;
    let bot = new_bot(&app, &admin, "dutybot").await;
    let (_, writer) = new_token(&app, &admin, bot, &["write"]).await;
    let (_, reader) = new_token(&app, &admin, bot, &["read"]).await;

    // Write: join and post like a person; others see the bot as a bot.
    let r = api(
        &app,
        &writer,
        Method::POST,
        &format!("/api/v1/channels/{ops}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success());
    let m = post_message(&app, &writer, ops, "shift change at 19:00").await;
    assert_eq!(m["author_id"], bot);
    let users: Value = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let listed = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == bot)
        .unwrap();
    assert_eq!(listed["is_bot"], true);
    let history: Value = app
        .get_with(&alice, &format!("/api/v1/channels/{ops}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["author_id"] == bot));
    let people: Value = app
        .get_with(&alice, "/api/v1/people")
        .await
        .json()
        .await
        .unwrap();
    let person = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == bot)
        .unwrap();
    assert_eq!(person["is_bot"], true, "people see it is a bot");

    // Read: reading works, writing does not, over HTTP and the WebSocket.
    let r = app
        .get_with(&reader, &format!("/api/v1/channels/{ops}/messages"))
        .await;
    assert_eq!(r.status(), 200);
    let r = api(
        &app,
        &reader,
        Method::POST,
        &format!("/api/v1/channels/{ops}/messages"),
        Some(json!({"body": "no"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "insufficient-scope");
    let (mut ws, _) = app.ws(&reader, None).await;
    let answer = ws
        .request(json!({"type": "send", "channel_id": ops, "client_id": "r1", "body": "no"}))
        .await;
    assert_eq!(answer["type"], "error");
    assert_eq!(answer["code"], "insufficient-scope");
    // …but it does receive what others post.
    post_message(&app, &alice, ops, "hello bot").await;
    let ev = ws.next_event().await;
    assert_eq!(ev["event"]["message"]["body"], "hello bot");

    // Administration needs both an administrator account and the admin scope.
    assert_eq!(
        app.get_with(&writer, "/api/v1/admin/status").await.status(),
        403
    );
    let out = cli_beside(&app, &["user", "promote", "dutybot"]).await;
    assert!(out.status.success());
    assert_eq!(
        app.get_with(&writer, "/api/v1/admin/status").await.status(),
        403,
        "no admin scope"
    );
    let (_, root) = new_token(&app, &admin, bot, &["admin"]).await;
    assert_eq!(
        app.get_with(&root, "/api/v1/admin/status").await.status(),
        200
    );

    // The site's two-step policy does not lock bots out.
    let r = api(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"two_factor_policy": "admins"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_with(&writer, "/api/v1/channels").await.status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn revoking_a_token_or_disabling_the_bot_stops_it_at_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let bot = new_bot(&app, &admin, "dutybot").await;
    let (id, token) = new_token(&app, &admin, bot, &["write"]).await;
    let (_, other) = new_token(&app, &admin, bot, &["read"]).await;
    let (mut ws, _) = app.ws(&token, None).await;
    assert_eq!(app.get_with(&token, "/api/v1/channels").await.status(), 200);

    // A bot never gets a password, not even from the command line.
    let out = cli_beside(&app, &["user", "reset-password", "dutybot"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("API tokens"));

    let r = api(
        &app,
        &bob,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_with(&token, "/api/v1/channels").await.status(), 401);
    assert_eq!(
        ws.close_code().await,
        Some(4001),
        "its live connection ends"
    );
    let r = api(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 404);

    // Disabling the bot stops its other tokens; enabling brings them back.
    assert_eq!(app.get_with(&other, "/api/v1/channels").await.status(), 200);
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{bot}/disable"),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_with(&other, "/api/v1/channels").await.status(), 401);
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{bot}/enable"),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_with(&other, "/api/v1/channels").await.status(), 200);
    app.stop().await;
}
