//! Regression tests for findings of the outside audit that belong to no single area: the CA
//! made by two processes at once, CLI commands beside a busy server, sign-in throttling and
//! memory, connection limits and timeouts. Each test is named after the finding it pins.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

fn add_user(data: &str, name: &str, password: &str, admin: bool) -> std::process::Child {
    let mut args = vec!["user", "add", name, "--password-stdin", "--data-dir", data];
    if admin {
        args.push("--admin");
    }
    let mut child = outpost_bin()
        .args(&args)
        .env_remove("OUTPOST_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child
}

#[test]
fn a_cli_command_beside_a_first_start_never_makes_a_second_ca() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let d = data.to_str().unwrap().to_string();
        // The server and four CLI commands race to create the CA of a fresh data dir.
        let exports: Vec<_> = (0..4)
            .map(|_| {
                outpost_bin()
                    .args(["ca", "export", "--data-dir", &d])
                    .env_remove("OUTPOST_CONFIG")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let server = serve(&d);
        let pems: Vec<String> = exports
            .into_iter()
            .map(|c| String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap())
            .collect();
        let on_disk = std::fs::read_to_string(data.join("certs/ca.pem")).unwrap();
        for pem in &pems {
            assert_eq!(pem, &on_disk, "every command exported the one CA on disk");
        }
        // The certificate the server presents chains to that CA.
        let addr: SocketAddr = server.https.parse().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let client = reqwest::Client::builder()
                .use_preconfigured_tls(client_tls(&on_disk))
                .resolve("localhost", addr)
                .build()
                .unwrap();
            let resp = client
                .get(format!("https://localhost:{}/healthz", addr.port()))
                .send()
                .await
                .expect("the server's chain verifies against the exported CA");
            assert!(resp.status().as_u16() < 500);
        });
    }
}

#[test]
fn two_user_adds_at_once_on_one_data_dir_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let children: Vec<_> = (0..4)
        .map(|i| add_user(d, &format!("user{i}"), "password-one-two", i == 0))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = outpost_bin()
        .args(["user", "list", "--data-dir", d])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    for i in 0..4 {
        assert!(list.contains(&format!("user{i}")), "{list}");
    }
}

#[test]
fn a_server_certificate_from_another_ca_is_reissued_at_start_and_doctor_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        let out = outpost_bin()
            .args(["ca", "export", "--data-dir", d.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    // Same site name, so the same subject: only the signature tells the two CAs apart.
    for f in ["server.pem", "server.key"] {
        std::fs::copy(b.join("certs").join(f), a.join("certs").join(f)).unwrap();
    }
    let da = a.to_str().unwrap();
    let out = outpost_bin()
        .args(["doctor", "--data-dir", da])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("was not issued by the CA"),
        "doctor notices the broken chain: {text}"
    );
    assert!(!out.status.success());

    let server = serve(da);
    let ca = std::fs::read_to_string(a.join("certs/ca.pem")).unwrap();
    let addr: SocketAddr = server.https.parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(client_tls(&ca))
            .resolve("localhost", addr)
            .build()
            .unwrap();
        client
            .get(format!("https://localhost:{}/healthz", addr.port()))
            .send()
            .await
            .expect("after the reissue the chain verifies against the CA on disk");
    });
    drop(server);
    let out = outpost_bin()
        .args(["doctor", "--data-dir", da])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("issued by the CA on disk"), "{text}");
}

