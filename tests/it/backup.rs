//! Encrypted backups: taken while messages flow, restored into a new data dir that the server
//! then serves; damaged archives, wrong keys and non-empty targets are refused with nothing
//! written.

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    let id = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", id.to_string().expose_secret())).unwrap();
    (path, id.to_public().to_string())
}

async fn cli(args: Vec<String>, env: Vec<(&'static str, String)>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let out = outpost_bin().args(&args).envs(env).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_under_load_restores_every_acknowledged_message() {
    let app = spawn_app_with(|c| c.limits.messages_per_second = 10_000.0).await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "backup", false).await;
    let keys = tempfile::tempdir().unwrap();
    let (identity, recipient) = keypair(keys.path(), "key.txt");

    // Messages acknowledged before the backup starts.
    let (mut ws, _) = app.ws(&admin, None).await;
    let mut acked = Vec::new();
    for i in 0..200 {
        let a = ws.request(json!({"type": "send", "channel_id": ch, "client_id": format!("b{i}"), "body": format!("before {i}")})).await;
        assert_eq!(a["type"], "ack");
        acked.push(format!("b{i}"));
    }
    // A photo posted before the backup comes back with its thumbnail.
    let photo = {
        let img = image::RgbImage::from_fn(900, 600, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&img)
            .unwrap();
        out
    };
    let up: Value = api(
        &app,
        &admin,
        Method::POST,
        "/api/v1/uploads",
        Some(json!({"name": "site.jpg", "size": photo.len()})),
    )
    .await
    .json()
    .await
    .unwrap();
    let done: Value = app
        .api_client()
        .patch(app.url(up["url"].as_str().unwrap()))
        .bearer_auth(&admin)
        .header("Upload-Offset", "0")
        .body(photo.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file = done["file"].clone();
    let a = ws.request(json!({"type": "send", "channel_id": ch, "client_id": "photo", "attachments": [file["id"]]})).await;
    assert_eq!(a["type"], "ack", "{a}");
    acked.push("photo".into());
    let thumb = app
        .get_with(&admin, file["thumb_url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    // More keep coming while the backup runs.
    let (mut ws2, _) = app.ws(&admin, None).await;
    let load = tokio::spawn(async move {
        for i in 0..300 {
            if !ws2.try_send(json!({"type": "send", "channel_id": ch, "client_id": format!("d{i}"), "body": format!("during {i}")})).await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        ws2
    });
    let file_json = file;
    let file = keys.path().join("outpost.age");
    let d = app.data_dir();
    let (code, out) = cli(
        vec![
            "backup".into(),
            "--out".into(),
            file.display().to_string(),
            "--recipient".into(),
            recipient.clone(),
            "--data-dir".into(),
            d.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let _ = load.await.unwrap();
    let raw = std::fs::read(&file).unwrap();
    assert!(
        raw.starts_with(b"age-encryption.org/v1"),
        "encrypted with age"
    );
    assert!(
        !raw.windows(10).any(|w| w == b"before 199"),
        "no plaintext in the file"
    );
    let log: Vec<Value> = api(
        &app,
        &admin,
        Method::GET,
        "/api/v1/admin/audit?action=backup-taken",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(log.len(), 1);

    let (code, out) = cli(
        vec![
            "backup".into(),
            "verify".into(),
            file.display().to_string(),
            "--identity".into(),
            identity.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");

    let target = keys.path().join("restored");
    let (code, out) = cli(
        vec![
            "restore".into(),
            file.display().to_string(),
            "--identity".into(),
            identity.display().to_string(),
            "--data-dir".into(),
            target.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    for key in ["certs/ca.pem", "certs/ca.key", "certs/server.key"] {
        assert_eq!(
            std::fs::read(d.join(key)).unwrap(),
            std::fs::read(target.join(key)).unwrap(),
            "{key}"
        );
    }
    let ca_fp = app.handle.ca_fingerprint.clone();
    app.stop().await;

    // The server runs on the restored directory with everything acknowledged before the backup.
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    config.data_dir = target.clone();
    // A backup restores into one box, a cluster's too (`outpost migrate` moves it back).
    config.cluster.database.clear();
    let restored = spawn_in(dir, config).await;
    assert_eq!(restored.handle.ca_fingerprint, ca_fp);
    let mut stored = std::collections::HashSet::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/api/v1/channels/{ch}/messages?limit=200&before={b}"),
            None => format!("/api/v1/channels/{ch}/messages?limit=200"),
        };
        let page: Vec<Value> = api(&restored, &admin, Method::GET, &path, None)
            .await
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        before = page[0]["seq"].as_i64();
        for m in page {
            stored.insert(m["client_id"].as_str().unwrap().to_string());
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(missing.is_empty(), "{missing:?}");
    // Search works: the index was rebuilt.
    let hits: Vec<Value> = api(
        &restored,
        &admin,
        Method::GET,
        "/api/v1/search?q=before",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(!hits.is_empty());
    let got = restored
        .get_with(&admin, file_json["url"].as_str().unwrap())
        .await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), photo);
    let got = restored
        .get_with(&admin, file_json["thumb_url"].as_str().unwrap())
        .await;
    assert_eq!(got.bytes().await.unwrap(), thumb);
    restored.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_archives_wrong_keys_and_occupied_targets_are_refused_with_nothing_written() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "x", false).await;
    post_message(&app, &admin, ch, "something worth keeping").await;
    let keys = tempfile::tempdir().unwrap();
    let (identity, recipient) = keypair(keys.path(), "key.txt");
    let (other, _) = keypair(keys.path(), "other.txt");
    let file = keys.path().join("b.age");
    let d = app.data_dir();
    let (code, out) = cli(
        vec![
            "backup".into(),
            "--out".into(),
            file.display().to_string(),
            "--recipient".into(),
            recipient,
            "--data-dir".into(),
            d.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let good = std::fs::read(&file).unwrap();

    let mut tampered = good.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x40;
    let tampered_file = keys.path().join("tampered.age");
    std::fs::write(&tampered_file, &tampered).unwrap();
    let truncated_file = keys.path().join("truncated.age");
    std::fs::write(&truncated_file, &good[..good.len() - 100]).unwrap();

    let cases = [
        (tampered_file.clone(), identity.clone(), "damaged"),
        (truncated_file.clone(), identity.clone(), "damaged"),
        (file.clone(), other.clone(), "could not be decrypted"),
    ];
    for (archive, key, expect) in &cases {
        let (code, out) = cli(
            vec![
                "backup".into(),
                "verify".into(),
                archive.display().to_string(),
                "--identity".into(),
                key.display().to_string(),
            ],
            vec![],
        )
        .await;
        assert_ne!(code, 0, "{archive:?}: {out}");
        assert!(out.contains(expect), "{archive:?}: {out}");
        let target = keys.path().join(format!(
            "restore-{}",
            archive.file_name().unwrap().to_string_lossy()
        ));
        let (code, out) = cli(
            vec![
                "restore".into(),
                archive.display().to_string(),
                "--identity".into(),
                key.display().to_string(),
                "--data-dir".into(),
                target.display().to_string(),
            ],
            vec![],
        )
        .await;
        assert_ne!(code, 0, "{out}");
        assert!(!target.exists(), "nothing written for {archive:?}");
        assert!(!target.with_extension("restoring").exists());
    }
    // A non-empty data dir is refused without --force and kept aside with it.
    let (code, out) = cli(
        vec![
            "restore".into(),
            file.display().to_string(),
            "--identity".into(),
            identity.display().to_string(),
            "--data-dir".into(),
            d.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_ne!(code, 0);
    assert!(out.contains("not empty"), "{out}");

    // Passphrase-encrypted backups work the same way.
    let pfile = keys.path().join("p.age");
    let env = vec![(
        "OUTPOST_BACKUP_PASSPHRASE",
        "correct horse battery staple".to_string(),
    )];
    let (code, out) = cli(
        vec![
            "backup".into(),
            "--out".into(),
            pfile.display().to_string(),
            "--passphrase".into(),
            "--data-dir".into(),
            d.display().to_string(),
        ],
        env.clone(),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = cli(
        vec![
            "backup".into(),
            "verify".into(),
            pfile.display().to_string(),
            "--passphrase".into(),
        ],
        env,
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let wrong = vec![("OUTPOST_BACKUP_PASSPHRASE", "wrong".to_string())];
    let (code, _) = cli(
        vec![
            "backup".into(),
            "verify".into(),
            pfile.display().to_string(),
            "--passphrase".into(),
        ],
        wrong,
    )
    .await;
    assert_ne!(code, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_backups_run_by_themselves_and_keep_the_newest() {
    let keys = tempfile::tempdir().unwrap();
    let (identity, recipient) = keypair(keys.path(), "key.txt");
    let app = spawn_app_with(move |c| {
        c.backup.interval_secs = 1;
        c.backup.keep = 2;
        c.backup.recipients = vec![recipient];
    })
    .await;
    let admin = app.setup_admin().await;
    let folder = app.data_dir().join("backups");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "scheduled backups did not run: {seen:?}"
        );
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.ends_with(".age") {
                    seen.insert(name);
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let left: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "age"))
        .collect();
    assert!(left.len() <= 2, "keeps the newest two: {left:?}");
    let newest = left.iter().max().unwrap().clone();
    let (code, out) = cli(
        vec![
            "backup".into(),
            "verify".into(),
            newest.display().to_string(),
            "--identity".into(),
            identity.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let status: Value = api(&app, &admin, Method::GET, "/api/v1/admin/status", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        status["backup_age_seconds"].as_u64().unwrap() < 60,
        "{status}"
    );
    app.stop().await;
}
