//! Files: uploads that stream to disk and resume, content-addressed storage, photos, ranges,
//! and who may read what.

use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// Starts an upload; returns its id.
async fn start_upload(app: &TestApp, token: &str, name: &str, size: usize) -> String {
    let r = api(
        app,
        token,
        Method::POST,
        "/api/v1/uploads",
        Some(json!({"name": name, "size": size})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["offset"], 0);
    v["id"].as_str().unwrap().to_string()
}

async fn patch(
    app: &TestApp,
    token: &str,
    id: &str,
    offset: usize,
    bytes: Vec<u8>,
) -> reqwest::Response {
    app.api_client()
        .patch(app.url(&format!("/api/v1/uploads/{id}")))
        .bearer_auth(token)
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Where an upload stands, as its status reports it.
async fn upload_offset(app: &TestApp, token: &str, id: &str) -> usize {
    let status: Value = app
        .get_with(token, &format!("/api/v1/uploads/{id}"))
        .await
        .json()
        .await
        .unwrap();
    status["offset"].as_u64().unwrap() as usize
}

/// Uploads `bytes` in one request; returns the stored file's JSON.
pub(crate) async fn upload(app: &TestApp, token: &str, name: &str, bytes: &[u8]) -> Value {
    let id = start_upload(app, token, name, bytes.len()).await;
    let r = patch(app, token, &id, 0, bytes.to_vec()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["offset"], bytes.len());
    assert!(v["file"].is_object(), "{v}");
    v["file"].clone()
}

async fn get_bytes(
    app: &TestApp,
    token: &str,
    path: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut rb = app.api_client().get(app.url(path)).bearer_auth(token);
    if let Some(r) = range {
        rb = rb.header("Range", r);
    }
    rb.send().await.unwrap()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

/// EXIF with orientation 6 (rotate 90° clockwise to view) and a GPS position.
fn exif_with_gps() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries, then the next-IFD pointer; the GPS IFD follows at 38.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&6u32.to_le_bytes());
    t.extend_from_slice(&0x8825u16.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 38);
    // GPS IFD: latitude reference "N" and latitude 48/1, 51/1, 30/1 (rationals at 68).
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0001u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&2u32.to_le_bytes());
    t.extend_from_slice(b"N\0\0\0");
    t.extend_from_slice(&0x0002u16.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    t.extend_from_slice(&3u32.to_le_bytes());
    t.extend_from_slice(&68u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 68);
    for v in [48u32, 51, 30] {
        t.extend_from_slice(&v.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
    }
    t
}

fn photo_with_gps(w: u32, h: u32) -> Vec<u8> {
    use img_parts::ImageEXIF;
    let mut j = img_parts::jpeg::Jpeg::from_bytes(jpeg(w, h).into()).unwrap();
    j.set_exif(Some(exif_with_gps().into()));
    j.encoder().bytes().to_vec()
}

fn exif_fields(bytes: &[u8]) -> Vec<exif::Tag> {
    match exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) {
        Ok(e) => e.fields().map(|f| f.tag).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn photos_are_turned_upright_and_lose_their_location() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let original = photo_with_gps(64, 32);
    assert!(exif_fields(&original).contains(&exif::Tag::GPSLatitude));
    // The name claims PNG; the content decides.
    let f = upload(&app, &admin, "IMG_0001.png", &original).await;
    assert_eq!(f["kind"], "image");
    assert_eq!(f["mime"], "image/jpeg");
    assert_eq!(
        (f["width"].as_i64(), f["height"].as_i64()),
        (Some(32), Some(64))
    );
    let id = f["id"].as_str().unwrap();

    let stored = get_bytes(&app, &admin, &format!("/api/v1/files/{id}"), None).await;
    assert_eq!(stored.status(), 200);
    assert_eq!(stored.headers()["content-type"], "image/jpeg");
    assert!(stored.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let stored = stored.bytes().await.unwrap();
    let tags = exif_fields(&stored);
    assert!(
        !tags.contains(&exif::Tag::GPSLatitude),
        "GPS kept: {tags:?}"
    );
    assert!(!tags.contains(&exif::Tag::GPSInfoIFDPointer));
    assert!(
        tags.contains(&exif::Tag::Orientation),
        "orientation lost: {tags:?}"
    );
    // Pixels are untouched: the same image decodes from the stored file.
    let a = image::load_from_memory(&original).unwrap();
    let b = image::load_from_memory(&stored).unwrap();
    assert_eq!(a.to_rgb8(), b.to_rgb8());
    assert_eq!(f["size"].as_u64(), Some(stored.len() as u64));

    let thumb = get_bytes(&app, &admin, f["thumb_url"].as_str().unwrap(), None).await;
    assert_eq!(thumb.status(), 200);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (thumb.width(), thumb.height()),
        (32, 64),
        "thumbnail is upright"
    );
    assert!(f["preview_url"].is_null(), "small photos need no preview");

    // An admin may keep the metadata.
    let keep = spawn_app_with(|c| c.media.keep_photo_metadata = true).await;
    let admin2 = keep.setup_admin().await;
    let f2 = upload(&keep, &admin2, "a.jpg", &original).await;
    let stored2 = get_bytes(&keep, &admin2, f2["url"].as_str().unwrap(), None).await;
    assert_eq!(stored2.bytes().await.unwrap().to_vec(), original);

    // Large photos get a preview no bigger than 1600 px.
    let big = upload(&app, &admin, "big.jpg", &jpeg(2400, 1200)).await;
    let p = get_bytes(&app, &admin, big["preview_url"].as_str().unwrap(), None).await;
    let p = image::load_from_memory(&p.bytes().await.unwrap()).unwrap();
    assert_eq!((p.width(), p.height()), (1600, 800));
}

#[tokio::test]
async fn hostile_images_are_kept_as_plain_files_and_the_server_goes_on() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let whole = jpeg(300, 200);
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 6, 0, 0, 0]);
    bomb.extend_from_slice(&[0u8; 64]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bomb.png", bomb),
        ("cut.jpg", whole[..200].to_vec()),
        ("noise.jpg", {
            let mut n = b"\xff\xd8\xff\xdb".to_vec();
            n.extend(pseudo_random(5000, 3));
            n
        }),
    ];
    for (name, bytes) in cases {
        let f = upload(&app, &admin, name, &bytes).await;
        assert_eq!(f["kind"], "file", "{name}: {f}");
        assert!(f["thumb_url"].is_null());
        let r = get_bytes(&app, &admin, f["url"].as_str().unwrap(), None).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            bytes,
            "{name} stored as sent"
        );
    }
    // A photo with the wrong extension is still a photo.
    let f = upload(&app, &admin, "photo.txt", &whole).await;
    assert_eq!(f["kind"], "image");
    let r = app
        .api_client()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn ranges_serve_exactly_the_bytes_asked_for() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let data = pseudo_random(10_000, 7);
    let f = upload(&app, &admin, "data.bin", &data).await;
    let url = f["url"].as_str().unwrap();
    for (range, from, to) in [
        ("bytes=0-99", 0, 99),
        ("bytes=4000-4999", 4000, 4999),
        ("bytes=-100", 9900, 9999),
        ("bytes=9990-", 9990, 9999),
        ("bytes=9000-20000", 9000, 9999),
    ] {
        let r = get_bytes(&app, &admin, url, Some(range)).await;
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            r.headers()["content-range"].to_str().unwrap(),
            format!("bytes {from}-{to}/10000")
        );
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            data[from..=to].to_vec(),
            "{range}"
        );
    }
    let r = get_bytes(&app, &admin, url, Some("bytes=10000-")).await;
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], "bytes */10000");
    assert_eq!(error_code(r).await, "range-not-satisfiable");
    let r = get_bytes(&app, &admin, url, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    let etag = r.headers()["etag"].clone();
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);
    let r = app
        .api_client()
        .get(app.url(url))
        .bearer_auth(&admin)
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn executable_content_is_always_a_download() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for (name, body) in [
        (
            "page.html",
            &b"<!doctype html><script>alert(document.cookie)</script>"[..],
        ),
        (
            "icon.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        ),
        ("feed.xml", b"<?xml version=\"1.0\"?><a/>"),
        ("app.js", b"fetch('/api/v1/me').then(r => r.text())"),
        // A JPEG that is really HTML: sniffed, not trusted.
        ("cat.jpg", b"<html><body onload=alert(1)>"),
    ] {
        let f = upload(&app, &admin, name, body).await;
        assert_eq!(f["kind"], "file", "{name}");
        let r = get_bytes(&app, &admin, f["url"].as_str().unwrap(), None).await;
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;"),
            "{name}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["content-type"], "application/octet-stream", "{name}");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox"));
    }
}

