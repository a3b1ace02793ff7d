//! Channels and messages over HTTP: the model, and authorization for every endpoint.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

struct Team {
    app: TestApp,
    admin: String,
    alice: String,
    bob: String,
    mallory: String,
}

async fn team() -> Team {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let alice = app.invite_user(&admin, "alice", "alice-password").await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let mallory = app.invite_user(&admin, "mallory", "mallory-password").await;
    Team {
        app,
        admin,
        alice,
        bob,
        mallory,
    }
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    app.get_with(token, "/api/v1/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_non_member_gets_nothing_from_any_endpoint_of_a_private_channel() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "secret", true).await;
    let bob_id = user_id(app, &t.bob).await;
    let r = api(
        app,
        &t.alice,
        Method::POST,
        &format!("/api/v1/channels/{ch}/members"),
        Some(json!({"user_id": bob_id})),
    )
    .await;
    assert_eq!(r.status(), 204);
    let m = post_message(app, &t.alice, ch, "the launch code is swordfish").await;
    let mid = m["id"].as_i64().unwrap();
    let reply = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "noted", "thread_root": mid})),
    )
    .await;
    assert_eq!(reply.status(), 200);
    api(
        app,
        &t.alice,
        Method::POST,
        &format!("/api/v1/messages/{mid}/pin"),
        None,
    )
    .await;

    // Bob, a member, sees it all.
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::GET,
            &format!("/api/v1/channels/{ch}/messages"),
            None
        )
        .await
        .status(),
        200
    );

    let m = &t.mallory;
    let denied: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/channels/{ch}"), None),
        (Method::GET, format!("/api/v1/channels/{ch}/messages"), None),
        (Method::GET, format!("/api/v1/channels/{ch}/members"), None),
        (Method::GET, format!("/api/v1/channels/{ch}/pins"), None),
        (Method::GET, format!("/api/v1/messages/{mid}/thread"), None),
        (
            Method::POST,
            format!("/api/v1/channels/{ch}/messages"),
            Some(json!({"body": "let me in"})),
        ),
        (
            Method::POST,
            format!("/api/v1/channels/{ch}/messages"),
            Some(json!({"body": "hi", "thread_root": mid})),
        ),
        (Method::POST, format!("/api/v1/channels/{ch}/join"), None),
        (Method::POST, format!("/api/v1/channels/{ch}/leave"), None),
        (
            Method::POST,
            format!("/api/v1/channels/{ch}/members"),
            Some(json!({"user_id": 1})),
        ),
        (
            Method::POST,
            format!("/api/v1/channels/{ch}/read"),
            Some(json!({"seq": 1})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/channels/{ch}"),
            Some(json!({"topic": "mine"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/messages/{mid}"),
            Some(json!({"body": "edited"})),
        ),
        (Method::DELETE, format!("/api/v1/messages/{mid}"), None),
        (
            Method::POST,
            format!("/api/v1/messages/{mid}/reactions"),
            Some(json!({"emoji": "👍"})),
        ),
        (Method::POST, format!("/api/v1/messages/{mid}/pin"), None),
        (Method::DELETE, format!("/api/v1/messages/{mid}/pin"), None),
    ];
    for (method, path, body) in &denied {
        let r = api(app, m, method.clone(), path, body.clone()).await;
        assert_eq!(r.status(), 404, "{method} {path}");
        assert_eq!(error_code(r).await, "not-found");
    }
    // Nothing leaks through lists and search either.
    let chans: Vec<Value> = api(app, m, Method::GET, "/api/v1/channels", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(chans.iter().all(|c| c["id"] != ch));
    let browse: Vec<Value> = api(app, m, Method::GET, "/api/v1/channels/browse", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(browse.iter().all(|c| c["id"] != ch));
    let hits: Vec<Value> = api(app, m, Method::GET, "/api/v1/search?q=swordfish", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(hits.is_empty());
    let hits: Vec<Value> = api(app, &t.bob, Method::GET, "/api/v1/search?q=swordfish", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    // The message is unchanged.
    let page: Vec<Value> = api(
        app,
        &t.alice,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page[0]["body"], "the launch code is swordfish");
    assert_eq!(page[0]["reactions"], json!([]));
    assert_eq!(page[0]["pinned"], true);

    // An unauthenticated client and a disabled user get 401.
    let r = app
        .api_client()
        .get(app.url(&format!("/api/v1/channels/{ch}/messages")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let users: Vec<Value> = app
        .get_with(&t.admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let bid = users.iter().find(|u| u["username"] == "bob").unwrap()["id"].clone();
    api(
        app,
        &t.admin,
        Method::POST,
        &format!("/api/v1/users/{bid}/disable"),
        None,
    )
    .await;
    let r = api(
        app,
        &t.bob,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages"),
        None,
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = api(app, &t.bob, Method::GET, "/api/v1/search?q=swordfish", None).await;
    assert_eq!(r.status(), 401);
    t.app.stop().await;
}

#[tokio::test]
async fn public_channels_are_joined_before_reading_and_roles_are_enforced() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "lobby", false).await;
    let m = post_message(app, &t.alice, ch, "welcome").await;
    let mid = m["id"].as_i64().unwrap();
    // Visible in browse, readable only after joining.
    let browse: Vec<Value> = api(app, &t.bob, Method::GET, "/api/v1/channels/browse", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(browse.iter().any(|c| c["id"] == ch && c["joined"] == false));
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::GET,
            &format!("/api/v1/channels/{ch}/messages"),
            None
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::POST,
            &format!("/api/v1/channels/{ch}/join"),
            None
        )
        .await
        .status(),
        204
    );
    let page: Vec<Value> = api(
        app,
        &t.bob,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page.len(), 1);

    // Members cannot edit or delete others' messages, rename or archive; the owner can.
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::PATCH,
            &format!("/api/v1/messages/{mid}"),
            Some(json!({"body": "x"}))
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::DELETE,
            &format!("/api/v1/messages/{mid}"),
            None
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::PATCH,
            &format!("/api/v1/channels/{ch}"),
            Some(json!({"name": "mine"}))
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::PATCH,
            &format!("/api/v1/channels/{ch}"),
            Some(json!({"topic": "Lunch at noon"}))
        )
        .await
        .status(),
        200
    );
    let bob_id = user_id(app, &t.bob).await;
    assert_eq!(
        api(
            app,
            &t.bob,
            Method::DELETE,
            &format!("/api/v1/channels/{ch}/members/{bob_id}"),
            None
        )
        .await
        .status(),
        403
    );
    // An admin who is not a member may still manage the channel.
    let r = api(
        app,
        &t.admin,
        Method::PATCH,
        &format!("/api/v1/channels/{ch}"),
        Some(json!({"name": "town-square"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "town-square");

    // Archive: nothing can be posted any more.
    assert_eq!(
        api(
            app,
            &t.alice,
            Method::PATCH,
            &format!("/api/v1/channels/{ch}"),
            Some(json!({"archived": true}))
        )
        .await
        .status(),
        200
    );
    let r = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "late"})),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "archived");
    // Names are unique.
    let r = api(
        app,
        &t.bob,
        Method::POST,
        "/api/v1/channels",
        Some(json!({"name": "Town-Square"})),
    )
    .await;
    assert_eq!(r.status(), 409);
    t.app.stop().await;
}

#[tokio::test]
async fn direct_messages_are_private_and_reused() {
    let t = team().await;
    let app = &t.app;
    let bob_id = user_id(app, &t.bob).await;
    let alice_id = user_id(app, &t.alice).await;
    let dm: Value = api(
        app,
        &t.alice,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [bob_id]})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(dm["kind"], "dm");
    let again: Value = api(
        app,
        &t.bob,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [alice_id]})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        again["id"], dm["id"],
        "the same pair gets the same conversation"
    );
    let id = dm["id"].as_i64().unwrap();
    post_message(app, &t.bob, id, "psst").await;
    assert_eq!(
        api(
            app,
            &t.mallory,
            Method::GET,
            &format!("/api/v1/channels/{id}/messages"),
            None
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        api(
            app,
            &t.alice,
            Method::POST,
            &format!("/api/v1/channels/{id}/leave"),
            None
        )
        .await
        .status(),
        403
    );
    let mallory_id = user_id(app, &t.mallory).await;
    let group: Value = api(
        app,
        &t.alice,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [bob_id, mallory_id]})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(group["kind"], "group");
    assert_eq!(group["member_ids"].as_array().unwrap().len(), 3);
    let too_many: Vec<i64> = (1000..1016).collect();
    let r = api(
        app,
        &t.alice,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": too_many})),
    )
    .await;
    assert_eq!(r.status(), 400);
    t.app.stop().await;
}

#[tokio::test]
async fn threads_reactions_edits_deletes_pins_mentions_and_unread_counts() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "ops", false).await;
    api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let root = post_message(app, &t.alice, ch, "deploy at 5? @bob").await;
    let rid = root["id"].as_i64().unwrap();
    post_message(app, &t.alice, ch, "also **bold** and `code`").await;
    let r = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "yes", "thread_root": rid})),
    )
    .await;
    assert_eq!(r.status(), 200);

    let thread: Vec<Value> = api(
        app,
        &t.alice,
        Method::GET,
        &format!("/api/v1/messages/{rid}/thread"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[0]["reply_count"], 1);
    assert_eq!(thread[1]["body"], "yes");
    // Replies stay out of the channel's main history.
    let page: Vec<Value> = api(
        app,
        &t.bob,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page.len(), 2);
    assert!(page[0]["seq"].as_i64() < page[1]["seq"].as_i64());

    // Bob was mentioned: his mentions list and unread counts show it.
    let mentions: Vec<Value> = api(app, &t.bob, Method::GET, "/api/v1/mentions", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mentions.len(), 1);
    assert_eq!(mentions[0]["id"], rid);
    let chans: Vec<Value> = api(app, &t.bob, Method::GET, "/api/v1/channels", None)
        .await
        .json()
        .await
        .unwrap();
    let c = chans.iter().find(|c| c["id"] == ch).unwrap();
    assert_eq!(c["unread"], 2);
    assert_eq!(c["mentions"], 1);
    let last = page[1]["seq"].as_i64().unwrap();
    let r: Value = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/read"),
        Some(json!({"seq": last})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(r["last_read_seq"].as_i64().unwrap() >= last);
    let chans: Vec<Value> = api(app, &t.bob, Method::GET, "/api/v1/channels", None)
        .await
        .json()
        .await
        .unwrap();
    let c = chans.iter().find(|c| c["id"] == ch).unwrap();
    assert_eq!(
        (c["unread"].as_i64(), c["mentions"].as_i64()),
        (Some(0), Some(0))
    );

    // Reactions toggle per user.
    let path = format!("/api/v1/messages/{rid}/reactions");
    api(
        app,
        &t.bob,
        Method::POST,
        &path,
        Some(json!({"emoji": "👍"})),
    )
    .await;
    let m: Value = api(
        app,
        &t.alice,
        Method::POST,
        &path,
        Some(json!({"emoji": "👍"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(m["reactions"][0]["count"], 2);
    let m: Value = api(
        app,
        &t.bob,
        Method::POST,
        &path,
        Some(json!({"emoji": "👍"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(m["reactions"][0]["count"], 1);
    let r = api(
        app,
        &t.bob,
        Method::POST,
        &path,
        Some(json!({"emoji": "two words"})),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Edit marks the message edited; delete leaves a tombstone in place.
    let m: Value = api(
        app,
        &t.alice,
        Method::PATCH,
        &format!("/api/v1/messages/{rid}"),
        Some(json!({"body": "deploy at 6"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (m["body"].as_str(), m["edited"].as_bool()),
        (Some("deploy at 6"), Some(true))
    );
    let pinned: Value = api(
        app,
        &t.bob,
        Method::POST,
        &format!("/api/v1/messages/{rid}/pin"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(pinned["pinned"], true);
    let pins: Vec<Value> = api(
        app,
        &t.bob,
        Method::GET,
        &format!("/api/v1/channels/{ch}/pins"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(pins.len(), 1);
    let m: Value = api(
        app,
        &t.alice,
        Method::DELETE,
        &format!("/api/v1/messages/{rid}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (m["deleted"].as_bool(), m["body"].as_str()),
        (Some(true), Some(""))
    );
    let page: Vec<Value> = api(
        app,
        &t.bob,
        Method::GET,
        &format!("/api/v1/channels/{ch}/messages"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page.len(), 2, "the tombstone keeps its place");
    assert_eq!(page[0]["deleted"], true);
    let hits: Vec<Value> = api(app, &t.bob, Method::GET, "/api/v1/search?q=deploy", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(hits.is_empty(), "deleted content is not searchable");
    let pins: Vec<Value> = api(
        app,
        &t.bob,
        Method::GET,
        &format!("/api/v1/channels/{ch}/pins"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(pins.is_empty());
    t.app.stop().await;
}

#[tokio::test]
async fn search_is_ranked_highlighted_and_filtered() {
    let t = team().await;
    let app = &t.app;
    let a = create_channel(app, &t.alice, "alpha", false).await;
    let b = create_channel(app, &t.alice, "beta", false).await;
    post_message(app, &t.alice, a, "the generator needs diesel").await;
    post_message(app, &t.alice, b, "diesel diesel diesel delivery tomorrow").await;
    post_message(app, &t.alice, b, "unrelated chatter").await;
    let hits: Vec<Value> = api(app, &t.alice, Method::GET, "/api/v1/search?q=diesel", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(
        hits[0]["message"]["channel_id"], b,
        "more matches rank first"
    );
    let snippet = hits[0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("\u{E000}diesel\u{E001}"), "{snippet}");
    let hits: Vec<Value> = api(
        app,
        &t.alice,
        Method::GET,
        &format!("/api/v1/search?q=diesel&channel_id={a}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(hits.len(), 1);
    let hits: Vec<Value> = api(app, &t.alice, Method::GET, "/api/v1/search?q=gen", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "the last word matches as a prefix");
    let hits: Vec<Value> = api(
        app,
        &t.alice,
        Method::GET,
        "/api/v1/search?q=%22%29%28OR*",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(hits.is_empty(), "FTS syntax in the query is harmless");
    let future = 4_102_444_800_000i64;
    let hits: Vec<Value> = api(
        app,
        &t.alice,
        Method::GET,
        &format!("/api/v1/search?q=diesel&from={future}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(hits.is_empty());
    t.app.stop().await;
}

#[tokio::test]
async fn bad_message_input_is_refused_and_nothing_is_stored() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "limits", false).await;
    let path = format!("/api/v1/channels/{ch}/messages");
    let big = "x".repeat(16 * 1024 + 1);
    let r = api(
        app,
        &t.alice,
        Method::POST,
        &path,
        Some(json!({"body": big})),
    )
    .await;
    assert_eq!(r.status(), 413);
    assert_eq!(error_code(r).await, "message-too-large");
    let r = api(
        app,
        &t.alice,
        Method::POST,
        &path,
        Some(json!({"body": "   "})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(app, &t.alice, Method::POST, &path, Some(json!({"body": 5}))).await;
    assert_eq!(r.status(), 400);
    let r = api(
        app,
        &t.alice,
        Method::POST,
        &path,
        Some(json!({"body": "x", "client_id": "bad id!"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        app,
        &t.alice,
        Method::POST,
        "/api/v1/channels/999999/messages",
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(r.status(), 404);
    let page: Vec<Value> = api(app, &t.alice, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(page.is_empty());
    // A retried send with the same client id creates one message.
    let body = json!({"body": "once", "client_id": "c-1"});
    let first: Value = api(app, &t.alice, Method::POST, &path, Some(body.clone()))
        .await
        .json()
        .await
        .unwrap();
    let second: Value = api(app, &t.alice, Method::POST, &path, Some(body))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["id"], second["id"]);
    let page: Vec<Value> = api(app, &t.alice, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    t.app.stop().await;
}

#[tokio::test]
async fn sending_too_fast_is_rate_limited_with_a_clear_error() {
    let app = spawn_app_with(|c| {
        c.limits.messages_per_second = 1.0;
        c.limits.message_burst = 3;
    })
    .await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "fast", false).await;
    let path = format!("/api/v1/channels/{ch}/messages");
    for i in 0..3 {
        let r = api(
            &app,
            &admin,
            Method::POST,
            &path,
            Some(json!({"body": format!("m{i}")})),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let r = api(
        &app,
        &admin,
        Method::POST,
        &path,
        Some(json!({"body": "m4"})),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(error_code(r).await, "rate-limited");
    app.stop().await;
}

#[tokio::test]
async fn a_thread_root_in_a_hidden_channel_answered_unlike_a_missing_one() {
    let t = team().await;
    let app = &t.app;
    let secret = create_channel(app, &t.alice, "hidden-room", true).await;
    let root = post_message(app, &t.alice, secret, "private root").await;
    let root_id = root["id"].as_i64().unwrap();
    let mine = create_channel(app, &t.mallory, "mallory-room", false).await;
    let own_root = post_message(app, &t.mallory, mine, "mine").await["id"]
        .as_i64()
        .unwrap();
    // A reply cannot be a thread's root either.
    let reply_id = {
        let r = api(
            app,
            &t.mallory,
            Method::POST,
            &format!("/api/v1/channels/{mine}/messages"),
            Some(json!({"body": "reply", "thread_root": own_root})),
        )
        .await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    };
    let path = format!("/api/v1/channels/{mine}/messages");
    let answer = |root: i64| {
        api(
            app,
            &t.mallory,
            Method::POST,
            &path,
            Some(json!({"body": "probe", "thread_root": root})),
        )
    };
    let shape = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        (status, body)
    };
    let hidden = shape(answer(root_id).await).await;
    let missing = shape(answer(root_id + 1_000_000).await).await;
    let not_a_root = shape(answer(reply_id).await).await;
    assert_eq!(hidden.0, 400);
    assert_eq!(
        hidden, missing,
        "a hidden root must look like a missing one"
    );
    assert_eq!(hidden, not_a_root);
    t.app.stop().await;
}

#[tokio::test]
async fn channel_names_could_pass_for_other_channels() {
    let t = team().await;
    let app = &t.app;
    // #general exists from the setup; look-alikes of it are refused.
    for bad in [
        "g\u{0435}neral",
        "gene\u{200B}ral",
        "general\u{202E}",
        "\u{2067}general",
        "gen\u{00AD}eral",
        "ge\u{03BD}eral", // Greek nu
    ] {
        let r = api(
            app,
            &t.alice,
            Method::POST,
            "/api/v1/channels",
            Some(json!({"name": bad})),
        )
        .await;
        assert_eq!(r.status(), 400, "{bad:?}");
        let body: Value = r.json().await.unwrap();
        let code = body["error"]["code"].as_str().unwrap();
        assert!(
            ["bad-channel-name", "hidden-characters", "mixed-script"].contains(&code),
            "{bad:?}: {code}"
        );
        assert_eq!(body["error"]["field"], "name", "{bad:?}");
    }
    let r = api(
        app,
        &t.alice,
        Method::POST,
        "/api/v1/channels",
        Some(json!({"name": "g\u{0435}neral"})),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Latin and Cyrillic"),
        "{body}"
    );
    for good in ["оперативный-штаб", "штаб-hq", "ελληνικά", "café"] {
        create_channel(app, &t.alice, good, false).await;
    }
    // Renaming follows the same rules.
    let ch = create_channel(app, &t.alice, "ops", false).await;
    let r = api(
        app,
        &t.alice,
        Method::PATCH,
        &format!("/api/v1/channels/{ch}"),
        Some(json!({"name": "оps"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    t.app.stop().await;
}

#[tokio::test]
async fn reactions_accepted_any_word() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "reacts", false).await;
    let mid = post_message(app, &t.alice, ch, "react to me").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/messages/{mid}/reactions");
    for bad in [
        "+1",
        ":thumbsup:",
        "ok",
        "👍👍",
        "\u{202E}",
        "\u{200D}",
        "👍\u{200B}",
        "",
    ] {
        let r = api(
            app,
            &t.alice,
            Method::POST,
            &path,
            Some(json!({ "emoji": bad })),
        )
        .await;
        assert_eq!(r.status(), 400, "{bad:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["error"]["message"], "a reaction is a single emoji",
            "{bad:?}"
        );
    }
    for good in ["👍🏽", "👩‍💻", "🇳🇴", "❤️"] {
        let m: Value = api(
            app,
            &t.alice,
            Method::POST,
            &path,
            Some(json!({ "emoji": good })),
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(
            m["reactions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["emoji"] == good),
            "{good}: {m}"
        );
    }
    // With or without its variation selector, a heart is one reaction: this toggles it off.
    let m: Value = api(
        app,
        &t.alice,
        Method::POST,
        &path,
        Some(json!({"emoji": "❤"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        !m["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["emoji"] == "❤️" || r["emoji"] == "❤"),
        "{m}"
    );
    t.app.stop().await;
}

#[tokio::test]
async fn search_finds_russian_and_english_word_forms() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "ops", false).await;
    post_message(app, &t.alice, ch, "Колонна вышла из Твери в 06:00").await;
    post_message(app, &t.alice, ch, "Нужны новые рации для **поста** 3").await;
    post_message(
        app,
        &t.alice,
        ch,
        "Маршрут: [карта](https://10.0.0.5/map) и `grid-7`, ~~отменено~~ <b>как есть</b>",
    )
    .await;
    post_message(app, &t.alice, ch, "Two convoy trucks are late").await;
    post_message(app, &t.alice, ch, "Колено болит").await;
    let alice = &t.alice;
    let search = |q: &'static str| async move {
        let hits: Vec<Value> = api(
            app,
            alice,
            Method::GET,
            &format!("/api/v1/search?q={}", urlencode(q)),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        hits
    };
    let hits = search("колонну").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    let snippet = hits[0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("\u{E000}Колонна\u{E001}"), "{snippet}");
    assert_eq!(search("рация").await.len(), 1);
    assert_eq!(search("convoys").await.len(), 1);
    assert_eq!(search("колон").await.len(), 1, "a half-typed word");
    // Snippets are plain text: the Markdown is read, never shown as markup or cut in half;
    // HTML, which the web UI shows as typed, stays as typed.
    let hits = search("поста").await;
    assert_eq!(
        hits[0]["snippet"].as_str().unwrap(),
        "Нужны новые рации для \u{E000}поста\u{E001} 3"
    );
    let hits = search("маршрут").await;
    assert_eq!(
        hits[0]["snippet"].as_str().unwrap(),
        "\u{E000}Маршрут\u{E001}: карта и grid-7, отменено <b>как есть</b>"
    );
    t.app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Issue 21: a refusal carries a stable code, the field and the numbers a translated sentence
/// needs, over HTTP and over the WebSocket, so no English reaches a Russian-speaking person.
#[tokio::test]
async fn refusals_carry_a_code_the_field_and_the_limit() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "codes", false).await;
    let r = api(
        app,
        &t.alice,
        Method::PATCH,
        &format!("/api/v1/channels/{ch}"),
        Some(json!({"topic": "x".repeat(251)})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too-long");
    assert_eq!(body["error"]["field"], "topic");
    assert_eq!(body["error"]["params"]["max"], 250);
    assert!(body["error"]["message"].as_str().unwrap().contains("250"));

    let r = api(
        app,
        &t.alice,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "  "})),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "empty-message");
    assert_eq!(body["error"]["field"], "body");
    // Without numbers to give, `params` is left out rather than sent empty.
    assert!(body["error"].get("params").is_none(), "{body}");

    let r = api(
        app,
        &t.alice,
        Method::POST,
        "/api/v1/channels",
        Some(json!({"name": "codes"})),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "channel-name-taken");
}

/// U+0000 cannot be stored as text by PostgreSQL; both engines refuse it the same way, with a
/// code the client translates, and nothing is stored. Other text fields answer 400, not 500.
#[tokio::test]
async fn a_nul_character_is_refused_alike_on_both_engines() {
    let t = team().await;
    let app = &t.app;
    let ch = create_channel(app, &t.alice, "nul", false).await;
    let r = api(
        app,
        &t.alice,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "before\u{0}after"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "hidden-characters", "{body}");
    assert_eq!(body["error"]["params"]["char"], "U+0000");
    assert_eq!(body["error"]["field"], "body");

    let kept = post_message(app, &t.alice, ch, "kept").await;
    let (mut ws, _) = app.ws(&t.alice, None).await;
    let answer = ws
        .request(json!({"type": "edit", "message_id": kept["id"], "body": "x\u{0}"}))
        .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["code"], "hidden-characters", "{answer}");
    let answer = ws
        .request(json!({"type": "send", "channel_id": ch, "body": "\u{0}"}))
        .await;
    assert_eq!(answer["code"], "hidden-characters", "{answer}");

    let r = api(
        app,
        &t.alice,
        Method::PATCH,
        &format!("/api/v1/channels/{ch}"),
        Some(json!({"topic": "a\u{0}b"})),
    )
    .await;
    assert!(
        r.status() == 200 || r.status() == 400,
        "a NUL in a topic is stored (SQLite) or refused (PostgreSQL), never a server error: {}",
        r.status()
    );

    let page = history(app, &t.alice, ch).await;
    let bodies: Vec<&str> = page.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["kept"], "{page:?}");
}
