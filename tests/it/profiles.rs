//! Profiles and photos: who may change what, what bad input gets, and who sees them.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 0, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn put_photo(app: &TestApp, token: &str, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.api_client()
        .put(app.url(path))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn people_edit_their_own_profile_and_admins_anyones() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;
    let ann_id = app
        .get_with(&ann, "/api/v1/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let r = api(
        &app,
        &ann,
        Method::PATCH,
        "/api/v1/me",
        Some(
            json!({"title": "Радист", "department": "Связь", "phone": "+7 (900) 000-00-01",
                    "about": "Смены по ночам\nNight shifts"}),
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["title"], "Радист");
    assert_eq!(me["display_name"], "ann", "fields not given stay");
    assert_eq!(me["managed_fields"], json!([]));

    // Everyone signed in sees it, in the people directory and the profile.
    let people: Value = app
        .get_with(&bob, "/api/v1/people")
        .await
        .json()
        .await
        .unwrap();
    let entry = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "ann")
        .unwrap();
    assert_eq!(entry["department"], "Связь");
    let card: Value = app
        .get_with(&bob, &format!("/api/v1/users/{ann_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["phone"], "+7 (900) 000-00-01");
    assert_eq!(card["about"], "Смены по ночам\nNight shifts");

    // Nobody else changes it; an administrator can, and that is audited.
    let path = format!("/api/v1/users/{ann_id}/profile");
    let r = api(
        &app,
        &bob,
        Method::PATCH,
        &path,
        Some(json!({"title": "Clown"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = put_photo(
        &app,
        &bob,
        &format!("/api/v1/users/{ann_id}/photo"),
        png(40, 40),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"title": "Senior radio operator"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let audit = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("profile-changed"));

    // Bad input: clear errors, nothing changed.
    for (body, code) in [
        (json!({"title": "x".repeat(101)}), 400),
        (json!({"phone": "<script>alert(1)</script>"}), 400),
        (json!({"about": "a\u{0007}b"}), 400),
        (json!({"title": 5}), 400),
        (json!({"nickname": "x"}), 400),
    ] {
        let r = api(&app, &ann, Method::PATCH, "/api/v1/me", Some(body.clone())).await;
        assert_eq!(r.status(), code, "{body}");
        assert!(!error_code(r).await.is_empty());
    }
    let me: Value = app.get_with(&ann, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["title"], "Senior radio operator");
    app.stop().await;
}

#[tokio::test]
async fn photos_are_cropped_square_served_to_people_and_bad_ones_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let bob = app.invite_user(&admin, "bob", "bob-password-1").await;

    // A transparent, wide PNG: cropped square and flattened to JPEG.
    let r = put_photo(&app, &ann, "/api/v1/me/photo", png(900, 600)).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    let url = me["photo_url"].as_str().unwrap().to_string();
    for (size, side) in [("small", 96), ("large", 512)] {
        let r = app.get_with(&bob, &format!("{url}&size={size}")).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("private"));
        let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (side, side));
    }
    let r = app.get_with(&bob, &format!("{url}&size=huge")).await;
    assert_eq!(r.status(), 400);

    // A new photo gets a new address.
    let r = put_photo(&app, &ann, "/api/v1/me/photo", png(50, 50)).await;
    let again: Value = r.json().await.unwrap();
    assert_ne!(again["photo_url"], me["photo_url"]);

    // Not an image, a corrupt one, an empty body, and one over the limit: refused, and the
    // photo stays as it was.
    let mut corrupt = png(300, 300);
    corrupt.truncate(200);
    for (body, status) in [
        (b"just text, not a picture".to_vec(), 422),
        (corrupt, 422),
        (Vec::new(), 400),
        (vec![0u8; 11 << 20], 413),
    ] {
        let r = put_photo(&app, &ann, "/api/v1/me/photo", body).await;
        assert_eq!(r.status(), status);
        assert!(!error_code(r).await.is_empty());
    }
    let now: Value = app.get_with(&ann, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(now["photo_url"], again["photo_url"]);

    // A disabled colleague's photo stays visible on their messages.
    let ann_id = now["id"].as_i64().unwrap();
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{ann_id}/disable"),
        None,
    )
    .await;
    assert!(r.status().is_success());
    let r = app.get_with(&bob, now["photo_url"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);

    // Removing it.
    let r = api(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/users/{ann_id}/photo"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = app.get_with(&bob, now["photo_url"].as_str().unwrap()).await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_site_decides_which_fields_people_edit_themselves() {
    let app =
        spawn_app_with(|c| c.auth.profile_fields = vec!["about".into(), "photo".into()]).await;
    let admin = app.setup_admin().await;
    let ann = app.invite_user(&admin, "ann", "ann-password-1").await;
    let me: Value = app.get_with(&ann, "/api/v1/me").await.json().await.unwrap();
    let ro = me["read_only_fields"].to_string();
    assert!(
        ro.contains("title") && ro.contains("display_name") && !ro.contains("about"),
        "{ro}"
    );
    let r = api(
        &app,
        &ann,
        Method::PATCH,
        "/api/v1/me",
        Some(json!({"title": "Boss"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "not-editable");
    let r = api(
        &app,
        &ann,
        Method::PATCH,
        "/api/v1/me",
        Some(json!({"about": "Hi"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let id = me["id"].as_i64().unwrap();
    let r = api(
        &app,
        &admin,
        Method::PATCH,
        &format!("/api/v1/users/{id}/profile"),
        Some(json!({"title": "Radio operator"})),
    )
    .await;
    assert_eq!(r.status(), 200, "administrators change any field");
    app.stop().await;
}

#[tokio::test]
async fn only_photos_may_be_large() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = id_of(&app, &admin).await;
    // A profile change is JSON like any other: held to the JSON body limit, not the photo's.
    let huge = json!({"about": "x".repeat(2 << 20)});
    for path in [
        "/api/v1/me".to_string(),
        format!("/api/v1/users/{id}/profile"),
    ] {
        let r = api(&app, &admin, Method::PATCH, &path, Some(huge.clone())).await;
        assert_eq!(r.status(), 413, "{path}");
        assert_eq!(error_code(r).await, "payload-too-large");
    }
    app.stop().await;
}
