//! Two-step sign-in (TOTP): enrolment, sign-in with app and recovery codes, replay, throttling,
//! the site policy, administrator reset, and who may do what. Codes are computed here from the
//! RFC (HMAC-SHA1, dynamic truncation), not with the server's library.

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for ch in s.bytes().filter(|b| *b != b'=') {
        let v = ALPHABET.iter().position(|a| *a == ch).expect("base32") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// RFC 4226 HOTP over the RFC 6238 counter for `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&(unix_secs / 30).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[off] & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    format!("{:06}", bin % 1_000_000)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn login(app: &TestApp, name: &str, password: &str, code: Option<&str>) -> reqwest::Response {
    let mut body = json!({"username": name, "password": password});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    app.api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Enrols `token`'s user; returns the secret and the recovery codes.
async fn enrol(app: &TestApp, token: &str, password: &str) -> (Vec<u8>, Vec<String>) {
    let r = api(
        app,
        token,
        Method::POST,
        "/api/v1/me/two-factor",
        Some(json!({"password": password})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    let secret = base32_decode(e["secret"].as_str().unwrap());
    assert_eq!(secret.len(), 20);
    let r = api(
        app,
        token,
        Method::POST,
        "/api/v1/me/two-factor/confirm",
        Some(json!({"code": code_at(&secret, now())})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let codes: Value = r.json().await.unwrap();
    let codes: Vec<String> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes)
}

#[tokio::test]
async fn enrol_then_sign_in_with_the_app_or_a_recovery_code_each_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;

    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/me/two-factor",
        Some(json!({"password": "nope-nope"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "wrong-password");
    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/me/two-factor",
        Some(json!({"password": "bob-password-1"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    let secret_text = e["secret"].as_str().unwrap();
    let uri = e["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(
        uri.contains(":bob?") && uri.contains(&format!("secret={secret_text}")),
        "{uri}"
    );
    assert!(
        uri.contains("digits=6") && uri.contains("period=30"),
        "{uri}"
    );
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = base32_decode(secret_text);
    // A wrong first code leaves it off.
    let wrong = if code_at(&secret, now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/me/two-factor/confirm",
        Some(json!({"code": wrong})),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "wrong-code");
    let me: Value = app.get_with(&bob, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["two_factor"], false);

    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/me/two-factor/confirm",
        Some(json!({"code": code_at(&secret, now())})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let codes: Value = r.json().await.unwrap();
    let codes = codes["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(codes.len(), 10);
    let me: Value = app.get_with(&bob, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["two_factor"], true);
    assert_eq!(me["two_factor_required"], false);
    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/me/two-factor",
        Some(json!({"password": "bob-password-1"})),
    )
    .await;
    assert_eq!(r.status(), 409);

    // The password alone no longer signs in; a wrong password still says nothing more.
    let r = login(&app, "bob", "bob-password-1", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "second-factor-required");
    let r = login(&app, "bob", "wrong-password", Some("123456")).await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "invalid-credentials");
    let r = login(&app, "bob", "bob-password-1", Some(wrong)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "wrong-code");
    // The step the enrolment used is spent; the next step's code (one step of drift) works once.
    let next = code_at(&secret, now() + 30);
    let r = login(&app, "bob", "bob-password-1", Some(&next)).await;
    assert_eq!(r.status(), 200);
    let r = login(&app, "bob", "bob-password-1", Some(&next)).await;
    assert_eq!(r.status(), 401, "a code signs in once");
    assert_eq!(error_code(r).await, "wrong-code");

    // Recovery codes: accepted as typed (case, spaces), each once.
    let first = codes[0].as_str().unwrap();
    let typed = first.to_uppercase().replace('-', " ");
    let r = login(&app, "bob", "bob-password-1", Some(&typed)).await;
    assert_eq!(r.status(), 200);
    let r = login(&app, "bob", "bob-password-1", Some(first)).await;
    assert_eq!(r.status(), 401);

    // New recovery codes replace the old ones.
    let r = api(
        &app,
        &bob,
        Method::POST,
        "/api/v1/me/two-factor/recovery-codes",
        Some(json!({"password": "bob-password-1"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.unwrap();
    let r = login(
        &app,
        "bob",
        "bob-password-1",
        Some(codes[1].as_str().unwrap()),
    )
    .await;
    assert_eq!(r.status(), 401, "old codes stop working");
    let r = login(
        &app,
        "bob",
        "bob-password-1",
        Some(fresh["recovery_codes"][0].as_str().unwrap()),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Turning it off asks for the password, then the password alone works again.
    let r = api(
        &app,
        &bob,
        Method::DELETE,
        "/api/v1/me/two-factor",
        Some(json!({"password": "x-wrong-x"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &bob,
        Method::DELETE,
        "/api/v1/me/two-factor",
        Some(json!({"password": "bob-password-1"})),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        login(&app, "bob", "bob-password-1", None).await.status(),
        200
    );

    // Every step is in the audit log, and no secret or code is.
    let audit: Value = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    for action in [
        "two-factor-enabled",
        "recovery-code-used",
        "recovery-codes-replaced",
        "two-factor-disabled",
    ] {
        assert!(text.contains(action), "{action} audited");
    }
    assert!(text.contains("wrong second-factor code"));
    assert!(!text.contains(secret_text) && !text.contains(first));
    app.stop().await;
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let (secret, _) = enrol(&app, &bob, "bob-password-1").await;
    let current = code_at(&secret, now());
    let mut throttled = false;
    for i in 0..12u32 {
        let guess = format!("{:06}", (i * 7919) % 1_000_000);
        if guess == current {
            continue;
        }
        let r = login(&app, "bob", "bob-password-1", Some(&guess)).await;
        if r.status() == 429 {
            throttled = true;
            break;
        }
        assert_eq!(r.status(), 401);
    }
    assert!(throttled, "guessing codes is slowed down");
    app.stop().await;
}

#[tokio::test]
async fn a_required_second_factor_blocks_everything_until_enrolled() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let carol = app.invite_user(&admin, "carol", "carol-password-1").await;

    // Only administrators change the policy, and only to a known value.
    let r = api(
        &app,
        &bob,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"two_factor_policy": "off"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"two_factor_policy": "sometimes"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"two_factor_policy": "everyone"})),
    )
    .await;
    assert_eq!(r.status(), 200);

    // The admin owes it too: only /me, enrolment and signing out still answer.
    let r = app.get_with(&admin, "/api/v1/channels").await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "two-factor-enrolment-required");
    let r = app.get_with(&admin, "/api/v1/admin/settings").await;
    assert_eq!(r.status(), 403);
    let r = app.get_with(&bob, "/api/v1/ws").await;
    assert_eq!(r.status(), 403, "no live connection either");
    let me: Value = app.get_with(&bob, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["two_factor_required"], true);

    let (bob_secret, _) = enrol(&app, &bob, "bob-password-1").await;
    assert_eq!(app.get_with(&bob, "/api/v1/channels").await.status(), 200);
    let me: Value = app.get_with(&bob, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["two_factor_required"], false);
    // While required it cannot be turned off.
    let r = api(
        &app,
        &bob,
        Method::DELETE,
        "/api/v1/me/two-factor",
        Some(json!({"password": "bob-password-1"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "two-factor-required");

    enrol(&app, &admin, ADMIN_PASSWORD).await;
    let r = app.get_with(&admin, "/api/v1/admin/settings").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["two_factor_policy"],
        "everyone"
    );

    // A member cannot reset someone's second factor; an administrator can, and then the
    // policy asks that user to enrol again.
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
        .as_i64()
        .unwrap();
    assert_eq!(
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "bob")
            .unwrap()["two_factor"],
        true
    );
    let path = format!("/api/v1/users/{bob_id}/two-factor");
    let r = api(&app, &carol, Method::DELETE, &path, None).await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::DELETE,
        "/api/v1/users/999999/two-factor",
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = api(&app, &admin, Method::DELETE, &path, None).await;
    assert_eq!(r.status(), 204);
    let r = app.get_with(&bob, "/api/v1/channels").await;
    assert_eq!(error_code(r).await, "two-factor-enrolment-required");
    // The old secret signs in no more; the password alone does, into enrolment only.
    let r = login(
        &app,
        "bob",
        "bob-password-1",
        Some(&code_at(&bob_secret, now() + 30)),
    )
    .await;
    assert_eq!(r.status(), 200, "a code is not asked for once it is off");

    // "admins": members are free again, administrators are held to it.
    let r = api(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"two_factor_policy": "admins"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get_with(&bob, "/api/v1/channels").await.status(), 200);
    let audit: Value = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("two-factor-policy-changed"));
    assert!(audit.to_string().contains("two-factor-reset"));
    app.stop().await;
}

#[tokio::test]
async fn the_cli_resets_a_second_factor_beside_a_running_server() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    enrol(&app, &bob, "bob-password-1").await;
    assert_eq!(
        login(&app, "bob", "bob-password-1", None).await.status(),
        401
    );
    let out = cli_beside(&app, &["user", "reset-two-factor", "bob"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        login(&app, "bob", "bob-password-1", None).await.status(),
        200
    );
    app.stop().await;
}
