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

#[tokio::test]
async fn onboarding_offers_qr_codes_profiles_and_scripts_that_check_the_fingerprint() {
    let app = spawn_app().await;
    let c = no_redirects(&app);
    let base = app.http_base();
    let fp = app.handle.ca_fingerprint.clone();
    let page = c.get(format!("{base}/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let port = app.https_addr().port();
    assert!(
        csp.contains(&format!("connect-src 'self' https://127.0.0.1:{port}")),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    for needle in [
        "/onboarding/qr-url.svg",
        "/onboarding/qr-ca.svg",
        "/outpost-ca.mobileconfig",
        "/install-ca.sh",
        "Get-FileHash",
        "/onboarding.js",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(!html.contains("<script>"), "no inline script");
    for path in ["/onboarding/qr-url.svg", "/onboarding/qr-ca.svg"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().contains("<svg"));
    }
    let js = c
        .get(format!("{base}/onboarding.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("/healthz") && js.contains("/login"));

    let dir = tempfile::tempdir().unwrap();
    // The DER certificate parses with openssl and has the advertised fingerprint.
    let der = c
        .get(format!("{base}/ca.der"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let der_path = dir.path().join("ca.der");
    std::fs::write(&der_path, &der).unwrap();
    let out = std::process::Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-in",
            der_path.to_str().unwrap(),
            "-noout",
            "-fingerprint",
            "-sha256",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&fp));

    // The profile is a valid plist whose payload is the same certificate.
    let profile = c
        .get(format!("{base}/outpost-ca.mobileconfig"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let profile_path = dir.path().join("p.mobileconfig");
    std::fs::write(&profile_path, profile.bytes().await.unwrap()).unwrap();
    let extracted = dir.path().join("from-profile.der");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import plistlib,sys; p=plistlib.load(open(sys.argv[1],'rb')); c=p['PayloadContent'][0]; assert c['PayloadType']=='com.apple.security.root'; open(sys.argv[2],'wb').write(c['PayloadContent'])",
            profile_path.to_str().unwrap(),
            extracted.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-in",
            extracted.to_str().unwrap(),
            "-noout",
            "-fingerprint",
            "-sha256",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&fp));

    // The Linux script refuses a wrong fingerprint and installs nothing.
    let script = c
        .get(format!("{base}/install-ca.sh"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script_path = dir.path().join("install-ca.sh");
    std::fs::write(&script_path, script).unwrap();
    let out = std::process::Command::new("sh")
        .args([script_path.to_str().unwrap(), "00:11:22"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Fingerprint mismatch"));
    app.stop().await;
}