/// A client whose connections come from `from` (any 127.x address reaches the server).
fn client_from(app: &TestApp, from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(&app.ca_pem()))
        .resolve("localhost", app.https_addr())
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_status(c: &reqwest::Client, app: &TestApp, user: &str, password: &str) -> u16 {
    c.post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_passwords_is_throttled_while_still_being_checked() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.invite_user(&admin, "bob", "bob-password-1").await;
    let attacker = client_from(&app, "127.0.0.2");
    let tries = (0..200).map(|_| {
        let (c, url) = (attacker.clone(), app.url("/api/v1/auth/login"));
        tokio::spawn(async move {
            c.post(url)
                .json(&json!({"username": "bob", "password": "wrong-password"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut checked = 0;
    let mut throttled = 0;
    for t in tries {
        match t.await.unwrap() {
            401 => checked += 1,
            429 => throttled += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    // Five attempts per account and address are free; the rest of the burst waits.
    assert!(checked <= 5, "{checked} attempts were checked");
    assert_eq!(checked + throttled, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn someone_elses_wrong_passwords_do_not_lock_the_owner_out_of_their_own_address() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.invite_user(&admin, "bob", "bob-password-1").await;
    let bob = client_from(&app, "127.0.0.3");
    assert_eq!(login_status(&bob, &app, "bob", "bob-password-1").await, 200);
    // Someone tries bob's account from other addresses until it is locked there.
    for i in 0..3 {
        let attacker = client_from(&app, &format!("127.0.1.{}", i + 1));
        for _ in 0..8 {
            let s = login_status(&attacker, &app, "bob", "guess-guess").await;
            assert!(s == 401 || s == 429, "{s}");
        }
    }
    let attacker = client_from(&app, "127.0.1.1");
    assert_eq!(
        login_status(&attacker, &app, "bob", "bob-password-1").await,
        429,
        "the attacker's address stays locked even with the right password"
    );
    assert_eq!(
        login_status(
            &client_from(&app, "127.0.2.1"),
            &app,
            "bob",
            "bob-password-1"
        )
        .await,
        429,
        "an address bob never signed in from waits too: the account is under attack"
    );
    assert_eq!(
        login_status(&bob, &app, "bob", "bob-password-1").await,
        200,
        "bob signs in from his own address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_beside_a_busy_server_never_fail_its_requests() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = real_server_with_admin(
        data.clone(),
        &[
            ("OUTPOST_LIMITS_MESSAGES_PER_SECOND", "100000"),
            ("OUTPOST_LIMITS_MESSAGE_BURST", "100000"),
        ],
    )
    .await;
    let channel: Value = s
        .client
        .post(format!("{}/api/v1/channels", s.base))
        .bearer_auth(&s.token)
        .json(&json!({"name": "busy"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = channel["id"].as_i64().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for w in 0..4 {
        let (client, base, token, stop) = (
            s.client.clone(),
            s.base.clone(),
            s.token.clone(),
            stop.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 5_000 {
                let r = client
                    .post(format!("{base}/api/v1/channels/{id}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"body": format!("m{w}-{sent}"), "client_id": format!("c{w}-{sent}")}))
                    .send()
                    .await
                    .unwrap();
                if !r.status().is_success() {
                    failures.push(format!("{} {}", r.status(), r.text().await.unwrap_or_default()));
                }
                sent += 1;
            }
            (sent, failures)
        }));
    }
    let d = data.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        for i in 0..6 {
            for args in [
                vec!["user", "list", "--data-dir", &d],
                vec!["doctor", "--data-dir", &d],
            ] {
                let _ = outpost_bin().args(&args).output().unwrap();
            }
            let out = add_user(&d, &format!("extra{i}"), "password-one-two", false)
                .wait_with_output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for t in senders {
        let (sent, failures) = t.await.unwrap();
        total += sent;
        assert!(
            failures.is_empty(),
            "{} failed sends, the first: {:?}",
            failures.len(),
            failures.first()
        );
    }
    assert!(total > 0);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn silent_tcp(to: SocketAddr, from: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the server has closed `s` (EOF or reset) within `wait`.
async fn closed_within(s: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    match tokio::time::timeout(wait, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_and_one_address_cannot_take_every_slot() {
    let app = spawn_app_with(|c| {
        c.limits.first_request_secs = 1;
        c.limits.max_connections_per_address = 20;
        c.limits.http_max_connections = 5;
    })
    .await;
    let https = app.https_addr();
    let http = app.handle.http_addr.unwrap();
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(silent_tcp(https, "127.0.0.5").await);
    }
    // The 21st from the same address is refused at once.
    let mut extra = silent_tcp(https, "127.0.0.5").await;
    assert!(closed_within(&mut extra, Duration::from_millis(500)).await);
    // Filling the plain-HTTP listener does not touch HTTPS.
    let mut plain = Vec::new();
    for _ in 0..5 {
        plain.push(silent_tcp(http, "127.0.0.6").await);
    }
    let resp = app
        .api_client()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "another machine is served meanwhile");
    // A TLS handshake completed, then nothing: closed after the first-request timeout too.
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client_tls(&app.ca_pem())));
    let tcp = silent_tcp(https, "127.0.0.7").await;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut after_tls = tls.connect(name, tcp).await.unwrap();
    let started = std::time::Instant::now();
    for s in silent.iter_mut().chain(plain.iter_mut()) {
        assert!(
            closed_within(s, Duration::from_secs(4)).await,
            "a silent connection is closed"
        );
    }
    {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 16];
        let r = tokio::time::timeout(Duration::from_secs(4), after_tls.read(&mut buf)).await;
        assert!(
            matches!(r, Ok(Ok(0)) | Ok(Err(_))),
            "a connection silent after TLS is closed"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Its slots are free again.
    let mut again = silent_tcp(https, "127.0.0.5").await;
    assert!(!closed_within(&mut again, Duration::from_millis(300)).await);
}

#[tokio::test]
async fn an_upload_request_body_is_limited_like_every_json_body() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let huge = format!(
        "{{\"name\":\"{}\",\"size\":1}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let resp = app
        .api_client()
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[test]
fn under_systemd_log_lines_carry_journal_priorities_and_no_colour() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = outpost_bin()
        .args([
            "serve",
            "--data-dir",
            d.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--http-listen",
            "off",
            "--no-discovery",
        ])
        .env("JOURNAL_STREAM", "8:12345")
        .env("OUTPOST_CALLS_ENABLED", "false")
        .env_remove("OUTPOST_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\u{1b}'), "no ANSI escape codes: {err:?}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("<3>error: "),
        "the failure is an error entry: {err}"
    );
    assert_eq!(
        last.matches("already in use").count(),
        1,
        "the cause is said once: {last}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("<6>")),
        "info lines carry priority 6: {err}"
    );
    // A configuration error: priority 3 as well, and exit status 2 (not retried by the unit).
    let out = outpost_bin()
        .args(["serve", "--data-dir", d.to_str().unwrap()])
        .env("JOURNAL_STREAM", "8:12345")
        .env("OUTPOST_LIMITS_MAX_CONNECTIONS", "lots")
        .env_remove("OUTPOST_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("<3>error: "));
}

#[test]
fn the_documented_backup_passphrase_variable_is_not_called_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let out = outpost_bin()
        .args([
            "backup",
            "verify",
            dir.path().join("none.age").to_str().unwrap(),
            "--passphrase",
        ])
        .env("OUTPOST_BACKUP_PASSPHRASE", "secret words here")
        .env_remove("OUTPOST_CONFIG")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("unknown environment variable"), "{err}");
}

#[tokio::test]
async fn a_data_dir_open_to_everyone_is_made_private_and_no_database_file_is_world_readable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    // The SQLite file's mode is the point: this test is about the one-box store on either run.
    config.cluster.database.clear();
    std::fs::create_dir_all(&config.data_dir).unwrap();
    std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A database another tool left readable by everyone.
    {
        let store = outpost::store::Store::open(&config.db_path()).unwrap();
        store.close();
    }
    std::fs::set_permissions(config.db_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let app = spawn_in(dir, config.clone()).await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "ops", false).await;
    post_message(&app, &admin, ch, "hello").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&config.data_dir), 0o700);
    for entry in std::fs::read_dir(&config.data_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("outpost.db") {
            assert_eq!(mode(&path) & 0o077, 0, "{name} is private");
        }
    }
}

/// A WebSocket from `from` (any 127.x address), left open.
async fn ws_from(
    app: &TestApp,
    from: &str,
    token: &str,
) -> Option<
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let tcp = silent_tcp(app.https_addr(), from).await;
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client_tls(&app.ca_pem())))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .ok()?;
    let mut req = format!("wss://localhost:{}/api/v1/ws", app.https_addr().port())
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::client_async(req, tls),
    )
    .await
    .ok()?
    .ok()
    .map(|(s, _)| s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_count_against_their_address_for_as_long_as_they_are_open() {
    let app = spawn_app_with(|c| c.limits.max_connections_per_address = 3).await;
    let admin = app.setup_admin().await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(
            ws_from(&app, "127.0.0.9", &admin)
                .await
                .expect("within the limit"),
        );
    }
    // The upgraded connections still hold their slots: a fourth from that address is refused.
    let mut fourth = silent_tcp(app.https_addr(), "127.0.0.9").await;
    assert!(closed_within(&mut fourth, Duration::from_millis(500)).await);
    drop(open.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        ws_from(&app, "127.0.0.9", &admin).await.is_some(),
        "a closed WebSocket gives its slot back"
    );
}