#[tokio::test]
async fn only_members_of_the_channel_can_read_a_file() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let eve = app.invite_user(&admin, "eve", "eve-password-1").await;
    let ch = create_channel(&app, &admin, "ops", true).await;
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/members"),
        Some(json!({"user_id": 2})),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    let photo = jpeg(800, 600);
    let f = upload(&app, &admin, "site.jpg", &photo).await;
    let fid = f["id"].as_str().unwrap().to_string();
    let paths = [
        format!("/api/v1/files/{fid}"),
        format!("/api/v1/files/{fid}/thumb"),
    ];
    // Before it is posted, only the uploader sees it.
    for p in &paths {
        assert_eq!(get_bytes(&app, &bob, p, None).await.status(), 404);
        assert_eq!(get_bytes(&app, &admin, p, None).await.status(), 200);
    }
    // Someone else cannot post it.
    let r = api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"attachments": [fid]})),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "", "attachments": [fid]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let msg: Value = r.json().await.unwrap();
    assert_eq!(msg["files"][0]["id"], fid.as_str());
    assert_eq!(msg["files"][0]["width"], 800);
    // Posting it again is refused: a file belongs to one message.
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"attachments": [fid]})),
    )
    .await;
    assert_eq!(r.status(), 400);
    // Members read it (history carries it); a non-member gets 404 for it, its thumbnail and ranges.
    let hist: Value = app
        .get_with(&bob, &format!("/api/v1/channels/{ch}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert!(hist.to_string().contains(&fid));
    for p in &paths {
        assert_eq!(get_bytes(&app, &bob, p, None).await.status(), 200, "{p}");
        assert_eq!(get_bytes(&app, &eve, p, None).await.status(), 404, "{p}");
        assert_eq!(
            get_bytes(&app, &eve, p, Some("bytes=0-10")).await.status(),
            404,
            "{p}"
        );
    }
    let anon = app
        .api_client()
        .get(app.url(&paths[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    // Nobody can probe uploads that are not theirs.
    assert_eq!(
        get_bytes(&app, &eve, "/api/v1/files/../../outpost.db", None)
            .await
            .status(),
        404
    );

    // Deleting the message deletes its files; the sweep then frees the blobs.
    let mid = msg["id"].as_i64().unwrap();
    let r = api(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/messages/{mid}"),
        None,
    )
    .await;
    assert!(r.status().is_success());
    assert_eq!(get_bytes(&app, &admin, &paths[0], None).await.status(), 404);
    let report = app
        .handle
        .state
        .media
        .sweep_older_than(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(report.blobs, 2, "photo and thumbnail: {report:?}");
    assert_eq!(count_blobs(&app), 0);
}

fn count_blobs(app: &TestApp) -> usize {
    let dir = app.data_dir().join("files");
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).unwrap().count())
        .sum()
}

#[tokio::test]
async fn duplicates_are_stored_once_and_unposted_uploads_are_swept() {
    let app = spawn_app_with(|c| c.media.abandoned_upload_hours = 0).await;
    let admin = app.setup_admin().await;
    let data = pseudo_random(50_000, 11);
    let a = upload(&app, &admin, "a.bin", &data).await;
    let b = upload(&app, &admin, "b.bin", &data).await;
    assert_ne!(a["id"], b["id"]);
    assert_eq!(count_blobs(&app), 1);
    let ch = create_channel(&app, &admin, "drops", false).await;
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "one", "attachments": [a["id"]]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    // An upload left half-way and the file never posted go; the posted one stays.
    let half = start_upload(&app, &admin, "half.bin", 1000).await;
    assert_eq!(
        patch(&app, &admin, &half, 0, vec![1; 400]).await.status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let report = app
        .handle
        .state
        .media
        .sweep_older_than(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        (report.uploads, report.files, report.blobs),
        (1, 1, 0),
        "{report:?}"
    );
    assert_eq!(count_blobs(&app), 1);
    assert_eq!(
        get_bytes(&app, &admin, a["url"].as_str().unwrap(), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        get_bytes(&app, &admin, b["url"].as_str().unwrap(), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_with(&admin, &format!("/api/v1/uploads/{half}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn an_interrupted_upload_resumes_where_it_stopped() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let data = pseudo_random(3 << 20, 5);
    let id = start_upload(&app, &admin, "video.bin", data.len()).await;
    assert_eq!(
        patch(&app, &admin, &id, 0, data[..1 << 20].to_vec())
            .await
            .status(),
        200
    );
    // The connection drops in the middle of the second chunk.
    let part = data[1 << 20..(1 << 20) + (512 << 10)].to_vec();
    let stream = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(part),
        Err(std::io::Error::other("wifi gone")),
    ]);
    let r = app
        .api_client()
        .patch(app.url(&format!("/api/v1/uploads/{id}")))
        .bearer_auth(&admin)
        .header("Upload-Offset", (1 << 20).to_string())
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    // Wrong offsets are refused with where to continue; the status says the same.
    let offset = upload_offset(&app, &admin, &id).await;
    assert!(
        (1 << 20..=(1 << 20) + (512 << 10)).contains(&offset),
        "{offset}"
    );
    let r = patch(&app, &admin, &id, 0, data[..10].to_vec()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "offset-mismatch");
    // Too many bytes are refused. The interrupted request may still be on its way through the
    // server and append what it had after the status above (valid bytes at the right offset);
    // a 409 then names the new offset, so ask again.
    let mut refused = None;
    for _ in 0..5 {
        let offset = upload_offset(&app, &admin, &id).await;
        let r = patch(&app, &admin, &id, offset, vec![0; data.len() - offset + 1]).await;
        if r.status() != 409 {
            refused = Some(r.status());
            break;
        }
    }
    assert_eq!(refused, Some(reqwest::StatusCode::BAD_REQUEST));
    let offset = upload_offset(&app, &admin, &id).await;
    let r = patch(&app, &admin, &id, offset, data[offset..].to_vec()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let got = get_bytes(&app, &admin, v["file"]["url"].as_str().unwrap(), None).await;
    assert_eq!(
        Sha256::digest(got.bytes().await.unwrap()),
        Sha256::digest(&data)
    );
    // A finished upload is gone; so is one that was cancelled.
    assert_eq!(
        app.get_with(&admin, &format!("/api/v1/uploads/{id}"))
            .await
            .status(),
        404
    );
    let c = start_upload(&app, &admin, "x", 10).await;
    assert_eq!(
        api(
            &app,
            &admin,
            Method::DELETE,
            &format!("/api/v1/uploads/{c}"),
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(patch(&app, &admin, &c, 0, vec![0; 10]).await.status(), 404);
}

#[tokio::test]
async fn sizes_and_quotas_are_refused_before_any_byte_is_sent() {
    let app = spawn_app_with(|c| {
        c.media.max_file_bytes = 1000;
        c.media.user_quota_bytes = 1500;
    })
    .await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let post = |token: String, body: Value| {
        let app = &app;
        async move { api(app, &token, Method::POST, "/api/v1/uploads", Some(body)).await }
    };
    let r = post(admin.clone(), json!({"name": "big", "size": 1001})).await;
    assert_eq!(r.status(), 413);
    // The limit travels as a number, for the client to word in its own language and units.
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "file-too-large");
    assert_eq!(body["error"]["params"]["max_bytes"], 1000);
    let r = post(admin.clone(), json!({"name": "empty", "size": 0})).await;
    assert_eq!(error_code(r).await, "empty-file");
    let r = post(admin.clone(), json!({"name": "x", "size": "ten"})).await;
    assert_eq!(r.status(), 400);
    upload(&app, &admin, "a", &[1; 900]).await;
    // 900 stored + 700 reserved would pass 1500.
    let r = post(admin.clone(), json!({"name": "b", "size": 700})).await;
    assert_eq!(r.status(), 413);
    assert_eq!(error_code(r).await, "quota-exceeded");
    // Another user has their own quota.
    assert_eq!(
        post(bob.clone(), json!({"name": "b", "size": 700}))
            .await
            .status(),
        201
    );
    // No Upload-Offset header: a clear error.
    let id = start_upload(&app, &bob, "c", 10).await;
    let r = app
        .api_client()
        .patch(app.url(&format!("/api/v1/uploads/{id}")))
        .bearer_auth(&bob)
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r).await, "bad-offset");
    // Someone else's upload does not exist for you.
    assert_eq!(patch(&app, &admin, &id, 0, vec![0; 10]).await.status(), 404);
    assert_eq!(
        app.get_with(&admin, &format!("/api/v1/uploads/{id}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_video_gets_the_poster_its_sender_captured() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    // The start of a WebM file (EBML header with DocType "webm").
    let mut webm = vec![
        0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2,
        0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84,
    ];
    webm.extend_from_slice(b"webm");
    webm.extend(pseudo_random(20_000, 9));
    let r = api(&app, &admin, Method::POST, "/api/v1/uploads", Some(json!({"name": "clip.webm", "size": webm.len(), "width": 640, "height": 360, "duration_ms": 1500}))).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v: Value = patch(&app, &admin, &id, 0, webm.clone())
        .await
        .json()
        .await
        .unwrap();
    let f = &v["file"];
    assert_eq!(f["kind"], "video", "{f}");
    assert_eq!(f["mime"], "video/webm");
    assert_eq!(
        (f["width"].as_i64(), f["duration_ms"].as_i64()),
        (Some(640), Some(1500))
    );
    let put = |token: &str, body: Vec<u8>| {
        app.api_client()
            .put(app.url(&format!("/api/v1/files/{id}/poster")))
            .bearer_auth(token)
            .header("Content-Type", "image/jpeg")
            .body(body)
            .send()
    };
    assert_eq!(put(&bob, jpeg(64, 36)).await.unwrap().status(), 404);
    assert_eq!(
        put(&admin, b"not an image".to_vec())
            .await
            .unwrap()
            .status(),
        400
    );
    let r = put(&admin, jpeg(640, 360)).await.unwrap();
    assert_eq!(r.status(), 200);
    let f: Value = r.json().await.unwrap();
    let poster = get_bytes(&app, &admin, f["poster_url"].as_str().unwrap(), None).await;
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    assert!(image::load_from_memory(&poster.bytes().await.unwrap()).is_ok());
    // The video itself streams inline for the browser's player.
    let r = get_bytes(&app, &admin, f["url"].as_str().unwrap(), Some("bytes=0-3")).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-type"], "video/webm");
}

/// Peak resident memory of a process, in KiB.
fn vm_hwm(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_200_mb_file_goes_up_and_down_while_server_memory_stays_flat() {
    const SIZE: usize = 200 << 20;
    const BLOCK: usize = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let RealServer {
        server,
        client,
        base,
        token,
        ..
    } = real_server_with_admin(dir.path().join("data"), &[]).await;
    let pid = server.child.id();
    // Warm up every code path once so that the baseline includes the allocator's steady state.
    let small = client
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&token)
        .json(&json!({"name": "warm", "size": 4 * BLOCK}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let r = client
        .patch(format!("{base}{}", small["url"].as_str().unwrap()))
        .bearer_auth(&token)
        .header("Upload-Offset", "0")
        .body(pseudo_random(4 * BLOCK, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let warm: Value = r.json().await.unwrap();
    let r = client
        .get(format!("{base}{}", warm["file"]["url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    r.bytes().await.unwrap();
    let baseline = vm_hwm(pid);

    let up: Value = client
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&token)
        .json(&json!({"name": "big.bin", "size": SIZE}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let block = pseudo_random(BLOCK, 42);
    let mut hasher = Sha256::new();
    for i in 0..SIZE / BLOCK {
        let mut b = block.clone();
        b[0] = i as u8;
        b[1] = (i >> 8) as u8;
        hasher.update(&b);
    }
    let want = hasher.finalize();
    // Two 100 MB requests, each streamed from a generator.
    let half = SIZE / 2;
    let mut last = Value::Null;
    for part in 0..2 {
        let block = block.clone();
        let stream = futures_util::stream::iter(
            (part * half / BLOCK..(part + 1) * half / BLOCK).map(move |i| {
                let mut b = block.clone();
                b[0] = i as u8;
                b[1] = (i >> 8) as u8;
                Ok::<_, std::io::Error>(b)
            }),
        );
        let r = client
            .patch(format!("{base}{}", up["url"].as_str().unwrap()))
            .bearer_auth(&token)
            .header("Upload-Offset", (part * half).to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        last = r.json().await.unwrap();
    }
    let after_upload = vm_hwm(pid);
    let url = last["file"]["url"].as_str().unwrap();
    let r = client
        .get(format!("{base}{url}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), Some(SIZE as u64));
    let mut body = r.bytes_stream();
    let mut got = Sha256::new();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len();
        got.update(&chunk);
    }
    assert_eq!(n, SIZE);
    assert_eq!(got.finalize(), want);
    let after_download = vm_hwm(pid);
    println!("server peak RSS: baseline {baseline} KiB, after upload {after_upload} KiB, after download {after_download} KiB");
    // 200 MB went through; the peak may move by buffers, never by the file.
    assert!(
        after_download < baseline + 48 * 1024,
        "baseline {baseline} KiB, peak {after_download} KiB"
    );
    drop(server);
}

#[tokio::test]
async fn retention_takes_files_with_their_messages() {
    let app = spawn_app_with(|c| c.retention.days = 30).await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "photos", false).await;
    let old = upload(&app, &admin, "old.jpg", &jpeg(600, 500)).await;
    let new = upload(&app, &admin, "new.bin", &pseudo_random(3000, 2)).await;
    let mut mids = Vec::new();
    for f in [&old, &new] {
        let r = api(
            &app,
            &admin,
            Method::POST,
            &format!("/api/v1/channels/{ch}/messages"),
            Some(json!({"attachments": [f["id"]]})),
        )
        .await;
        mids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let aged = mids[0];
    app.beside(move |db| {
        Ok(db.execute(
            "UPDATE messages SET created_at = ?1 WHERE id = ?2",
            [outpost::store::now_ms() - 40 * 86_400_000, aged],
        )?)
    })
    .await;
    assert_eq!(app.handle.state.chat.apply_retention(30).await.unwrap(), 1);
    let report = app
        .handle
        .state
        .media
        .sweep_older_than(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(report.blobs, 2, "the photo and its thumbnail: {report:?}");
    assert_eq!(
        get_bytes(&app, &admin, old["url"].as_str().unwrap(), None)
            .await
            .status(),
        404
    );
    assert_eq!(
        get_bytes(&app, &admin, new["url"].as_str().unwrap(), None)
            .await
            .status(),
        200
    );
}

/// Unmounts on drop, whatever the test did.
struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_refuses_the_upload_clearly_and_keeps_everything_else() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ch = create_channel(&app, &admin, "ops", false).await;
    let kept = upload(&app, &admin, "kept.bin", &pseudo_random(5000, 4)).await;
    post_message(&app, &admin, ch, "before the disk filled").await;
    // A 1 MiB file system under the uploads folder stands in for a full disk.
    let uploads = app.data_dir().join("uploads");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&uploads)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return;
    }
    let _mount = Mount(uploads);
    let data = pseudo_random(3 << 20, 8);
    let id = start_upload(&app, &admin, "too-big-for-the-disk.bin", data.len()).await;
    let r = patch(&app, &admin, &id, 0, data).await;
    assert_eq!(r.status(), 507);
    assert_eq!(error_code(r).await, "disk-full");
    // What was stored before is intact, and chat goes on.
    let r = get_bytes(&app, &admin, kept["url"].as_str().unwrap(), None).await;
    assert_eq!(r.bytes().await.unwrap().to_vec(), pseudo_random(5000, 4));
    post_message(&app, &admin, ch, "after").await;
    let hist: Value = app
        .get_with(&admin, &format!("/api/v1/channels/{ch}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert!(hist.to_string().contains("before the disk filled"));
    // The partial file is gone at once, not at the next sweep: its space is free again and the
    // upload is over (the client starts it again once there is room).
    assert!(
        !app.data_dir().join("uploads").join(&id).exists(),
        "the partial file of an upload the full disk ended is removed"
    );
    let r = api(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/uploads/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    let next = start_upload(&app, &admin, "fits-now.bin", 600 << 10).await;
    let r = patch(&app, &admin, &next, 0, pseudo_random(300 << 10, 9)).await;
    assert!(r.status().is_success(), "{}", r.status());
}

/// Checks a file response's caching policy: personal, and short.
fn assert_private_short_cache(r: &reqwest::Response, what: &str) {
    let cc = r.headers()["cache-control"].to_str().unwrap();
    assert!(cc.contains("private"), "{what}: {cc}");
    assert!(!cc.contains("public"), "{what}: {cc}");
    let max_age: u64 = cc
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(max_age <= 3600, "{what}: {cc}");
}

#[tokio::test]
async fn files_were_cached_for_a_week() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let f = upload(&app, &admin, "big.jpg", &jpeg(2400, 1200)).await;
    for key in ["url", "thumb_url", "preview_url"] {
        let url = f[key].as_str().unwrap();
        let r = get_bytes(&app, &admin, url, None).await;
        assert_eq!(r.status(), 200, "{key}");
        assert_private_short_cache(&r, key);
        let etag = r.headers()["etag"].clone();
        let again = app
            .api_client()
            .get(app.url(url))
            .bearer_auth(&admin)
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        assert_private_short_cache(&again, key);
    }
    let r = get_bytes(&app, &admin, f["url"].as_str().unwrap(), Some("bytes=0-9")).await;
    assert_eq!(r.status(), 206);
    assert_private_short_cache(&r, "range");
    // Errors about files are API answers: never stored.
    let r = get_bytes(&app, &admin, "/api/v1/files/nope", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["cache-control"], "no-store");
    app.stop().await;
}

#[tokio::test]
async fn file_names_could_reverse_their_extension() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // Shown as "invoice_exe.pdf" by a bidi-aware renderer, really an .exe.
    let f = upload(
        &app,
        &admin,
        "invoice_\u{202E}fdp.exe",
        b"MZ not really a program",
    )
    .await;
    assert_eq!(f["name"], "invoice_fdp.exe");
    let f2 = upload(&app, &admin, "\u{2067}a\u{200B}b\u{FEFF}c 👩‍💻.txt", b"text").await;
    assert_eq!(f2["name"], "abc 👩‍💻.txt");
    let r = get_bytes(&app, &admin, f["url"].as_str().unwrap(), None).await;
    let cd = r.headers()["content-disposition"].to_str().unwrap();
    assert_eq!(
        cd,
        "attachment; filename=\"invoice_fdp.exe\"; filename*=UTF-8''invoice_fdp.exe"
    );
    app.stop().await;
}

/// The start of a browser's voice recording: WebM with one Opus track.
fn voice_webm() -> Vec<u8> {
    let mut v = vec![
        0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2,
        0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm', 0x42, 0x87,
        0x81, 0x04, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0x16, 0x54, 0xAE, 0x6B, 0x90, 0xAE, 0x8E, 0x86, 0x86,
    ];
    v.extend_from_slice(b"A_OPUS");
    v.extend(pseudo_random(4000, 7));
    v
}

#[tokio::test]
async fn a_voice_message_keeps_its_waveform_and_duration_and_bad_waveforms_are_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let ch = create_channel(&app, &admin, "ops", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let bytes = voice_webm();
    let waveform: Vec<u8> = (0..64).map(|i| (i * 4) as u8).collect();
    let r = api(
        &app,
        &admin,
        Method::POST,
        "/api/v1/uploads",
        Some(
            json!({"name": "voice.webm", "size": bytes.len(), "mime": "audio/webm",
                    "duration_ms": 4200, "waveform": waveform, "voice": true}),
        ),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = patch(&app, &admin, &id, 0, bytes.clone()).await;
    assert_eq!(r.status(), 200);
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"attachments": [id]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let hist: Value = app
        .get_with(&bob, &format!("/api/v1/channels/{ch}/messages"))
        .await
        .json()
        .await
        .unwrap();
    let f = &hist[0]["files"][0];
    assert_eq!(
        (f["kind"].as_str(), f["mime"].as_str(), f["voice"].as_bool()),
        (Some("audio"), Some("audio/webm"), Some(true))
    );
    assert_eq!(f["duration_ms"], 4200);
    assert_eq!(f["waveform"].as_array().unwrap().len(), 64);
    let r = get_bytes(&app, &bob, f["url"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), bytes.len());

    // A waveform too long or out of range is refused with a clear error.
    for w in [
        json!((0..200).collect::<Vec<u32>>()),
        json!([1, 2, 300]),
        json!("loud"),
    ] {
        let r = api(
            &app,
            &admin,
            Method::POST,
            "/api/v1/uploads",
            Some(json!({"name": "v.webm", "size": 10, "waveform": w, "voice": true})),
        )
        .await;
        assert!(r.status().is_client_error(), "{w}");
        assert!(!error_code(r).await.is_empty());
    }
    app.stop().await;
}

#[tokio::test]
async fn pdf_and_text_files_can_be_read_in_the_browser_and_nothing_else() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let eve = app.invite_user(&admin, "eve", "eve-password-1").await;
    let ch = create_channel(&app, &admin, "ops", true).await;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let cases: [(&str, Vec<u8>, Option<&str>); 3] = [
        ("report.pdf", pdf, Some("application/pdf")),
        (
            "notes.txt",
            "Колонна вышла\nConvoy left\n".as_bytes().to_vec(),
            Some("text/plain; charset=utf-8"),
        ),
        (
            "page.html",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            None,
        ),
    ];
    for (name, bytes, want) in cases {
        let f = upload(&app, &admin, name, &bytes).await;
        let r = api(
            &app,
            &admin,
            Method::POST,
            &format!("/api/v1/channels/{ch}/messages"),
            Some(json!({"attachments": [f["id"]]})),
        )
        .await;
        assert_eq!(r.status(), 200);
        let path = format!("/api/v1/files/{}/view", f["id"].as_str().unwrap());
        let r = get_bytes(&app, &admin, &path, None).await;
        match want {
            Some(mime) => {
                assert_eq!(r.status(), 200, "{name}");
                assert_eq!(r.headers()["content-type"], mime);
                assert!(r.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("inline"));
                assert_eq!(r.headers()["x-content-type-options"], "nosniff");
                assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
                let csp = r.headers()["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .to_string();
                assert!(
                    csp.contains("default-src 'none'") && !csp.contains("script-src"),
                    "{csp}"
                );
                assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());
            }
            None => {
                assert_eq!(r.status(), 415, "{name} stays a download");
                assert_eq!(error_code(r).await, "not-viewable");
            }
        }
        // Someone outside the channel reads nothing.
        assert_eq!(get_bytes(&app, &eve, &path, None).await.status(), 404);
    }
    app.stop().await;
}
