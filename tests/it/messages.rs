//! Quote, forward, save, edit history, thread replies sent to the channel: what members get,
//! and that a message someone may not read reveals nothing through any of them.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn send(app: &TestApp, token: &str, channel: i64, body: Value) -> reqwest::Response {
    api(
        app,
        token,
        Method::POST,
        &format!("/api/v1/channels/{channel}/messages"),
        Some(body),
    )
    .await
}

struct Team {
    app: TestApp,
    ann: String,
    bob: String,
    /// Ann's private channel; Bob is not in it.
    secret: i64,
    /// A public channel both are in.
    ops: i64,
}

async fn team() -> Team {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let secret = create_channel(&app, &ann, "secret", true).await;
    let ops = create_channel(&app, &ann, "ops", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ops}/join"),
        None,
    )
    .await;
    Team {
        app,
        ann,
        bob,
        secret,
        ops,
    }
}

#[tokio::test]
async fn a_quote_shows_its_message_as_it_is_now_and_only_from_the_same_conversation() {
    let t = team().await;
    let app = &t.app;
    let q = post_message(app, &t.ann, t.ops, "Convoy leaves at 06:00 from gate 3").await;
    let r = send(
        app,
        &t.bob,
        t.ops,
        json!({"body": "Which gate?", "quote_of": q["id"]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let reply: Value = r.json().await.unwrap();
    assert_eq!(
        reply["quote"]["excerpt"],
        "Convoy leaves at 06:00 from gate 3"
    );
    assert_eq!(reply["quote"]["deleted"], false);

    // The quoted message is deleted: the quote says so and shows nothing of it.
    let r = api(
        app,
        &t.ann,
        Method::DELETE,
        &format!("/api/v1/messages/{}", q["id"]),
        None,
    )
    .await;
    assert!(r.status().is_success());
    let h = history(app, &t.bob, t.ops).await;
    let shown = h.iter().find(|m| m["id"] == reply["id"]).unwrap();
    assert_eq!(shown["quote"]["deleted"], true);
    assert_eq!(shown["quote"]["excerpt"], "");

    // A message in a channel Bob cannot read, or one that does not exist: the same answer.
    let hidden = post_message(app, &t.ann, t.secret, "the secret plan").await;
    let a = send(
        app,
        &t.bob,
        t.ops,
        json!({"body": "x", "quote_of": hidden["id"]}),
    )
    .await;
    let b = send(
        app,
        &t.bob,
        t.ops,
        json!({"body": "x", "quote_of": 999_999}),
    )
    .await;
    assert_eq!(
        (a.status(), b.status()),
        (
            reqwest::StatusCode::BAD_REQUEST,
            reqwest::StatusCode::BAD_REQUEST
        )
    );
    assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
    t.app.stop().await;
}

#[tokio::test]
async fn a_forward_names_its_author_and_its_original_stays_private() {
    let t = team().await;
    let app = &t.app;
    let bob_id = id_of(app, &t.bob).await;
    let r = api(
        app,
        &t.ann,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [bob_id]})),
    )
    .await;
    let dm = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let file = crate::files::upload(app, &t.ann, "route.txt", b"north road, then east").await;
    let r = send(
        app,
        &t.ann,
        t.secret,
        json!({"body": "Route for tomorrow", "attachments": [file["id"]]}),
    )
    .await;
    let original: Value = r.json().await.unwrap();

    let r = api(
        app,
        &t.ann,
        Method::POST,
        &format!("/api/v1/messages/{}/forward", original["id"]),
        Some(json!({"channel_id": dm, "comment": "FYI"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let copy: Value = r.json().await.unwrap();
    assert_eq!(copy["body"], "Route for tomorrow");
    assert_eq!(copy["forwarded"]["author_name"], "ann");
    assert_eq!(copy["forwarded"]["message_id"], original["id"]);
    assert_eq!(copy["files"][0]["name"], "route.txt");
    let h = history(app, &t.bob, dm).await;
    assert_eq!(h.len(), 2, "the comment, then the forward");
    assert_eq!(h[0]["body"], "FYI");
    // Bob reads the forwarded file, but not the original.
    let url = copy["files"][0]["url"].as_str().unwrap();
    let r = app.get_with(&t.bob, url).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"north road, then east");
    let orig = format!("/api/v1/messages/{}", original["id"]);
    assert_eq!(app.get_with(&t.bob, &orig).await.status(), 404);
    assert_eq!(app.get_with(&t.ann, &orig).await.status(), 200);

    // Bob cannot forward what he cannot read, nor into a conversation he is not in.
    let r = api(
        app,
        &t.bob,
        Method::POST,
        &format!("{orig}/forward"),
        Some(json!({"channel_id": dm})),
    )
    .await;
    assert_eq!(r.status(), 404);
    let mine = post_message(app, &t.bob, t.ops, "mine").await;
    let r = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/messages/{}/forward", mine["id"]),
        Some(json!({"channel_id": t.secret})),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/messages/{}/forward", mine["id"]),
        Some(json!({"channel": dm})),
    )
    .await;
    assert_eq!(r.status(), 400);
    t.app.stop().await;
}

#[tokio::test]
async fn saved_messages_are_personal_and_follow_what_one_may_read() {
    let t = team().await;
    let app = &t.app;
    let m = post_message(app, &t.ann, t.ops, "Fuel depot opens at 9").await;
    let path = format!("/api/v1/messages/{}/saved", m["id"]);
    assert_eq!(
        api(app, &t.bob, Method::PUT, &path, None).await.status(),
        204
    );
    assert_eq!(
        api(app, &t.bob, Method::PUT, &path, None).await.status(),
        204,
        "twice is fine"
    );
    let list: Value = app
        .get_with(&t.bob, "/api/v1/saved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["message"]["body"], "Fuel depot opens at 9");
    assert!(list[0]["saved_at"].is_i64());
    let anns: Value = app
        .get_with(&t.ann, "/api/v1/saved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anns, json!([]), "personal");
    let hidden = post_message(app, &t.ann, t.secret, "secret").await;
    let r = api(
        app,
        &t.bob,
        Method::PUT,
        &format!("/api/v1/messages/{}/saved", hidden["id"]),
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    // Leaving the channel takes it off the list (it comes back if he rejoins).
    api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{}/leave", t.ops),
        None,
    )
    .await;
    let list: Value = app
        .get_with(&t.bob, "/api/v1/saved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{}/join", t.ops),
        None,
    )
    .await;
    assert_eq!(
        api(app, &t.bob, Method::DELETE, &path, None).await.status(),
        204
    );
    let list: Value = app
        .get_with(&t.bob, "/api/v1/saved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    t.app.stop().await;
}

#[tokio::test]
async fn edit_history_is_for_members_and_goes_with_a_deleted_message() {
    let t = team().await;
    let app = &t.app;
    let m = post_message(app, &t.ann, t.secret, "meet at 5").await;
    let id = m["id"].as_i64().unwrap();
    for body in ["meet at 6", "meet at 7"] {
        let r = api(
            app,
            &t.ann,
            Method::PATCH,
            &format!("/api/v1/messages/{id}"),
            Some(json!({"body": body})),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let edits: Value = app
        .get_with(&t.ann, &format!("/api/v1/messages/{id}/edits"))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = edits
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["meet at 5", "meet at 6"]);
    assert_eq!(
        app.get_with(&t.bob, &format!("/api/v1/messages/{id}/edits"))
            .await
            .status(),
        404
    );
    api(
        app,
        &t.ann,
        Method::DELETE,
        &format!("/api/v1/messages/{id}"),
        None,
    )
    .await;
    assert_eq!(
        app.get_with(&t.ann, &format!("/api/v1/messages/{id}/edits"))
            .await
            .status(),
        404
    );
    t.app.stop().await;
}

#[tokio::test]
async fn a_thread_reply_can_also_go_to_the_channel() {
    let t = team().await;
    let app = &t.app;
    let root = post_message(app, &t.ann, t.ops, "Status of the generator?").await;
    let r = send(
        app,
        &t.bob,
        t.ops,
        json!({"body": "Fixed", "thread_root": root["id"], "also_in_channel": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["also_in_channel"], true);
    send(
        app,
        &t.bob,
        t.ops,
        json!({"body": "details in thread only", "thread_root": root["id"]}),
    )
    .await;
    let bodies: Vec<String> = history(app, &t.ann, t.ops)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, ["Status of the generator?", "Fixed"]);
    let r = send(
        app,
        &t.bob,
        t.ops,
        json!({"body": "x", "also_in_channel": true}),
    )
    .await;
    assert_eq!(r.status(), 400);
    t.app.stop().await;
}
