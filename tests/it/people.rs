//! Custom status, preferences, notification levels, keywords, @channel limits and read
//! receipts: what each may do, what bad input gets, and what others see live.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// The next durable event of this kind, skipping others.
async fn event_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let f = ws.next_event().await;
        if f["event"]["kind"] == kind {
            return f["event"].clone();
        }
    }
}

#[tokio::test]
async fn a_custom_status_reaches_everyone_live_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let (mut bob_ws, _) = app.ws(&bob, None).await;

    let r = api(
        &app,
        &ann,
        Method::PATCH,
        "/api/v1/me/preferences",
        Some(json!({"time_zone": "Europe/Moscow"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = api(
        &app,
        &ann,
        Method::PUT,
        "/api/v1/me/status",
        Some(json!({"emoji": "🚗", "text": "В дороге", "clear_after": "today"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["status"]["text"], "В дороге");
    let expires = me["status"]["expires_at"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(expires > now && expires <= now + 24 * 3600 * 1000);

    // First her time zone (others show her local time), then her status.
    let f = bob_ws.wait_for("user.updated").await;
    assert_eq!(f["person"]["username"], "ann");
    assert_eq!(f["person"]["time_zone"], "Europe/Moscow");
    let f = bob_ws.wait_for("user.updated").await;
    assert_eq!(f["person"]["status"]["emoji"], "🚗");
    let people: Value = app
        .get_with(&bob, "/api/v1/people")
        .await
        .json()
        .await
        .unwrap();
    let entry = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "ann")
        .unwrap();
    assert_eq!(entry["status"]["text"], "В дороге");

    for body in [
        json!({"emoji": "not an emoji", "text": "x", "clear_after": "1h"}),
        json!({"emoji": "🚗🚗", "text": "x", "clear_after": "1h"}),
        json!({"text": "x".repeat(101), "clear_after": "1h"}),
        json!({"text": "x", "clear_after": "fortnight"}),
        json!({"text": "x"}),
    ] {
        let r = api(
            &app,
            &ann,
            Method::PUT,
            "/api/v1/me/status",
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status(), 400, "{body}");
    }
    let r = api(&app, &ann, Method::DELETE, "/api/v1/me/status", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["status"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn preferences_are_kept_and_checked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let prefs: Value = app
        .get_with(&admin, "/api/v1/me/preferences")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prefs["read_receipts"], true);
    assert!(prefs["dnd_start"].is_null());
    let r = api(
        &app,
        &admin,
        Method::PATCH,
        "/api/v1/me/preferences",
        Some(
            json!({"dnd_start": "19:00", "dnd_end": "08:00", "language": "ru",
                    "keywords": ["Колонна", "fuel"]}),
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["dnd_start"], "19:00");
    assert_eq!(p["language"], "ru");
    assert_eq!(p["keywords"], json!(["fuel", "колонна"]));
    for body in [
        json!({"time_zone": "Mars/Olympus_Mons"}),
        json!({"dnd_start": "19:00"}),
        json!({"dnd_start": "7pm", "dnd_end": "8am"}),
        json!({"dnd_until": 1}),
        json!({"language": "fr"}),
        json!({"keywords": (0..21).map(|i| format!("word{i}")).collect::<Vec<_>>()}),
        json!({"read_receipts": "no"}),
        json!({"colour": "red"}),
    ] {
        let r = api(
            &app,
            &admin,
            Method::PATCH,
            "/api/v1/me/preferences",
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status(), 400, "{body}");
    }
    let r = api(
        &app,
        &admin,
        Method::PATCH,
        "/api/v1/me/preferences",
        Some(json!({"dnd_start": null, "dnd_end": null})),
    )
    .await;
    assert!(r.json::<Value>().await.unwrap()["dnd_start"].is_null());
    let after: Value = app
        .get_with(&admin, "/api/v1/me/preferences")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["language"], "ru", "a refused change changed nothing");
    app.stop().await;
}

#[tokio::test]
async fn keywords_count_as_mentions_and_owners_can_limit_channel_wide_mentions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let ops = create_channel(&app, &ann, "ops", false).await;
    for t in [&bob, &admin] {
        api(
            &app,
            t,
            Method::POST,
            &format!("/api/v1/channels/{ops}/join"),
            None,
        )
        .await;
    }
    let r = api(
        &app,
        &bob,
        Method::PATCH,
        "/api/v1/me/preferences",
        Some(json!({"keywords": ["convoy"]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    post_message(&app, &ann, ops, "The CONVOY left at 06:00.").await;
    post_message(&app, &ann, ops, "convoys are late").await;
    assert_eq!(channel_view(&app, &bob, ops).await["mentions"], 1);

    // Only owners (Ann created it) may change who can mention everyone.
    let path = format!("/api/v1/channels/{ops}");
    let r = api(
        &app,
        &bob,
        Method::PATCH,
        &path,
        Some(json!({"mass_mentions": "owners"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &ann,
        Method::PATCH,
        &path,
        Some(json!({"mass_mentions": "nobody"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        &app,
        &ann,
        Method::PATCH,
        &path,
        Some(json!({"mass_mentions": "owners"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["mass_mentions"], "owners");
    // Bob's @channel notifies nobody now; Ann's still does.
    post_message(&app, &bob, ops, "@channel lunch?").await;
    assert_eq!(channel_view(&app, &admin, ops).await["mentions"], 0);
    post_message(&app, &ann, ops, "@here briefing in 5").await;
    assert_eq!(channel_view(&app, &admin, ops).await["mentions"], 1);
    assert_eq!(channel_view(&app, &bob, ops).await["mentions"], 2);
    app.stop().await;
}

#[tokio::test]
async fn members_set_how_each_conversation_notifies_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let ops = create_channel(&app, &admin, "ops", false).await;
    api(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/channels/{ops}/join"),
        None,
    )
    .await;
    let path = format!("/api/v1/channels/{ops}/notifications");
    let later = 4_102_444_800_000i64; // 2100-01-01
    let r = api(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"notify": "mentions", "muted_until": later})),
    )
    .await;
    assert_eq!(r.status(), 204);
    let c = channel_view(&app, &ann, ops).await;
    assert_eq!(
        (c["notify"].as_str(), c["muted_until"].as_i64()),
        (Some("mentions"), Some(later))
    );
    assert_eq!(
        channel_view(&app, &admin, ops).await["notify"],
        "all",
        "one member's choice"
    );
    for body in [
        json!({"notify": "loud"}),
        json!({"notify": "all", "muted_until": 5}),
    ] {
        let r = api(&app, &ann, Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(r.status(), 400, "{body}");
    }
    // Not a member of a private channel: it does not exist for them.
    let secret = create_channel(&app, &admin, "secret", true).await;
    let r = api(
        &app,
        &ann,
        Method::PUT,
        &format!("/api/v1/channels/{secret}/notifications"),
        Some(json!({"notify": "none"})),
    )
    .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn read_receipts_reach_the_other_members_unless_switched_off() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let eve = app.invite_user(&admin, "eve", "eve-password-1").await;
    let bob_id = id_of(&app, &bob).await;
    let r = api(
        &app,
        &ann,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [bob_id]})),
    )
    .await;
    let dm = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (mut ann_ws, _) = app.ws(&ann, None).await;
    let m = post_message(&app, &ann, dm, "are you there?").await;
    let seq = m["seq"].as_i64().unwrap();

    let read = |token: String, seq: i64| {
        let app = &app;
        async move {
            let r = api(
                app,
                &token,
                Method::POST,
                &format!("/api/v1/channels/{dm}/read"),
                Some(json!({"seq": seq})),
            )
            .await;
            assert!(r.status().is_success(), "{}", r.status());
        }
    };
    read(bob.clone(), seq).await;
    let e = event_of(&mut ann_ws, "receipt").await;
    assert_eq!(
        (e["user_id"].as_i64(), e["seq"].as_i64()),
        (Some(bob_id), Some(seq))
    );
    let list: Value = app
        .get_with(&ann, &format!("/api/v1/channels/{dm}/receipts"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["user_id"], bob_id);
    assert!(list[0]["read_at"].is_i64());

    // Only the conversation's members see them; channels have none.
    let r = app
        .get_with(&eve, &format!("/api/v1/channels/{dm}/receipts"))
        .await;
    assert_eq!(r.status(), 404);
    let ops = create_channel(&app, &admin, "ops", false).await;
    let r = app
        .get_with(&admin, &format!("/api/v1/channels/{ops}/receipts"))
        .await;
    assert_eq!(r.status(), 400);

    // Bob switches them off: his reading is no longer shown.
    let r = api(
        &app,
        &bob,
        Method::PATCH,
        "/api/v1/me/preferences",
        Some(json!({"read_receipts": false})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let m = post_message(&app, &ann, dm, "hello?").await;
    read(bob.clone(), m["seq"].as_i64().unwrap()).await;
    post_message(&app, &ann, dm, "marker").await;
    loop {
        let f = ann_ws.next_event().await;
        assert_ne!(f["event"]["kind"], "receipt", "no receipt from Bob now");
        if f["event"]["kind"] == "message.new" && f["event"]["message"]["body"] == "marker" {
            break;
        }
    }
    let list: Value = app
        .get_with(&ann, &format!("/api/v1/channels/{dm}/receipts"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let _ = ann_ws.poll(Duration::from_millis(10)).await;
    app.stop().await;
}

#[tokio::test]
async fn a_deactivated_colleague_stays_a_person_but_cannot_be_messaged() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let bob_id = id_of(&app, &bob).await;
    let (mut ann_ws, _) = app.ws(&ann, None).await;
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{bob_id}/disable"),
        None,
    )
    .await;
    assert!(r.status().is_success());
    let f = ann_ws.wait_for("user.updated").await;
    assert_eq!(
        (
            f["person"]["id"].as_i64(),
            f["person"]["deactivated"].as_bool()
        ),
        (Some(bob_id), Some(true))
    );
    let people: Value = app
        .get_with(&ann, "/api/v1/people")
        .await
        .json()
        .await
        .unwrap();
    let entry = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == bob_id)
        .unwrap();
    assert_eq!(entry["deactivated"], true);
    assert_eq!(entry["presence"], "offline");
    let card: Value = app
        .get_with(&ann, &format!("/api/v1/users/{bob_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["username"], "bob");
    let r = api(
        &app,
        &ann,
        Method::POST,
        "/api/v1/dms",
        Some(json!({"user_ids": [bob_id]})),
    )
    .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}
