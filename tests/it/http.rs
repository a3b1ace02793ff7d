//! The HTTP surface: plain-HTTP onboarding and redirects, error shapes for bad input, headers,
//! the OpenAPI document and the embedded web UI.

use serde_json::{json, Value};

use crate::helpers::*;

fn no_redirects(app: &TestApp) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(&app.ca_pem()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn plain_http_serves_only_onboarding_and_the_ca_and_redirects_the_rest() {
    let app = spawn_app().await;
    let c = no_redirects(&app);
    let port = app.https_addr().port();
    for path in ["/", "/onboarding"] {
        let page = c
            .get(format!("{}{path}", app.http_base()))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("script-src 'self'"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&app.handle.ca_fingerprint),
            "fingerprint shown"
        );
        assert!(html.contains(&format!("https://127.0.0.1:{port}/")));
        for platform in ["Windows", "macOS", "Linux", "Android", "iPhone"] {
            assert!(html.contains(platform), "{platform}");
        }
    }
    let pem = c
        .get(format!("{}/ca.pem", app.http_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(pem.status(), 200);
    assert_eq!(pem.text().await.unwrap(), app.ca_pem());
    let der = c
        .get(format!("{}/ca.der", app.http_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        der.bytes().await.unwrap().to_vec(),
        outpost::pki::pem_to_der(&app.ca_pem()).unwrap()
    );

    for path in ["/login", "/api/v1/me", "/setup?token=abc"] {
        let r = c
            .get(format!("{}{path}", app.http_base()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 308, "{path}");
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("https://127.0.0.1:{port}{path}")
        );
    }
    let post = c
        .post(format!("{}/api/v1/auth/login", app.http_base()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        post.status(),
        308,
        "the app is never served over plain HTTP"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_in_one_shape() {
    let app = spawn_app_with(|c| c.limits.max_json_body = 4096).await;
    let c = app.api_client();
    let login = app.url("/api/v1/auth/login");

    let r = c
        .post(&login)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "malformed-json");

    let r = c
        .post(&login)
        .json(&json!({"username": 5, "password": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(r).await, "invalid-json");

    let r = c
        .post(&login)
        .json(&json!({"username": "a", "password": "b", "extra": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "unknown fields are refused");

    let huge = "x".repeat(100_000);
    let r = c
        .post(&login)
        .json(&json!({"username": huge, "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(error_code(r).await, "payload-too-large");

    let r = c.post(&login).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 415, "a body without a JSON content type");

    let r = c
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "not-found");

    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "unauthorized");

    // The server is still healthy and nothing was stored.
    assert_eq!(
        c.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
    let info: Value = c
        .get(app.url("/api/v1/server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["needs_setup"], true);
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let doc: Value = app
        .api_client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/setup",
        "/api/v1/auth/invite",
        "/api/v1/invites",
        "/api/v1/me",
        "/api/v1/sessions/{id}",
        "/api/v1/users",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_web_ui_is_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let c = app.api_client();
    for path in ["/", "/login", "/setup"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"));
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = r.text().await.unwrap();
        assert!(html.contains("<script type=\"module\""), "{html}");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no other origin"
        );
    }
    let html = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("a hashed script");
    let r = c.get(app.url(asset)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    app.stop().await;
}
