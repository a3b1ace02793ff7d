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
        assert!(html.contains("<html lang=\"en\">") && html.contains("Download the certificate"));
    }
    // A Russian-speaking browser gets the page in Russian, fingerprint and commands the same.
    let ru = c
        .get(format!("{}/", app.http_base()))
        .header("accept-language", "ru-RU,ru;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ru.contains("<html lang=\"ru\">"), "{ru}");
    assert!(ru.contains("Скачать сертификат") && ru.contains("Подключение к"));
    assert!(ru.contains(&app.handle.ca_fingerprint));
    assert!(!ru.contains("Download the certificate"));
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
    // The one error shape stays described, and referenced by the error responses.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(
        error["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorDetail"
    );
    let detail = &doc["components"]["schemas"]["ErrorDetail"]["properties"];
    assert!(detail["code"].is_object() && detail["message"].is_object());
    assert_eq!(
        doc["paths"]["/api/v1/channels/{id}"]["get"]["responses"]["404"]["content"]
            ["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
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

/// The error body of a response, after checking its shape.
async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{status}: {ct}");
    let body: Value = r.json().await.expect("a JSON error body");
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    (status, body["error"].clone())
}

#[tokio::test]
async fn non_numeric_or_overflowing_path_ids_were_answered_in_plain_text() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/channels/abc"),
        (reqwest::Method::GET, "/api/v1/channels/9223372036854775808"),
        (reqwest::Method::GET, "/api/v1/channels/1.5/messages"),
        (reqwest::Method::DELETE, "/api/v1/channels/1/members/bob"),
        (reqwest::Method::PATCH, "/api/v1/messages/-"),
        (
            reqwest::Method::POST,
            "/api/v1/users/99999999999999999999/disable",
        ),
        (reqwest::Method::PUT, "/api/v1/admin/channels/x/retention"),
    ] {
        let r = api(&app, &admin, method.clone(), path, Some(json!({}))).await;
        let (status, e) = error_of(r).await;
        assert_eq!(status, 400, "{method} {path}");
        assert_eq!(e["code"], "invalid-path", "{method} {path}");
        assert!(
            e["message"].as_str().unwrap().contains("whole number"),
            "{e}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_query_strings_were_answered_in_plain_text() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "queries", false).await;
    for path in [
        format!("/api/v1/channels/{ch}/messages?limit=abc"),
        format!("/api/v1/channels/{ch}/messages?before=99999999999999999999"),
        "/api/v1/search".to_string(),
        "/api/v1/search?q=x&channel_id=general".to_string(),
        "/api/v1/mentions?limit=ten".to_string(),
        "/api/v1/admin/audit?before_id=x".to_string(),
    ] {
        let (status, e) = error_of(app.get_with(&admin, &path).await).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(e["code"], "invalid-query", "{path}");
    }
    let (_, e) = error_of(app.get_with(&admin, "/api/v1/search").await).await;
    assert!(e["message"].as_str().unwrap().contains("`q`"), "{e}");
    app.stop().await;
}

#[tokio::test]
async fn wrong_methods_and_unknown_api_paths_were_answered_without_a_json_body() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for (method, path, allowed) in [
        (reqwest::Method::DELETE, "/api/v1/channels", "GET,HEAD,POST"),
        (reqwest::Method::PUT, "/api/v1/auth/login", "POST"),
        (reqwest::Method::POST, "/api/v1/files/abc", "GET,HEAD"),
        (reqwest::Method::POST, "/api/v1/ws", "GET,HEAD"),
        (reqwest::Method::DELETE, "/api/v1/openapi.json", "GET,HEAD"),
    ] {
        let r = api(&app, &admin, method.clone(), path, None).await;
        let allow = r
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().replace(' ', ""))
            .unwrap_or_default();
        let (status, e) = error_of(r).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(e["code"], "method-not-allowed");
        assert_eq!(allow, allowed, "{method} {path}");
    }
    for (method, path) in [
        (reqwest::Method::GET, "/api/v2/channels"),
        (reqwest::Method::POST, "/api/nothing/here"),
        (reqwest::Method::GET, "/api/v1/channels/1/nope"),
    ] {
        let (status, e) = error_of(api(&app, &admin, method, path, None).await).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(e["code"], "not-found");
    }
    app.stop().await;
}

