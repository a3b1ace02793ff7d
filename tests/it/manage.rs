//! An administrator's daily work without a terminal, and who else may do it (nobody).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_password_reset_link_works_once_and_only_admins_make_one() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let ann_id = id_of(&app, &ann).await;
    let path = format!("/api/v1/users/{ann_id}/password-reset");
    assert_eq!(
        api(&app, &bob, Method::POST, &path, None).await.status(),
        403
    );

    let first: Value = api(&app, &admin, Method::POST, &path, None)
        .await
        .json()
        .await
        .unwrap();
    let link: Value = api(&app, &admin, Method::POST, &path, None)
        .await
        .json()
        .await
        .unwrap();
    let token = link["token"].as_str().unwrap();
    assert_eq!(link["path"], format!("/reset/{token}"));
    // A newer link replaces an unused older one.
    let old = app
        .api_client()
        .get(app.url(&format!(
            "/api/v1/password-resets/{}",
            first["token"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);

    let status: Value = app
        .api_client()
        .get(app.url(&format!("/api/v1/password-resets/{token}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["username"], "ann");
    let use_it = |password: &str| {
        let app = &app;
        let body = json!({"password": password});
        async move {
            app.api_client()
                .post(app.url(&format!("/api/v1/password-resets/{token}")))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = use_it("short").await;
    assert_eq!(r.status(), 400, "a bad password leaves the link usable");
    assert_eq!(use_it("a-brand-new-password").await.status(), 204);
    let r = use_it("another-new-password").await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "invalid-token");
    // Her old sessions ended; the new password works, the old one not.
    assert_eq!(app.get_with(&ann, "/api/v1/me").await.status(), 401);
    assert_eq!(login(&app, "ann", "ann-password-1").await.status(), 401);
    assert_eq!(
        login(&app, "ann", "a-brand-new-password").await.status(),
        200
    );

    let audit = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("password-reset-link-created") && audit.contains("password-reset-used"));
    assert!(!audit.contains(token), "the link never reaches the log");
    app.stop().await;
}

#[tokio::test]
async fn admins_sign_people_out_everywhere_and_grant_the_admin_role() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let (ann_id, admin_id) = (id_of(&app, &ann).await, id_of(&app, &admin).await);
    let (mut ws, _) = app.ws(&ann, None).await;

    let sessions = format!("/api/v1/users/{ann_id}/sessions");
    assert_eq!(
        api(&app, &bob, Method::DELETE, &sessions, None)
            .await
            .status(),
        403
    );
    assert_eq!(
        api(&app, &admin, Method::DELETE, &sessions, None)
            .await
            .status(),
        204
    );
    assert_eq!(app.get_with(&ann, "/api/v1/me").await.status(), 401);
    assert!(ws.close_code().await.is_some(), "her live connection ended");

    let role = format!("/api/v1/users/{ann_id}/admin");
    let r = api(
        &app,
        &bob,
        Method::PUT,
        &role,
        Some(json!({"is_admin": true})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::PUT,
        &role,
        Some(json!({"is_admin": true})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["is_admin"], true);
    let r = api(
        &app,
        &admin,
        Method::PUT,
        &format!("/api/v1/users/{admin_id}/admin"),
        Some(json!({"is_admin": false})),
    )
    .await;
    assert_eq!(r.status(), 400, "nobody demotes themselves");
    let r = api(
        &app,
        &admin,
        Method::PUT,
        &role,
        Some(json!({"is_admin": "yes"})),
    )
    .await;
    assert_eq!(r.status(), 400);

    // The users list shows the last sign-in.
    let users: Value = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let entry = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == ann_id)
        .unwrap();
    assert!(entry["last_sign_in_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn admins_see_every_channel_and_owners_hand_ownership_on() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let bob_id = id_of(&app, &bob).await;
    let secret = create_channel(&app, &ann, "secret", true).await;
    post_message(&app, &ann, secret, "plans").await;

    assert_eq!(
        app.get_with(&ann, "/api/v1/admin/channels").await.status(),
        403
    );
    let list: Value = app
        .get_with(&admin, "/api/v1/admin/channels")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["general", "secret"],
        "private ones too; #general made at setup"
    );
    let s = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "secret")
        .unwrap();
    assert_eq!(s["members"], 1);
    assert!(s["last_activity"].is_i64());
    let general = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "general")
        .unwrap();
    assert_eq!(general["members"], 3, "everyone joined #general");

    // An administrator adds Bob; Ann (owner) makes him an owner; he may then rename it.
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{secret}/members"),
        Some(json!({"user_id": bob_id})),
    )
    .await;
    assert_eq!(r.status(), 204);
    let role = format!("/api/v1/channels/{secret}/members/{bob_id}/role");
    let r = api(
        &app,
        &bob,
        Method::PUT,
        &role,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(r.status(), 403, "a member cannot promote himself");
    let r = api(
        &app,
        &ann,
        Method::PUT,
        &role,
        Some(json!({"role": "chief"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        &app,
        &ann,
        Method::PUT,
        &role,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = api(
        &app,
        &bob,
        Method::PATCH,
        &format!("/api/v1/channels/{secret}"),
        Some(json!({"name": "plans"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Archive and unarchive.
    for archived in [true, false] {
        let r = api(
            &app,
            &admin,
            Method::PATCH,
            &format!("/api/v1/channels/{secret}"),
            Some(json!({"archived": archived})),
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["archived"], archived);
    }
    app.stop().await;
}

#[tokio::test]
async fn site_retention_is_set_from_the_ui_and_checked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let s: Value = app
        .get_with(&admin, "/api/v1/admin/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            s["retention_days"].as_u64(),
            s["retention_from_config"].as_bool()
        ),
        (Some(0), Some(true))
    );
    let r = api(
        &app,
        &ann,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"retention_days": 30})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"retention_days": 30})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        (
            s["retention_days"].as_u64(),
            s["retention_from_config"].as_bool()
        ),
        (Some(30), Some(false))
    );
    assert_eq!(s["two_factor_policy"], "off", "left alone");
    for body in [
        json!({"retention_days": -1}),
        json!({"retention_days": 100000}),
        json!({"retention": 3}),
    ] {
        let r = api(
            &app,
            &admin,
            Method::PUT,
            "/api/v1/admin/settings",
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status(), 400, "{body}");
    }
    let r = api(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"retention_days": null})),
    )
    .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["retention_from_config"],
        true
    );
    let audit = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("site-retention-changed"));
    app.stop().await;
}

#[tokio::test]
async fn a_used_setup_link_says_so() {
    let app = spawn_app().await;
    let token = app.handle.setup_token.clone().unwrap();
    let check = |t: String| {
        let app = &app;
        async move {
            app.api_client()
                .get(app.url(&format!("/api/v1/auth/setup/{t}")))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(check(token.clone()).await.status(), 200);
    assert_eq!(check("not-a-token".into()).await.status(), 404);
    app.setup_admin().await;
    let r = check(token).await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "invalid-token");
    app.stop().await;
}

#[tokio::test]
async fn the_invite_step_gets_a_qr_code_and_the_onboarding_port() {
    let app = spawn_app().await;
    let info: Value = app
        .api_client()
        .get(app.url("/api/v1/server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(info.get("http_port").is_some());
    let admin = app.setup_admin().await;
    let r = app
        .get_with(
            &admin,
            "/api/v1/qr?text=https%3A%2F%2Foutpost.lan%2Finvite%2Fabc",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().contains("<svg"));
    let long = "x".repeat(2000);
    assert_eq!(
        app.get_with(&admin, &format!("/api/v1/qr?text={long}"))
            .await
            .status(),
        400
    );
    let r = app
        .api_client()
        .get(app.url("/api/v1/qr?text=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}
