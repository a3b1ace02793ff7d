//! Linked sites (issue 19) on loopback: pairing, shared channels both ways, pause and catch-up,
//! removal, and a deliberately misbehaving peer. The namespace tests (`tests/links_netns.rs`)
//! cut real links.

use std::future::Future;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

use outpost::links::wire::{self, Batch, Gid, MessageState};

struct Site {
    app: TestApp,
    admin: String,
}

async fn site(name: &str) -> Site {
    let name = name.to_string();
    let app = spawn_app_with(move |c| c.site_name = name).await;
    let admin = app.setup_admin().await;
    Site { app, admin }
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

async fn links_of(s: &Site) -> Vec<Value> {
    let r = api(&s.app, &s.admin, Method::GET, "/api/v1/admin/links", None).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

async fn invite(s: &Site) -> Value {
    let r = api(
        &s.app,
        &s.admin,
        Method::POST,
        "/api/v1/admin/links/invites",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `b` accepts `a`'s invitation. Returns (a's link id for b, b's link id for a).
async fn pair(a: &Site, b: &Site) -> (i64, i64) {
    let inv = invite(a).await;
    assert!(inv["qr_svg"].as_str().unwrap().contains("<svg"));
    let r = api(
        &b.app,
        &b.admin,
        Method::POST,
        "/api/v1/admin/links",
        Some(json!({"code": inv["code"], "fingerprint": inv["fingerprint"]})),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let b_link: Value = r.json().await.unwrap();
    let b_name = b.app.config.site_name.clone();
    let a_link = links_of(a)
        .await
        .into_iter()
        .find(|l| l["name"] == b_name.as_str())
        .expect("the inviting site lists the new link");
    assert_eq!(a_link["fingerprint"], b.app.handle.ca_fingerprint.as_str());
    assert_eq!(b_link["fingerprint"], a.app.handle.ca_fingerprint.as_str());
    (
        a_link["id"].as_i64().unwrap(),
        b_link["id"].as_i64().unwrap(),
    )
}

async fn share(s: &Site, channel: i64, link: i64) {
    let r = api(
        &s.app,
        &s.admin,
        Method::PUT,
        &format!("/api/v1/channels/{channel}/links/{link}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// The id of the channel named `name` on `s` once it appears there.
async fn arrived_channel(s: &Site, name: &str) -> i64 {
    for _ in 0..150 {
        let list: Value = api(
            &s.app,
            &s.admin,
            Method::GET,
            "/api/v1/channels/browse",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        if let Some(id) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_i64())
        {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("channel {name} never reached {}", s.app.config.site_name);
}

async fn join(s: &Site, token: &str, channel: i64) {
    let r = api(
        &s.app,
        token,
        Method::POST,
        &format!("/api/v1/channels/{channel}/join"),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
}

async fn react(s: &Site, id: i64, emoji: &str) -> reqwest::Response {
    api(
        &s.app,
        &s.admin,
        Method::POST,
        &format!("/api/v1/messages/{id}/reactions"),
        Some(json!({"emoji": emoji})),
    )
    .await
}

async fn pin(s: &Site, id: i64, method: Method) -> reqwest::StatusCode {
    let path = format!("/api/v1/messages/{id}/pin");
    api(&s.app, &s.admin, method, &path, None).await.status()
}

/// "emoji count" of the first message's reactions, sorted.
async fn reactions(s: &Site, ch: i64) -> Vec<String> {
    let mut out: Vec<String> = history(&s.app, &s.admin, ch).await[0]["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}{}", r["emoji"].as_str().unwrap(), r["count"]))
        .collect();
    out.sort();
    out
}

/// (body, sort key, deleted) of a channel's messages, oldest first.
async fn transcript(s: &Site, channel: i64) -> Vec<(String, i64, bool)> {
    history(&s.app, &s.admin, channel)
        .await
        .into_iter()
        .map(|m| {
            (
                m["body"].as_str().unwrap().to_string(),
                m["sort_key"].as_i64().unwrap(),
                m["deleted"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn converged(a: &Site, a_ch: i64, b: &Site, b_ch: i64, count: usize) {
    let mut last = (Vec::new(), Vec::new());
    for _ in 0..150 {
        let (x, y) = (transcript(a, a_ch).await, transcript(b, b_ch).await);
        if x.len() == count && x == y {
            return;
        }
        last = (x, y);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sites never converged: {:?}", last);
}

#[tokio::test]
async fn a_shared_channel_carries_messages_edits_and_deletions_both_ways() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    let (hq_link, fo_link) = pair(&hq, &fo).await;

    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    // Not shared: never leaves HQ.
    let secret = create_channel(&hq.app, &hq.admin, "secret", false).await;
    post_message(&hq.app, &hq.admin, secret, "for HQ only").await;
    share(&hq, ops, hq_link).await;
    let first = post_message(&hq.app, &hq.admin, ops, "hello from HQ").await;

    let fo_ops = arrived_channel(&fo, "ops").await;
    join(&fo, &fo.admin, fo_ops).await;
    eventually("HQ's message at the field office", || {
        let fut = transcript(&fo, fo_ops);
        async move { fut.await.len() == 1 }
    })
    .await;
    let fo_msgs = history(&fo.app, &fo.admin, fo_ops).await;
    let author = fo_msgs[0]["author_id"].as_i64().unwrap();
    let person: Value = fo
        .app
        .get_with(&fo.admin, &format!("/api/v1/users/{author}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        person["username"].as_str().unwrap().starts_with("admin@"),
        "HQ's admin is a person of HQ here, not the local admin: {person}"
    );
    assert_eq!(person["site"], "HQ", "shown as a person of HQ: {person}");

    let reply = post_message(&fo.app, &fo.admin, fo_ops, "hello from the field").await;
    post_message(&hq.app, &hq.admin, ops, "a third").await;
    converged(&hq, ops, &fo, fo_ops, 3).await;

    // A thread reply from the field lands under HQ's message on both sides.
    let fo_first = history(&fo.app, &fo.admin, fo_ops).await[0]["id"]
        .as_i64()
        .unwrap();
    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        &format!("/api/v1/channels/{fo_ops}/messages"),
        Some(json!({"body": "in the thread", "thread_root": fo_first})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let thread_path = format!("/api/v1/messages/{}/thread", first["id"]);
    eventually("the thread reply at HQ", || {
        let fut = api(&hq.app, &hq.admin, Method::GET, &thread_path, None);
        async move {
            let v: Value = fut.await.json().await.unwrap_or(Value::Null);
            v.as_array()
                .is_some_and(|a| a.iter().any(|m| m["body"] == "in the thread"))
        }
    })
    .await;

    // Reactions: the field office's arrives at HQ; one HQ adds and takes back is gone there too.
    assert_eq!(react(&fo, fo_first, "👍").await.status(), 200);
    let hq_first = first["id"].as_i64().unwrap();
    assert_eq!(react(&hq, hq_first, "🎉").await.status(), 200);
    assert_eq!(react(&hq, hq_first, "🎉").await.status(), 200);
    assert_eq!(react(&hq, hq_first, "👀").await.status(), 200);
    eventually("the same reactions on both sides", || {
        let (a, b) = (reactions(&hq, ops), reactions(&fo, fo_ops));
        async move {
            let (a, b) = (a.await, b.await);
            a == b && a.len() == 2
        }
    })
    .await;

    // A pin at HQ shows at the field office; the field office's unpin shows at HQ.
    assert_eq!(pin(&hq, hq_first, Method::POST).await, 200);
    eventually("the pin at the field office", || {
        let fut = history(&fo.app, &fo.admin, fo_ops);
        async move { fut.await[0]["pinned"] == true }
    })
    .await;
    assert_eq!(pin(&fo, fo_first, Method::DELETE).await, 200);
    eventually("the unpin at HQ", || {
        let fut = history(&hq.app, &hq.admin, ops);
        async move { fut.await[0]["pinned"] == false }
    })
    .await;

    // An edit at HQ and a deletion at the field office reach the other side.
    let r = api(
        &hq.app,
        &hq.admin,
        Method::PATCH,
        &format!("/api/v1/messages/{}", first["id"]),
        Some(json!({"body": "hello from HQ (edited)"})),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = api(
        &fo.app,
        &fo.admin,
        Method::DELETE,
        &format!("/api/v1/messages/{}", reply["id"]),
        None,
    )
    .await;
    assert!(r.status().is_success());
    eventually("the edit and the deletion on both sides", || {
        let (a, b) = (transcript(&hq, ops), transcript(&fo, fo_ops));
        async move {
            let (a, b) = (a.await, b.await);
            a == b && a[0].0 == "hello from HQ (edited)" && a[1].2 && a[1].0.is_empty()
        }
    })
    .await;

    // HQ, the channel's home, deletes a field office message (moderation): gone there too.
    let moderated = post_message(&fo.app, &fo.admin, fo_ops, "to be moderated").await;
    let mut hq_copy = None;
    for _ in 0..150 {
        hq_copy = history(&hq.app, &hq.admin, ops)
            .await
            .into_iter()
            .find(|m| m["body"] == "to be moderated");
        if hq_copy.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hq_copy = hq_copy.expect("the field's message reached HQ");
    let r = api(
        &hq.app,
        &hq.admin,
        Method::DELETE,
        &format!("/api/v1/messages/{}", hq_copy["id"]),
        None,
    )
    .await;
    assert!(r.status().is_success());
    let moderated_path = format!("/api/v1/messages/{}", moderated["id"]);
    eventually("HQ's deletion at the field office", || {
        let fut = api(&fo.app, &fo.admin, Method::GET, &moderated_path, None);
        async move {
            let m: Value = fut.await.json().await.unwrap_or(Value::Null);
            m["deleted"] == true || m["error"]["code"] == "not-found"
        }
    })
    .await;

    // The field office never saw the unshared channel, and lists the link as connected.
    let browse: Value = api(
        &fo.app,
        &fo.admin,
        Method::GET,
        "/api/v1/channels/browse",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(!browse.to_string().contains("secret"));
    eventually("both sides connected with nothing left to send", || {
        let (a, b) = (links_of(&hq), links_of(&fo));
        async move {
            let (a, b) = (a.await, b.await);
            let ok = |l: &Value| l["state"] == "connected" && l["backlog_in"] == 0;
            ok(&a[0]) && ok(&b[0]) && b[0]["backlog_out"] == 0
        }
    })
    .await;
    let _ = fo_link;
}

#[tokio::test]
async fn a_paused_link_catches_up_in_order_and_marks_late_messages() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    let (hq_link, fo_link) = pair(&hq, &fo).await;
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    share(&hq, ops, hq_link).await;
    post_message(&hq.app, &hq.admin, ops, "before").await;
    let fo_ops = arrived_channel(&fo, "ops").await;
    join(&fo, &fo.admin, fo_ops).await;
    converged(&hq, ops, &fo, fo_ops, 1).await;

    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        &format!("/api/v1/admin/links/{fo_link}/pause"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "paused");
    // HQ writes first, the field office later: after the link returns, HQ's message sorts
    // before the field's, which the field office had already.
    post_message(&hq.app, &hq.admin, ops, "HQ while cut").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    post_message(&fo.app, &fo.admin, fo_ops, "field while cut").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        transcript(&hq, ops).await.len(),
        2,
        "nothing crosses a paused link"
    );
    assert_eq!(transcript(&fo, fo_ops).await.len(), 2);

    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        &format!("/api/v1/admin/links/{fo_link}/resume"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    converged(&hq, ops, &fo, fo_ops, 3).await;
    let bodies: Vec<String> = transcript(&fo, fo_ops)
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(bodies, ["before", "HQ while cut", "field while cut"]);
    let fo_msgs = history(&fo.app, &fo.admin, fo_ops).await;
    assert_eq!(
        fo_msgs[1]["late"], true,
        "arrived after a later message: marked"
    );
    assert!(fo_msgs[2].get("late").is_none());

    // The audit log records the pause and the resumption.
    let audit: Value = api(&fo.app, &fo.admin, Method::GET, "/api/v1/admin/audit", None)
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(
        text.contains("link-pause") && text.contains("link-resume") && text.contains("link-accept")
    );
}

#[tokio::test]
async fn removing_a_link_stops_all_traffic_at_once() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    let (hq_link, fo_link) = pair(&hq, &fo).await;
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    share(&hq, ops, hq_link).await;
    post_message(&hq.app, &hq.admin, ops, "one").await;
    let fo_ops = arrived_channel(&fo, "ops").await;
    join(&fo, &fo.admin, fo_ops).await;
    converged(&hq, ops, &fo, fo_ops, 1).await;

    let r = api(
        &hq.app,
        &hq.admin,
        Method::DELETE,
        &format!("/api/v1/admin/links/{hq_link}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert!(links_of(&hq).await.is_empty());
    post_message(&hq.app, &hq.admin, ops, "after removal").await;
    post_message(&fo.app, &fo.admin, fo_ops, "field after removal").await;
    eventually("the field office sees the link refused", || {
        let fut = links_of(&fo);
        async move {
            let l = fut.await;
            l[0]["state"] == "disconnected"
                && l[0]["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("403"))
        }
    })
    .await;
    assert_eq!(transcript(&fo, fo_ops).await.len(), 2);
    assert_eq!(transcript(&hq, ops).await.len(), 2);
    // What was shared stays readable at the field office.
    assert_eq!(transcript(&fo, fo_ops).await[0].0, "one");
    let _ = fo_link;
}

#[tokio::test]
async fn an_invitation_works_once_and_only_for_its_site() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    let other = site("Other").await;
    let inv = invite(&hq).await;
    // A wrong fingerprint typed by the admin is refused before anything is sent.
    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        "/api/v1/admin/links",
        Some(json!({"code": inv["code"], "fingerprint": "00:11"})),
    )
    .await;
    assert_eq!(error_code(r).await, "fingerprint-mismatch");
    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        "/api/v1/admin/links",
        Some(json!({"code": inv["code"]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Used once: a second site gets nothing.
    let r = api(
        &other.app,
        &other.admin,
        Method::POST,
        "/api/v1/admin/links",
        Some(json!({"code": inv["code"]})),
    )
    .await;
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("unknown, used or expired"));
    assert!(links_of(&other).await.is_empty());
    assert_eq!(links_of(&hq).await.len(), 1);
    // Junk is not a code.
    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        "/api/v1/admin/links",
        Some(json!({"code": "outpost-link:???"})),
    )
    .await;
    assert_eq!(error_code(r).await, "bad-link-code");
    // Only administrators manage links; only owners and administrators share channels.
    let user = hq
        .app
        .invite_user(&hq.admin, "bob", "correct horse battery")
        .await;
    let r = api(&hq.app, &user, Method::GET, "/api/v1/admin/links", None).await;
    assert_eq!(r.status(), 403);
    let r = api(
        &hq.app,
        &user,
        Method::POST,
        "/api/v1/admin/links/invites",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    join(&hq, &user, ops).await;
    let link = links_of(&hq).await[0]["id"].as_i64().unwrap();
    let r = api(
        &hq.app,
        &user,
        Method::PUT,
        &format!("/api/v1/channels/{ops}/links/{link}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 403);
}

/// A client of the link port with `from`'s certificate, trusting `to`'s CA.
fn link_client(from: &TestApp, to: &TestApp) -> reqwest::Client {
    let certs = from.data_dir().join("certs");
    let chain = std::fs::read(certs.join("server.pem")).unwrap();
    let key = std::fs::read(certs.join("server.key")).unwrap();
    let chain: Vec<_> = rustls_pemfile::certs(&mut chain.as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut key.as_slice())
        .unwrap()
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        outpost::pki::crypto_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(root_store(&to.ca_pem()))
    .with_client_auth_cert(chain, key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let addr = to.handle.state.links.listening().expect("link port open");
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .resolve("localhost", addr)
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

fn link_url(to: &TestApp, path: &str) -> String {
    let port = to.handle.state.links.listening().unwrap().port();
    format!("https://localhost:{port}{path}")
}

#[tokio::test]
async fn a_misbehaving_peer_is_refused_and_nothing_is_stored() {
    let hq = site("HQ").await;
    let evil = site("Evil").await;
    let (hq_link, _) = pair(&hq, &evil).await;
    // Pause the evil site's own dialer: the test speaks for it.
    let evil_link = links_of(&evil).await[0]["id"].as_i64().unwrap();
    api(
        &evil.app,
        &evil.admin,
        Method::POST,
        &format!("/api/v1/admin/links/{evil_link}/pause"),
        None,
    )
    .await;
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    let secret = create_channel(&hq.app, &hq.admin, "secret", false).await;
    share(&hq, ops, hq_link).await;
    let hq_site = hq.app.handle.state.links.identity().site.clone();
    let evil_site = evil.app.handle.state.links.identity().site.clone();
    let evil_key = evil.app.handle.state.links.identity().key.clone();
    let hq_admin_id = id_of(&hq.app, &hq.admin).await;

    let client = link_client(&evil.app, &hq.app);
    let message = |n: i64, channel: i64, body: &str, version: i64| {
        let mut m = MessageState {
            id: Gid {
                site: evil_site.clone(),
                id: n,
            },
            channel: Gid {
                site: hq_site.clone(),
                id: channel,
            },
            author: Some(Gid {
                site: evil_site.clone(),
                id: 1,
            }),
            author_username: "mallory".into(),
            author_name: "Mallory".into(),
            sender_name: None,
            kind: "text".into(),
            body: body.into(),
            thread_root: None,
            also_in_channel: false,
            created_at: 1_700_000_000_000,
            sort_key: version,
            version,
            deleted: false,
            signer: evil_site.clone(),
            signature: String::new(),
        };
        wire::sign(&mut m, &evil_key);
        m
    };
    let push = |batch: Batch| {
        let client = client.clone();
        let url = link_url(&hq.app, "/link/v1/push");
        async move {
            let r = client
                .post(url)
                .body(wire::encode(&batch))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let batch = |messages: Vec<MessageState>, upto: i64| Batch {
        site: evil_site.clone(),
        upto,
        head: upto,
        hlc: 0,
        messages,
        ..Default::default()
    };

    // The control: a proper message in the shared channel is taken.
    let good = message(10, ops, "a proper message", 1 << 40);
    let (status, body) = push(batch(vec![good.clone()], 1)).await;
    assert_eq!(status, 200, "{body}");

    // A channel not shared with it.
    let (status, body) = push(batch(vec![message(11, secret, "let me in", 1 << 40)], 2)).await;
    assert_eq!(status, 422);
    assert!(body.contains("not shared"), "{body}");
    // Speaking as a person of HQ.
    let mut forged_author = message(12, ops, "I am HQ's admin", 1 << 40);
    forged_author.author = Some(Gid {
        site: hq_site.clone(),
        id: hq_admin_id,
    });
    wire::sign(&mut forged_author, &evil_key);
    let (status, body) = push(batch(vec![forged_author], 3)).await;
    assert_eq!(status, 422);
    assert!(body.contains("written as a person of site"), "{body}");
    // A message claiming to be HQ's own.
    let mut own = message(13, ops, "HQ said so", 1 << 40);
    own.id.site = hq_site.clone();
    own.author = None;
    let (status, _) = push(batch(vec![own], 4)).await;
    assert_eq!(status, 422);
    // A forged signature (another key), and a valid one over changed text.
    let mut forged = message(14, ops, "signed by someone else", 1 << 40);
    wire::sign(
        &mut forged,
        &ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    );
    let (status, body) = push(batch(vec![forged], 5)).await;
    assert_eq!(status, 422);
    assert!(body.contains("signature does not verify"), "{body}");
    let mut altered = message(15, ops, "original", 1 << 40);
    altered.body = "altered".into();
    let (status, _) = push(batch(vec![altered], 6)).await;
    assert_eq!(status, 422);
    // A replay of an older version after a newer one.
    let edited = message(10, ops, "a proper message, edited", (1 << 40) + 5);
    let (status, body) = push(batch(vec![edited], 7)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = push(batch(
        vec![message(10, ops, "a proper message", (1 << 40) + 1)],
        8,
    ))
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("replay"), "{body}");
    // One bad message refuses the whole batch, the good one with it.
    let (status, _) = push(batch(
        vec![
            message(16, ops, "would be fine", 1 << 41),
            message(17, secret, "but this is not", 1 << 41),
        ],
        9,
    ))
    .await;
    assert_eq!(status, 422);
    // A reaction in HQ's name, and one whose signature is not its site's.
    let reaction = |user_site: &str, emoji: &str, key: &ed25519_dalek::SigningKey| {
        let mut r = wire::ReactionState {
            message: Gid {
                site: evil_site.clone(),
                id: 10,
            },
            user: Gid {
                site: user_site.to_string(),
                id: 1,
            },
            username: "someone".into(),
            display_name: "Someone".into(),
            emoji: emoji.into(),
            present: true,
            version: 1 << 42,
            signature: String::new(),
        };
        wire::sign_reaction(&mut r, key);
        r
    };
    let mut as_hq = batch(vec![], 11);
    as_hq.reactions = vec![reaction(&hq_site, "👍", &evil_key)];
    let (status, body) = push(as_hq).await;
    assert_eq!(status, 422);
    assert!(body.contains("reaction"), "{body}");
    let mut forged_reaction = batch(vec![], 12);
    forged_reaction.reactions = vec![reaction(
        &evil_site,
        "👍",
        &ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    )];
    let (status, _) = push(forged_reaction).await;
    assert_eq!(status, 422);
    let mut not_emoji = batch(vec![], 13);
    not_emoji.reactions = vec![reaction(&evil_site, "<script>", &evil_key)];
    let (status, _) = push(not_emoji).await;
    assert_eq!(status, 422);

    // Malformed bodies and a batch in another site's name.
    let r = client
        .post(link_url(&hq.app, "/link/v1/push"))
        .body("certainly not deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut other_site = batch(vec![message(18, ops, "as another", 1 << 41)], 10);
    other_site.site = hq_site.clone();
    let (status, _) = push(other_site).await;
    assert_eq!(status, 422);

    // Nothing of it was stored: one message, edited; the unshared channel untouched.
    let ops_now = transcript(&hq, ops).await;
    assert_eq!(ops_now.len(), 1, "{ops_now:?}");
    assert_eq!(ops_now[0].0, "a proper message, edited");
    let ops_msgs = history(&hq.app, &hq.admin, ops).await;
    assert_eq!(
        ops_msgs[0]["reactions"],
        json!([]),
        "no reaction was stored"
    );
    assert!(transcript(&hq, secret).await.is_empty());

    // A clock a month fast is refused; one three hours fast is taken, and HQ's next message
    // still sorts after it (HQ's clock moved past what it heard).
    let month = (outpost::store::now_ms() + 30 * 24 * 3_600_000) << 16;
    let (status, body) = push(batch(vec![message(19, ops, "from next month", month)], 14)).await;
    assert_eq!(status, 422);
    assert!(body.contains("week ahead"), "{body}");
    let hours = (outpost::store::now_ms() + 3 * 3_600_000) << 16;
    let (status, body) = push(batch(vec![message(20, ops, "three hours fast", hours)], 15)).await;
    assert_eq!(status, 200, "{body}");
    post_message(&hq.app, &hq.admin, ops, "HQ's answer").await;
    let order: Vec<String> = transcript(&hq, ops)
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(
        order,
        [
            "a proper message, edited",
            "three hours fast",
            "HQ's answer"
        ]
    );

    // A site that is not linked gets nothing at all, and neither does a pull for it.
    let stranger = site("Stranger").await;
    let _ = invite(&stranger).await; // opens its link port, so it has the certificate
    let r = link_client(&stranger.app, &hq.app)
        .post(link_url(&hq.app, "/link/v1/pull"))
        .body(r#"{"after":0,"wait_ms":0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// `outpost link …` beside a running server, as an administrator on the machine would.
async fn link_cli(s: &Site, args: &[&str], env: &[(&str, String)]) -> (bool, String) {
    let mut all: Vec<String> = vec!["link".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.push("--data-dir".into());
    all.push(s.app.data_dir().to_string_lossy().into_owned());
    let mut cmd = outpost_bin();
    cmd.args(&all)
        .env("OUTPOST_SITE_NAME", &s.app.config.site_name)
        .env("OUTPOST_CLUSTER_DATABASE", &s.app.config.cluster.database)
        .env("OUTPOST_CLUSTER_CA_FILE", &s.app.config.cluster.ca_file)
        .env("OUTPOST_LINKS_LISTEN", "127.0.0.1:0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_command_line_pairs_lists_pauses_and_removes_links() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    // Port 0 cannot be put in an invitation.
    let (ok, text) = link_cli(&hq, &["invite"], &[]).await;
    assert!(!ok && text.contains("port 0"), "{text}");
    // Open HQ's link port (an invitation from the admin page does), then name it.
    invite(&hq).await;
    let addr = hq.app.handle.state.links.listening().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let qr = dir.path().join("invite.svg");
    let (ok, text) = link_cli(
        &hq,
        &["invite", "--hours", "2", "--qr", qr.to_str().unwrap()],
        &[("OUTPOST_LINKS_ADDRESSES", addr.clone())],
    )
    .await;
    assert!(ok, "{text}");
    assert!(text.contains(&hq.app.handle.ca_fingerprint), "{text}");
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));
    let code = text
        .lines()
        .find(|l| l.starts_with("outpost-link:"))
        .unwrap()
        .to_string();
    // Without --yes it asks, and anything but "yes" links nothing.
    let (ok, text) = link_cli(&fo, &["accept", &code], &[]).await;
    assert!(!ok && text.contains("not linked"), "{text}");
    let (ok, text) = link_cli(&fo, &["accept", &code, "--yes"], &[]).await;
    assert!(ok, "{text}");
    assert!(text.contains("linked to HQ"), "{text}");
    let (ok, text) = link_cli(&hq, &["list", "--json"], &[]).await;
    assert!(ok, "{text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list[0]["name"], "Field");
    let id = list[0]["id"].as_i64().unwrap().to_string();
    // The field office's running server dials within a second of the CLI's accept.
    eventually("the field office's server connects", || {
        let fut = links_of(&fo);
        async move { fut.await[0]["state"] == "connected" }
    })
    .await;
    let (ok, _) = link_cli(&hq, &["pause", &id], &[]).await;
    assert!(ok);
    assert_eq!(links_of(&hq).await[0]["state"], "paused");
    let (ok, _) = link_cli(&hq, &["resume", &id], &[]).await;
    assert!(ok);
    let (ok, text) = link_cli(&hq, &["remove", &id], &[]).await;
    assert!(ok, "{text}");
    assert!(links_of(&hq).await.is_empty());
    let (ok, text) = link_cli(&hq, &["remove", &id], &[]).await;
    assert!(!ok, "{text}");
    let audit: Value = api(&hq.app, &hq.admin, Method::GET, "/api/v1/admin/audit", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("link-remove"));
}

#[tokio::test]
async fn in_a_cluster_one_node_dials_a_link_and_another_takes_over_when_it_stops() {
    let _db = database_or_skip!();
    let hq = site("HQ").await;
    let first = site("Field").await;
    let database = first.app.config.cluster.database.clone();
    let second_app = spawn_node_beside(&first.app, |c| {
        c.site_name = "Field".into();
        c.cluster.database = database;
    })
    .await;
    let second = Site {
        app: second_app,
        admin: first.admin.clone(),
    };
    let (hq_link, field_link) = pair(&hq, &first).await;
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    share(&hq, ops, hq_link).await;
    post_message(&hq.app, &hq.admin, ops, "one").await;
    let field_ops = arrived_channel(&second, "ops").await;
    join(&second, &second.admin, field_ops).await;
    converged(&hq, ops, &second, field_ops, 1).await;

    // Exactly one of the two nodes dials.
    let dialers = || {
        [&first, &second]
            .iter()
            .filter(|s| s.app.handle.state.links.dials(field_link))
            .count()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(dialers(), 1, "one node dials the link");
    let (dialing, other) = if first.app.handle.state.links.dials(field_link) {
        (first, second)
    } else {
        (second, first)
    };
    dialing.app.stop().await;
    // The other node takes over once the lease runs out, and messages flow again.
    post_message(&hq.app, &hq.admin, ops, "after the node stopped").await;
    post_message(&other.app, &other.admin, field_ops, "from the other node").await;
    for _ in 0..300 {
        if other.app.handle.state.links.dials(field_link) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(other.app.handle.state.links.dials(field_link));
    converged(&hq, ops, &other, field_ops, 3).await;
}

#[tokio::test]
async fn unsharing_a_channel_stops_it_and_nothing_else() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    let (hq_link, _) = pair(&hq, &fo).await;
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    let news = create_channel(&hq.app, &hq.admin, "news", false).await;
    share(&hq, ops, hq_link).await;
    share(&hq, news, hq_link).await;
    post_message(&hq.app, &hq.admin, ops, "ops one").await;
    post_message(&hq.app, &hq.admin, news, "news one").await;
    let fo_ops = arrived_channel(&fo, "ops").await;
    let fo_news = arrived_channel(&fo, "news").await;
    join(&fo, &fo.admin, fo_ops).await;
    join(&fo, &fo.admin, fo_news).await;
    converged(&hq, ops, &fo, fo_ops, 1).await;
    converged(&hq, news, &fo, fo_news, 1).await;

    let r = api(
        &hq.app,
        &hq.admin,
        Method::DELETE,
        &format!("/api/v1/channels/{ops}/links/{hq_link}"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    // The field office still writes there (it has not heard); HQ drops it without refusing the
    // batch, so the other shared channel goes on.
    post_message(&fo.app, &fo.admin, fo_ops, "ops from the field after").await;
    post_message(&hq.app, &hq.admin, ops, "ops at HQ after").await;
    post_message(&fo.app, &fo.admin, fo_news, "news from the field").await;
    post_message(&hq.app, &hq.admin, news, "news at HQ").await;
    converged(&hq, news, &fo, fo_news, 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hq_ops: Vec<String> = transcript(&hq, ops)
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(hq_ops, ["ops one", "ops at HQ after"]);
    let fo_ops_now: Vec<String> = transcript(&fo, fo_ops)
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(fo_ops_now, ["ops one", "ops from the field after"]);
    let links = links_of(&fo).await;
    assert!(links[0]["last_error"].is_null(), "{links:?}");
}

#[tokio::test]
async fn events_a_linked_site_has_not_acknowledged_outlive_the_log_retention() {
    let hq = site("HQ").await;
    let fo = site("Field").await;
    let (hq_link, fo_link) = pair(&hq, &fo).await;
    let ops = create_channel(&hq.app, &hq.admin, "ops", false).await;
    share(&hq, ops, hq_link).await;
    post_message(&hq.app, &hq.admin, ops, "before").await;
    let fo_ops = arrived_channel(&fo, "ops").await;
    join(&fo, &fo.admin, fo_ops).await;
    converged(&hq, ops, &fo, fo_ops, 1).await;
    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        &format!("/api/v1/admin/links/{fo_link}/pause"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    post_message(&hq.app, &hq.admin, ops, "while the link was down for weeks").await;
    // The retention job, as if every event were older than it keeps: what the field office has
    // not acknowledged stays.
    let pruned = hq
        .app
        .beside(|c| outpost::store::chat::prune_events(c, outpost::store::now_ms() + 3_600_000))
        .await;
    assert!(pruned > 0, "events the link had acknowledged were pruned");
    let r = api(
        &fo.app,
        &fo.admin,
        Method::POST,
        &format!("/api/v1/admin/links/{fo_link}/resume"),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    converged(&hq, ops, &fo, fo_ops, 2).await;
}