#[tokio::test]
async fn oversized_request_heads_were_answered_with_an_empty_body() {
    let app = spawn_app().await;
    let c = app.api_client();

    // Beyond our limits but within hyper's: our answer, in the common shape.
    let long = format!("/api/v1/server?pad={}", "a".repeat(9 * 1024));
    let (status, e) = error_of(c.get(app.url(&long)).send().await.unwrap()).await;
    assert_eq!(status, 414);
    assert_eq!(e["code"], "uri-too-long");

    let (status, e) = error_of(
        c.get(app.url("/api/v1/server"))
            .header("x-pad", "b".repeat(40 * 1024))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 431);
    assert_eq!(e["code"], "headers-too-large");

    let mut many = reqwest::header::HeaderMap::new();
    for i in 0..110 {
        let name = reqwest::header::HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap();
        many.insert(name, "1".parse().unwrap());
    }
    let (status, e) = error_of(
        c.get(app.url("/api/v1/server"))
            .headers(many)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 431);
    assert_eq!(e["code"], "headers-too-large");

    // The same over a raw connection, and what hyper answers before our code runs: far
    // longer targets (over 64 KiB) get its bare 414, heads over its 400 KiB buffer its bare
    // 431, and a malformed Content-Length its bare 400 with the connection closed. These
    // cannot carry a JSON body (docs/protocol.md, "HTTP errors").
    let raw = raw_https(
        &app,
        format!("GET {long} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(raw.status, 414);
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(raw.body.contains("\"uri-too-long\""), "{}", raw.body);

    let huge = format!("/api/v1/server?pad={}", "a".repeat(70 * 1024));
    let raw = raw_https(
        &app,
        format!("GET {huge} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(raw.status, 414, "hyper's own limit");

    let raw = raw_https(
        &app,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    )
    .await;
    assert_eq!(raw.status, 400, "hyper refuses a malformed Content-Length");

    let raw = raw_https(
        &app,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    )
    .await;
    assert_eq!(raw.status, 400, "conflicting lengths");

    // Still healthy afterwards.
    assert_eq!(
        c.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn api_answers_could_be_kept_by_browser_caches() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let c = app.api_client();
    for r in [
        app.get_with(&admin, "/api/v1/me").await,
        app.get_with(&admin, "/api/v1/channels").await,
        app.get_with(&admin, "/api/v1/sessions").await,
        app.get_with(&admin, "/api/v1/channels/424242").await,
        c.get(app.url("/api/v1/me")).send().await.unwrap(),
        app.get_with(&admin, "/api/v1/nothing").await,
        app.get_with(&admin, "/metrics").await,
    ] {
        let url = r.url().to_string();
        assert_eq!(
            r.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{url}"
        );
    }
    app.stop().await;
}

/// Issue 21: the app's own page is in the browser's language before its script runs.
#[tokio::test]
async fn the_app_page_follows_the_browser_language() {
    let app = spawn_app().await;
    let c = app.api_client();
    for (accept, lang) in [
        (None, "en"),
        (Some("ru-RU,ru;q=0.9,en;q=0.5"), "ru"),
        (Some("en-US,en;q=0.9,ru;q=0.5"), "en"),
    ] {
        let mut req = c.get(app.url("/people"));
        if let Some(a) = accept {
            req = req.header("accept-language", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["vary"], "Accept-Language");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{accept:?}"
        );
    }
    // The installed app's description too.
    let manifest: Value = c
        .get(app.url("/manifest.webmanifest"))
        .header("accept-language", "ru")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["lang"], "ru");
    assert_eq!(manifest["description"], "Чат команды в своей сети");
    assert_eq!(manifest["name"], "Outpost");
    app.stop().await;
}
