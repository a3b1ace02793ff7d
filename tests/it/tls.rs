//! The local CA and TLS: trust, SANs, name constraints, profiles, renewal and persistence.

use std::sync::Arc;

use outpost::config::TlsProfile;
use outpost::pki;
use rcgen::{CertificateParams, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::helpers::*;

async fn handshake(
    app: &TestApp,
    config: rustls::ClientConfig,
    name: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, std::io::Error> {
    let tcp = TcpStream::connect(app.https_addr()).await?;
    let name = ServerName::try_from(name.to_string()).unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

#[tokio::test]
async fn a_client_trusting_only_the_ca_connects_by_name_and_address() {
    let app = spawn_app().await;
    for name in ["localhost", "127.0.0.1"] {
        let mut config = client_tls(&app.ca_pem());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let stream = handshake(&app, config, name).await.expect(name);
        let (_, conn) = stream.get_ref();
        assert_eq!(conn.alpn_protocol(), Some(&b"h2"[..]));
        let chain = conn.peer_certificates().unwrap();
        assert_eq!(chain.len(), 2, "leaf plus CA");
        let sans = pki::certificate_sans(&chain[0]);
        for want in ["localhost", "127.0.0.1", "::1"] {
            assert!(
                sans.iter().any(|s| s.to_string() == want),
                "{want} in {sans:?}"
            );
        }
        let (start, end) = pki::certificate_validity(&chain[0]).unwrap();
        assert_eq!((end - start).whole_days(), 90);
        assert!(start < time::OffsetDateTime::now_utc() - time::Duration::hours(23));
    }
    // A client that does not trust the CA is refused.
    let other = pki::create_ca("Elsewhere", "x", &[]).unwrap().0;
    assert!(handshake(&app, client_tls(&other), "localhost")
        .await
        .is_err());
    app.stop().await;
}

#[tokio::test]
async fn the_ca_is_name_constrained_and_cannot_vouch_for_public_names() {
    let app = spawn_app().await;
    let ca_pem = app.ca_pem();
    let ca_der = pki::pem_to_der(&ca_pem).unwrap();
    let permitted = pki::permitted_dns_names(&ca_der);
    for suffix in pki::PERMITTED_SUFFIXES {
        assert!(
            permitted.iter().any(|p| p == suffix),
            "{suffix} in {permitted:?}"
        );
    }
    let key = std::fs::read_to_string(app.data_dir().join("certs/ca.key")).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(app.data_dir().join("certs/ca.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, KeyPair::from_pem(&key).unwrap()).unwrap();

    let verifier = WebPkiServerVerifier::builder_with_provider(
        Arc::new(root_store(&ca_pem)),
        Arc::new(pki::crypto_provider()),
    )
    .build()
    .unwrap();
    let verify = |name: &str, ip: Option<&str>| {
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut sans = vec![name.to_string()];
        sans.extend(ip.map(str::to_string));
        let params = CertificateParams::new(sans).unwrap();
        let leaf = params.signed_by(&leaf_key, &issuer).unwrap();
        let der = CertificateDer::from(leaf.der().to_vec());
        verifier.verify_server_cert(
            &der,
            &[],
            &ServerName::try_from(name.to_string()).unwrap(),
            &[],
            UnixTime::now(),
        )
    };
    assert!(verify("chat.lan", None).is_ok(), "a local name is accepted");
    let err = verify("www.example.com", None).expect_err("a public name must fail");
    assert!(format!("{err:?}").contains("NameConstraint"), "{err:?}");
    let err = verify("ok.lan", Some("8.8.8.8")).expect_err("a public address must fail");
    assert!(format!("{err:?}").contains("NameConstraint"), "{err:?}");
    app.stop().await;
}

#[tokio::test]
async fn modern_profile_refuses_tls12_and_intermediate_accepts_it() {
    let tls12_only = |ca: &str| {
        rustls::ClientConfig::builder_with_provider(Arc::new(pki::crypto_provider()))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(root_store(ca))
            .with_no_client_auth()
    };
    let app = spawn_app().await;
    assert!(handshake(&app, tls12_only(&app.ca_pem()), "localhost")
        .await
        .is_ok());
    app.stop().await;

    let app = spawn_app_with(|c| c.tls.profile = TlsProfile::Modern).await;
    assert!(handshake(&app, tls12_only(&app.ca_pem()), "localhost")
        .await
        .is_err());
    let stream = handshake(&app, client_tls(&app.ca_pem()), "localhost")
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_the_ca_and_a_new_name_reissues_the_certificate() {
    let app = spawn_app().await;
    let fingerprint = app.handle.ca_fingerprint.clone();
    let ca_before = app.ca_pem();
    let leaf_before = std::fs::read(app.data_dir().join("certs/server.pem")).unwrap();
    let (dir, config) = app.stop().await;

    // Same names: nothing is regenerated.
    let app = spawn_in(dir, config).await;
    assert_eq!(app.handle.ca_fingerprint, fingerprint);
    assert_eq!(
        std::fs::read(app.data_dir().join("certs/server.pem")).unwrap(),
        leaf_before
    );
    let (dir, mut config) = app.stop().await;

    // A new configured name changes the SAN set: the certificate is reissued by the same CA.
    config.tls.names = vec!["chat.lan".into()];
    let app = spawn_in(dir, config).await;
    assert_eq!(app.ca_pem(), ca_before);
    let stream = handshake(&app, client_tls(&ca_before), "chat.lan")
        .await
        .unwrap();
    let leaf = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    assert!(pki::certificate_sans(&leaf)
        .iter()
        .any(|s| s.to_string() == "chat.lan"));
    app.stop().await;
}

#[tokio::test]
async fn an_admin_certificate_replaces_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, ca_key) = pki::create_ca("Agency", "host", &["agency.lan".into()]).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, KeyPair::from_pem(&ca_key).unwrap()).unwrap();
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let cert_path = dir.path().join("server.pem");
    let key_path = dir.path().join("server.key");
    std::fs::write(&cert_path, format!("{}{ca_pem}", leaf.pem())).unwrap();
    std::fs::write(&key_path, leaf_key.serialize_pem()).unwrap();
    let app = spawn_app_with(|c| {
        c.tls.cert_file = Some(cert_path.clone());
        c.tls.key_file = Some(key_path.clone());
    })
    .await;
    assert!(
        !app.data_dir().join("certs/ca.pem").exists(),
        "no CA is made"
    );
    assert!(handshake(&app, client_tls(&ca_pem), "localhost")
        .await
        .is_ok());
    let plain = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(&ca_pem))
        .build()
        .unwrap();
    let resp = plain
        .get(format!("{}/ca.pem", app.http_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pki::pem_to_der(&resp.text().await.unwrap()),
        pki::pem_to_der(&ca_pem)
    );
    app.stop().await;
}
