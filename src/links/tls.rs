//! Mutually authenticated TLS between linked sites, each side pinned to the other's CA.
//!
//! No public CA and no name is involved: a site presents its own server certificate with its CA
//! after it, and the other side checks that the certificate chains to that CA and that the CA
//! is the one it pinned (by SHA-256 fingerprint). Which site a client is, and whether it may do
//! anything, is decided per request from the fingerprint of the CA it presented.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::pki::{self, CertResolver};

/// The CA a peer presented after its certificate, once the certificate is known to chain to it.
fn checked_ca(end: &CertificateDer<'_>, rest: &[CertificateDer<'_>]) -> Option<Vec<u8>> {
    let ca = rest.last()?;
    let now = time::OffsetDateTime::now_utc();
    pki::chains_to(end.as_ref(), ca.as_ref(), now).then(|| ca.as_ref().to_vec())
}

/// The fingerprint of the CA a connection's peer presented (its certificates as rustls kept
/// them), when the chain holds together.
pub fn peer_ca_fingerprint(certs: &[CertificateDer<'_>]) -> Option<(String, Vec<u8>)> {
    let (end, rest) = certs.split_first()?;
    let ca = checked_ca(end, rest)?;
    Some((pki::fingerprint(&ca), ca))
}

/// The handshake's own signature checks, which both sides make the standard way.
#[derive(Debug)]
struct Handshake(rustls::crypto::WebPkiSupportedAlgorithms);

impl Handshake {
    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }
}

#[derive(Debug)]
struct AnySiteClient {
    handshake: Handshake,
}

impl ClientCertVerifier for AnySiteClient {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // Any site may knock; only a linked site's CA (or an invitation's secret) gets an
        // answer, decided per request.
        checked_ca(end_entity, intermediates)
            .map(|_| ClientCertVerified::assertion())
            .ok_or(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.handshake.0.supported_schemes()
    }
}

#[derive(Debug)]
struct PinnedServer {
    fingerprint: String,
    handshake: Handshake,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match checked_ca(end_entity, intermediates) {
            Some(ca) if pki::fingerprint(&ca) == self.fingerprint => {
                Ok(ServerCertVerified::assertion())
            }
            _ => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.handshake.0.supported_schemes()
    }
}

#[derive(Debug)]
struct OwnCertificate(Arc<CertResolver>);

impl rustls::client::ResolvesClientCert for OwnCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The link listener's TLS: this site's certificate (with its CA), a client certificate required.
pub fn server_config(resolver: Arc<CertResolver>) -> Result<rustls::ServerConfig, rustls::Error> {
    let provider = Arc::new(pki::crypto_provider());
    let verifier = Arc::new(AnySiteClient {
        handshake: Handshake(provider.signature_verification_algorithms),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// A client TLS configuration that accepts only a server whose CA has `fingerprint`, and shows
/// this site's certificate.
pub fn client_config(
    fingerprint: &str,
    resolver: Arc<CertResolver>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(pki::crypto_provider());
    let verifier = Arc::new(PinnedServer {
        fingerprint: fingerprint.to_string(),
        handshake: Handshake(provider.signature_verification_algorithms),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(OwnCertificate(resolver)));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}
