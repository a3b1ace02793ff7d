//! Accounts and sessions: setup, sign-in, rate limiting, sessions, invites, disabling, CSRF.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn setup_token_creates_the_first_admin_once() {
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
    assert_eq!(info["needs_setup"], true);
    assert_eq!(info["ca_fingerprint"], app.handle.ca_fingerprint.as_str());
    // How long a device may keep showing its offline copy without hearing from the server.
    assert_eq!(info["session_idle_days"], 30);

    let wrong = app
        .api_client()
        .post(app.url("/api/v1/auth/setup"))
        .json(&json!({"token": "nope", "username": "x", "password": "password-x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    assert_eq!(error_code(wrong).await, "invalid-token");

    let token = app.setup_admin().await;
    let me: Value = app
        .get_with(&token, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], ADMIN);
    assert_eq!(me["is_admin"], true);

    let again = app
        .api_client()
        .post(app.url("/api/v1/auth/setup"))
        .json(&json!({"token": app.handle.setup_token, "username": "second", "password": "password-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404, "the setup token is single-use");
    app.stop().await;
}

#[tokio::test]
async fn login_sets_a_secure_cookie_and_wrong_passwords_do_not_reveal_names() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let c = app.client();
    let resp = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "ADMIN", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "outpost_session="] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(resp.headers().get("strict-transport-security").is_some());
    let body: Value = resp.json().await.unwrap();
    assert!(body["token"].as_str().unwrap().len() >= 43, "256-bit token");
    // The cookie alone authenticates the browser.
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );

    let wrong_pw = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": ADMIN, "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    let no_user = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "nobody", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_pw.status(), 401);
    assert_eq!(no_user.status(), 401);
    let a: Value = wrong_pw.json().await.unwrap();
    let b: Value = no_user.json().await.unwrap();
    assert_eq!(a, b, "the answer never tells whether the name exists");
    app.stop().await;
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(|c| c.auth.free_login_attempts = 3).await;
    app.setup_admin().await;
    let c = app.api_client();
    let attempt = |password: &'static str| {
        c.post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": ADMIN, "password": password}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(attempt("bad-password").await.unwrap().status(), 401);
    }
    let limited = attempt("bad-password").await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(error_code(limited).await, "rate-limited");
    // Even the right password waits until the delay has passed.
    assert_eq!(attempt(ADMIN_PASSWORD).await.unwrap().status(), 429);
    tokio::time::sleep(std::time::Duration::from_secs(retry + 1)).await;
    assert_eq!(attempt(ADMIN_PASSWORD).await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn logout_list_and_revoke_sessions() {
    let app = spawn_app().await;
    let first = app.setup_admin().await;
    let login = |_: ()| {
        app.api_client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
            .send()
    };
    let second: Value = login(()).await.unwrap().json().await.unwrap();
    let second = second["token"].as_str().unwrap().to_string();

    let sessions: Vec<Value> = app
        .get_with(&first, "/api/v1/sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let resp = app
        .api_client()
        .delete(app.url(&format!(
            "/api/v1/sessions/{}",
            other["id"].as_str().unwrap()
        )))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get_with(&second, "/api/v1/me").await.status(), 401);
    assert_eq!(app.get_with(&first, "/api/v1/me").await.status(), 200);

    let out = app
        .api_client()
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let gone = app.get_with(&first, "/api/v1/me").await;
    assert_eq!(gone.status(), 401);
    assert_eq!(error_code(gone).await, "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn invites_are_admin_only_single_use_and_create_accounts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let me: Value = app.get_with(&bob, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["username"], "bob");
    assert_eq!(me["is_admin"], false);

    // A member cannot invite or list users.
    let c = app.api_client();
    let resp = c
        .post(app.url("/api/v1/invites"))
        .bearer_auth(&bob)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(app.get_with(&bob, "/api/v1/users").await.status(), 403);

    let invite: Value = c
        .post(app.url("/api/v1/invites"))
        .bearer_auth(&admin)
        .json(&json!({"expires_in_hours": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = invite["token"].as_str().unwrap();
    assert_eq!(invite["path"], format!("/invite/{token}"));
    let status = c
        .get(app.url(&format!("/api/v1/invites/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    // A taken name fails without using up the invite.
    let taken = c
        .post(app.url("/api/v1/auth/invite"))
        .json(&json!({"token": token, "username": "bob", "password": "carol-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 409);
    let ok = c
        .post(app.url("/api/v1/auth/invite"))
        .json(&json!({"token": token, "username": "carol", "password": "carol-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let reused = c
        .post(app.url("/api/v1/auth/invite"))
        .json(&json!({"token": token, "username": "dave", "password": "dave-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 404);
    let status = c
        .get(app.url(&format!("/api/v1/invites/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn disabling_a_user_ends_their_live_session_at_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let users: Vec<Value> = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let bob_id = users.iter().find(|u| u["username"] == "bob").unwrap()["id"].clone();
    assert_eq!(app.get_with(&bob, "/api/v1/me").await.status(), 200);
    let resp = app
        .api_client()
        .post(app.url(&format!("/api/v1/users/{bob_id}/disable")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get_with(&bob, "/api/v1/me").await.status(), 401);
    let login = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "bob", "password": "bob-password"}))
        .send()
        .await
        .unwrap();
    // Told plainly, since the password was right; a wrong one still learns nothing.
    assert_eq!(login.status(), 403, "a disabled user cannot sign in");
    assert_eq!(error_code(login).await, "account-disabled");
    let login = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "bob", "password": "not-bobs-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(login).await, "invalid-credentials");
    app.stop().await;
}

#[tokio::test]
async fn cookie_requests_from_another_origin_are_refused() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let c = app.client();
    c.post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let forged = c
        .post(app.url("/api/v1/invites"))
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let same = c
        .post(app.url("/api/v1/invites"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_ends_other_sessions() {
    let app = spawn_app().await;
    let first = app.setup_admin().await;
    let second: Value = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let change = |current: &str| {
        app.api_client()
            .put(app.url("/api/v1/me/password"))
            .bearer_auth(&first)
            .json(&json!({"current_password": current, "new_password": "a-new-password"}))
            .send()
    };
    assert_eq!(change("wrong-one").await.unwrap().status(), 403);
    assert_eq!(change(ADMIN_PASSWORD).await.unwrap().status(), 204);
    assert_eq!(app.get_with(&first, "/api/v1/me").await.status(), 200);
    assert_eq!(
        app.get_with(second["token"].as_str().unwrap(), "/api/v1/me")
            .await
            .status(),
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.invite_user(&admin, "bob", "bob-password").await;
    let (dir, config) = app.stop().await;
    let app = spawn_in(dir, config).await;
    assert!(
        app.handle.setup_token.is_none(),
        "no setup once an admin exists"
    );
    assert_eq!(app.get_with(&admin, "/api/v1/me").await.status(), 200);
    let users: Vec<Value> = app
        .get_with(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn sign_out_left_files_in_the_browser_cache() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let out = app
        .api_client()
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(out.headers()["clear-site-data"], "\"cache\"");
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    app.stop().await;
}

#[tokio::test]
async fn display_names_could_hide_text_direction_and_look_alike_letters() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let set = |name: &str| {
        app.api_client()
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&admin)
            .json(&json!({ "display_name": name }))
            .send()
    };
    for bad in [
        "admin\u{202E}nimda",
        "\u{2066}Boss\u{2069}",
        "Ad\u{200B}min",
        "Ad\u{00AD}min",
        "Admin\u{FEFF}",
        "Admin\u{E0041}",
        "Admin\u{FE0F}",
        "\u{200F}Admin",
        "\u{061C}Admin",
        "Аdmin",      // Cyrillic А in a Latin word
        "Αdmin Team", // Greek Alpha
    ] {
        let r = set(bad).await.unwrap();
        assert_eq!(r.status(), 400, "{bad:?}");
        let body: Value = r.json().await.unwrap();
        // A stable code and the field let the web UI say it in the reader's language.
        let code = body["error"]["code"].as_str().unwrap();
        assert!(
            ["hidden-characters", "mixed-script"].contains(&code),
            "{bad:?}: {code}"
        );
        assert_eq!(body["error"]["field"], "display_name", "{bad:?}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("invisible or text-direction") || msg.contains("letters in one word"),
            "{msg}"
        );
    }
    for good in [
        "Оперативный штаб",
        "Штаб HQ",
        "Zoë Ødegård",
        "Ana 👩‍💻",
        "❤️ ops",
        "田中 太郎",
    ] {
        let r = set(good).await.unwrap();
        assert_eq!(r.status(), 200, "{good:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["display_name"], good);
    }

    // The same rules at account creation.
    let invite: Value = app
        .api_client()
        .post(app.url("/api/v1/invites"))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = app
        .api_client()
        .post(app.url("/api/v1/auth/invite"))
        .json(&json!({"token": invite["token"], "username": "eve",
            "display_name": "Ad\u{200D}min", "password": "eve-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}
