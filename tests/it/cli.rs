//! The `outpost` binary: bad configuration, startup failures, user management against a data
//! directory (with and without a running server), CA export, doctor and SIGTERM.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::*;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = outpost_bin()
        .args(args)
        .env_remove("OUTPOST_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.contains(env!("CARGO_PKG_VERSION")));
    let (code, out, _) = run(&["config", "example"]);
    assert_eq!(code, 0);
    assert!(out.contains("[tls]"));
}

#[test]
fn bad_config_names_the_key_and_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:8443\"\n[tls]\nprofle = \"modern\"\n",
    )
    .unwrap();
    let (code, _, err) = run(&[
        "serve",
        "--config",
        file.to_str().unwrap(),
        "--no-discovery",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("profle") && err.contains("bad.toml"), "{err}");

    std::fs::write(&file, "discovery = 3\n").unwrap();
    let (code, _, err) = run(&["doctor", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("discovery"), "{err}");

    std::fs::write(&file, "listen = [\n").unwrap();
    let (code, _, err) = run(&["serve", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not valid TOML"), "{err}");

    let (code, _, err) = run(&["serve", "--config", "/nonexistent/outpost.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/outpost.toml"), "{err}");
}

#[test]
fn startup_failures_are_one_plain_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A port in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (code, _, err) = run(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &addr,
        "--http-listen",
        "off",
        "--no-discovery",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("already in use") && err.contains(&addr),
        "{err}"
    );

    // A data dir that cannot be created (a file is in the way).
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let bad = blocker.join("data");
    let (code, _, err) = run(&[
        "serve",
        "--data-dir",
        bad.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "off",
        "--no-discovery",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("data directory") && err.contains(bad.to_str().unwrap()),
        "{err}"
    );

    // A configured certificate file that is missing.
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "tls.cert_file = \"/nonexistent/cert.pem\"\ntls.key_file = \"/nonexistent/key.pem\"\n",
    )
    .unwrap();
    let (code, _, err) = run(&[
        "serve",
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "off",
        "--no-discovery",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}

#[test]
fn a_corrupt_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("outpost.db");
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let (code, _, err) = run(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "off",
        "--no-discovery",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("damaged"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
    let (code, out, _) = run(&["doctor", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("damaged"), "{out}");
}

#[test]
fn user_commands_work_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let mut child = outpost_bin()
        .args([
            "user",
            "add",
            "Alice",
            "--admin",
            "--password-stdin",
            "--data-dir",
            d,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"alice-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let (code, out, _) = run(&["user", "add", "bob", "--data-dir", d]);
    assert_eq!(code, 0);
    assert!(
        out.contains("password: "),
        "a generated password is shown: {out}"
    );
    let (code, _, err) = run(&["user", "add", "bob", "--data-dir", d]);
    assert_ne!(code, 0);
    assert!(err.contains("taken"), "{err}");

    let (code, out, _) = run(&["user", "list", "--json", "--data-dir", d]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["username"], "alice");
    assert_eq!(list[0]["is_admin"], true);

    let (code, _, _) = run(&["user", "disable", "bob", "--data-dir", d]);
    assert_eq!(code, 0);
    let (_, out, _) = run(&["user", "list", "--data-dir", d]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("bob") && l.contains("disabled")),
        "{out}"
    );
    let (code, out, _) = run(&["user", "reset-password", "alice", "--data-dir", d]);
    assert_eq!(code, 0);
    assert!(out.contains("new password: "));
    let (code, _, err) = run(&["user", "disable", "nobody", "--data-dir", d]);
    assert_ne!(code, 0);
    assert!(err.contains("no user named"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_disable_ends_a_live_session_on_a_running_server() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    assert_eq!(app.get_with(&bob, "/api/v1/me").await.status(), 200);
    let d = app.data_dir();
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(["user", "disable", "bob", "--data-dir", d.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    assert_eq!(app.get_with(&bob, "/api/v1/me").await.status(), 401);
    app.stop().await;
}

/// The server answers sessions from memory (issue 23); a change the CLI makes beside it must
/// still count from the moment the command returns, both ways.
#[tokio::test(flavor = "multi_thread")]
async fn cli_role_changes_count_on_a_running_server_when_the_command_returns() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let d = app.data_dir();
    let cli = |args: &'static [&'static str]| {
        let d = d.clone();
        tokio::task::spawn_blocking(move || {
            outpost_bin()
                .args(args)
                .args(["--data-dir", d.to_str().unwrap()])
                .output()
                .unwrap()
        })
    };
    let admin_status = || async { app.get_with(&bob, "/api/v1/admin/status").await.status() };
    // Each answer comes from the cache filled by the request before the command.
    assert_eq!(admin_status().await, 403);
    for _ in 0..3 {
        for (args, then) in [
            (&["user", "promote", "bob"][..], 200),
            (&["user", "promote", "bob", "--revoke"][..], 403),
        ] {
            assert!(cli(args).await.unwrap().status.success());
            assert_eq!(admin_status().await, then, "after {args:?}");
        }
    }
    app.stop().await;
}

#[test]
fn ca_export_and_fingerprint_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let (code, pem, _) = run(&["ca", "export", "--data-dir", d]);
    assert_eq!(code, 0);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let der = outpost_bin()
        .args(["ca", "export", "--der", "--data-dir", d])
        .output()
        .unwrap();
    assert_eq!(Some(der.stdout.clone()), outpost::pki::pem_to_der(&pem));
    let (_, fp, _) = run(&["ca", "fingerprint", "--data-dir", d]);
    assert_eq!(fp.trim(), outpost::pki::fingerprint(&der.stdout));
    // A second run does not regenerate anything.
    let (_, pem2, _) = run(&["ca", "export", "--data-dir", d]);
    assert_eq!(pem, pem2);
    let (code, out, _) = run(&["doctor", "--data-dir", d]);
    // No database yet: doctor says so.
    assert_eq!(code, 1);
    assert!(out.contains("no database"), "{out}");
}

#[test]
fn sigterm_stops_cleanly_with_exit_0_and_doctor_is_happy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let mut server = serve(d);
    assert!(server.https.starts_with("127.0.0.1:"));
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0));
    // The database was closed cleanly: the WAL was checkpointed away.
    let wal = data.join("outpost.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    let (code, out, _) = run(&["doctor", "--data-dir", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("integrity check passed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_acknowledged_message_survives_kill_9() {
    use serde_json::{json, Value};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap().to_string();
    let RealServer {
        mut server,
        addr,
        ca,
        client,
        base,
        token,
        ..
    } = real_server_with_admin(
        data.clone(),
        &[
            ("OUTPOST_LIMITS_MESSAGES_PER_SECOND", "100000"),
            ("OUTPOST_LIMITS_MESSAGE_BURST", "100000"),
        ],
    )
    .await;
    let ch: Value = client
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "burst"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ch = ch["id"].as_i64().unwrap();

    let (mut ws, _) = ws_connect(addr, &ca, &token, None).await;
    let mut acked: Vec<String> = Vec::new();
    let mut in_flight = 0;
    let mut killed = false;
    'sending: for i in 0..2000 {
        if !ws.try_send(json!({"type": "send", "req": i.to_string(), "channel_id": ch, "client_id": format!("k{i}"), "body": format!("burst {i}")})).await {
            break 'sending;
        }
        in_flight += 1;
        while in_flight >= 32 {
            match ws.raw_next().await {
                Some(f) if f["type"] == "ack" => {
                    acked.push(f["message"]["client_id"].as_str().unwrap().to_string());
                    in_flight -= 1;
                }
                Some(_) => {}
                None => break 'sending,
            }
            if acked.len() >= 150 && !killed {
                let pid = server.child.id().to_string();
                assert!(std::process::Command::new("kill")
                    .args(["-KILL", &pid])
                    .status()
                    .unwrap()
                    .success());
                killed = true;
            }
        }
    }
    assert!(killed, "the server was killed mid-burst");
    // Drain whatever acknowledgements were already on the wire.
    while let Some(f) = ws.raw_next().await {
        if f["type"] == "ack" {
            acked.push(f["message"]["client_id"].as_str().unwrap().to_string());
        }
    }
    let _ = server.child.wait();
    assert!(acked.len() >= 150);

    let dd = d.clone();
    let mut server = tokio::task::spawn_blocking(move || serve(&dd))
        .await
        .unwrap();
    let addr: std::net::SocketAddr = server.https.parse().unwrap();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(&ca))
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", addr.port());
    let mut stored = std::collections::HashSet::new();
    let mut before: Option<i64> = None;
    loop {
        let url = match before {
            Some(b) => format!("{base}/api/v1/channels/{ch}/messages?limit=200&before={b}"),
            None => format!("{base}/api/v1/channels/{ch}/messages?limit=200"),
        };
        let page: Vec<Value> = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        before = page[0]["seq"].as_i64();
        for m in page {
            assert!(
                stored.insert(m["client_id"].as_str().unwrap().to_string()),
                "no duplicates"
            );
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost after kill -9: {missing:?}"
    );
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let _ = server.child.wait();
}

#[test]
fn doctor_names_the_call_media_addresses_and_says_whether_their_ports_are_free() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let d = data.to_str().unwrap();
    let file = dir.path().join("outpost.toml");
    let f = file.to_str().unwrap();
    let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    std::fs::write(
        &file,
        format!("[calls]\naddresses = [\"127.0.0.1\"]\nudp_port = {port}\ntcp_port = 0\n"),
    )
    .unwrap();
    let (_, out, _) = run(&["doctor", "--data-dir", d, "--config", f]);
    assert!(
        out.contains(&format!("call media is offered on 127.0.0.1 (UDP {port})")),
        "{out}"
    );
    assert!(
        out.contains(&format!("ok:      UDP 127.0.0.1:{port} is in use")),
        "{out}"
    );
    drop(held);
    let (_, out, _) = run(&["doctor", "--data-dir", d, "--config", f]);
    assert!(
        out.contains(&format!("ok:      UDP 127.0.0.1:{port} is free")),
        "{out}"
    );
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: the server could not start.
    std::fs::write(
        &file,
        "[calls]\naddresses = [\"192.0.2.1\"]\nudp_port = 3478\ntcp_port = 0\n",
    )
    .unwrap();
    let (code, out, _) = run(&["doctor", "--data-dir", d, "--config", f]);
    assert_eq!(code, 1);
    assert!(
        out.contains("PROBLEM: 192.0.2.1 is not an address of this machine"),
        "{out}"
    );
}
