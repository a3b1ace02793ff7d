//! Checking a release file (a .deb, .rpm, binary or SHA256SUMS) against the project's minisign
//! public key, offline: `outpost verify-update FILE`.
//!
//! `packaging/build` signs every artifact with `minisign -S` when it is given a secret key; the
//! signature sits beside the file as `FILE.minisig`, and the packages install the public key as
//! [`DEFAULT_PUBLIC_KEY`]. Only pre-hashed (BLAKE2b) signatures, minisign's default since 0.8, are
//! accepted, so a file of any size is read once in pieces instead of being held in memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine;
use minisign_verify::{PublicKey, Signature};

/// Where the packages install the release public key.
pub const DEFAULT_PUBLIC_KEY: &str = "/usr/share/outpost/release-key.pub";

/// Why a file could not be verified. Every variant means "do not install this file". The I/O
/// variants carry the cause as their `source` (shown by `{:#}`), not in their own message.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read the public key {path}")]
    ReadKey { path: PathBuf, source: io::Error },
    #[error("{path} is not a minisign public key")]
    BadKey { path: PathBuf },
    #[error("cannot read the signature {path} (a release has FILE.minisig beside each FILE)")]
    ReadSignature { path: PathBuf, source: io::Error },
    #[error("{path} is not a minisign signature")]
    BadSignature { path: PathBuf },
    #[error("{path} is a legacy (not pre-hashed) minisign signature; sign with a current minisign (-S without -l)")]
    LegacySignature { path: PathBuf },
    #[error("cannot read {path}")]
    ReadFile { path: PathBuf, source: io::Error },
    #[error("{file} was signed with key {signed_by}, not with the trusted key {trusted} ({key})")]
    WrongKey {
        file: PathBuf,
        key: PathBuf,
        signed_by: String,
        trusted: String,
    },
    #[error("BAD SIGNATURE: {file} does not match {signature}: the file was changed or the signature is not for it")]
    Mismatch { file: PathBuf, signature: PathBuf },
}

/// A file whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key's id as minisign prints it (16 hex digits).
    pub key_id: String,
    /// The signed comment (which file, which version, when): covered by the signature.
    pub trusted_comment: String,
}

/// The signature file `verify-update` looks for when none is given: `FILE.minisig`.
pub fn default_signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Checks `file` against `signature` (minisign format) made by the key in `public_key`.
pub fn verify_file(
    file: &Path,
    signature: &Path,
    public_key: &Path,
) -> Result<Verified, VerifyError> {
    let key_text = std::fs::read_to_string(public_key).map_err(|source| VerifyError::ReadKey {
        path: public_key.to_owned(),
        source,
    })?;
    let key = decode_public_key(&key_text).ok_or_else(|| VerifyError::BadKey {
        path: public_key.to_owned(),
    })?;
    let sig_text =
        std::fs::read_to_string(signature).map_err(|source| VerifyError::ReadSignature {
            path: signature.to_owned(),
            source,
        })?;
    let sig = Signature::decode(&sig_text).map_err(|_| VerifyError::BadSignature {
        path: signature.to_owned(),
    })?;
    let trusted = key_id_of(&key_text, 1).unwrap_or_default();
    let signed_by = key_id_of(&sig_text, 1).unwrap_or_default();
    if trusted != signed_by {
        return Err(VerifyError::WrongKey {
            file: file.to_owned(),
            key: public_key.to_owned(),
            signed_by,
            trusted,
        });
    }
    let mut verifier = key.verify_stream(&sig).map_err(|e| match e {
        minisign_verify::Error::UnexpectedKeyId => VerifyError::WrongKey {
            file: file.to_owned(),
            key: public_key.to_owned(),
            signed_by: signed_by.clone(),
            trusted: trusted.clone(),
        },
        minisign_verify::Error::UnsupportedLegacyMode => VerifyError::LegacySignature {
            path: signature.to_owned(),
        },
        _ => VerifyError::BadSignature {
            path: signature.to_owned(),
        },
    })?;
    let read_err = |source| VerifyError::ReadFile {
        path: file.to_owned(),
        source,
    };
    let mut f = File::open(file).map_err(read_err)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        verifier.update(&buf[..n]);
    }
    verifier.finalize().map_err(|_| VerifyError::Mismatch {
        file: file.to_owned(),
        signature: signature.to_owned(),
    })?;
    Ok(Verified {
        key_id: trusted,
        trusted_comment: sig.trusted_comment().to_string(),
    })
}

/// A public key file is an untrusted comment line and the key in base64; a bare base64 line
/// (as `minisign -P` takes) is accepted too.
fn decode_public_key(text: &str) -> Option<PublicKey> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [b64] => PublicKey::from_base64(b64).ok(),
        [comment, b64] if comment.starts_with("untrusted comment:") => {
            PublicKey::from_base64(b64).ok()
        }
        _ => None,
    }
}

/// The key id minisign shows (the little-endian 64-bit id, in upper-case hex) of a public key
/// or signature file, from the base64 line at `index` (the line after the untrusted comment),
/// or from a lone base64 line.
fn key_id_of(text: &str, index: usize) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = if lines.len() == 1 {
        lines[0]
    } else {
        lines.get(index)?
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(line)
        .ok()?;
    let id = bytes.get(2..10)?;
    Some(id.iter().rev().map(|b| format!("{b:02X}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made once with minisign 0.11: `minisign -G -W` twice (keys A and B), then
    // `minisign -S -s a.key -m pkg.deb -t 'outpost test vector'` and, for the legacy case,
    // `minisign -S -l -s a.key -m pkg.deb`. No secret key is kept anywhere.
    const CONTENT: &[u8] = b"outpost release test vector\n";
    const KEY_A: &str = "untrusted comment: minisign public key 5C6065112BBAA3D5\n\
        RWTVo7orEWVgXE+XXRKYyp2BWV2HDvIIe+8sYn8TvaOQBgrq5liX8yH+\n";
    const KEY_B: &str = "untrusted comment: minisign public key 785D06527C5CA859\n\
        RWRZqFx8UgZdeMbv2uf3Y7GHDUZ2TgdWwgHIVJMf3/yXWL3eQ1K5S/tx\n";
    const SIG_A: &str = "untrusted comment: signature from minisign secret key\n\
        RUTVo7orEWVgXJEt6d1Jqlm0iVhllKhnGnA85DcOhCGkw+jmftbC1iVLkCZ3euB4mjmzSneZ2e4NQ9B4GbvK8YpkFQHBiVLSqAs=\n\
        trusted comment: outpost test vector\n\
        lCFDe4k8aoLXopNAa4ivmT7j608OzfJtKefsOC8HP/ttPzE5lp02vL1uGo4Yxk3lUZMP9qFWlCL4G3s6xliPAQ==\n";
    const SIG_A_LEGACY: &str = "untrusted comment: signature from minisign secret key\n\
        RWTVo7orEWVgXP+DsTpY1wg7vDt5hn5+sOHyx6NrWkLlqkD6CIKQTt9xVyzazkvNPgb73HznO+pdYqrVI+G+wWcs48poIF1dzAI=\n\
        trusted comment: timestamp:1796410337\tfile:pkg.deb\n\
        zFjd6hstpwToaj0mUyPv4Og6uCOSkdSe6u6PW6niQ+qKWnoo9TdjhTUp0ZG8eJdOpptiY8trsgFQZI2wS6BCAQ==\n";

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new(content: &[u8], sig: &str, key: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("pkg.deb"), content).unwrap();
            std::fs::write(dir.path().join("pkg.deb.minisig"), sig).unwrap();
            std::fs::write(dir.path().join("key.pub"), key).unwrap();
            Files { dir }
        }
        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }
        fn verify(&self) -> Result<Verified, VerifyError> {
            let file = self.path("pkg.deb");
            verify_file(&file, &default_signature_path(&file), &self.path("key.pub"))
        }
    }

    #[test]
    fn good_signature() {
        let v = Files::new(CONTENT, SIG_A, KEY_A).verify().unwrap();
        assert_eq!(v.key_id, "5C6065112BBAA3D5");
        assert_eq!(v.trusted_comment, "outpost test vector");
    }

    #[test]
    fn bare_base64_key() {
        let key = KEY_A.lines().nth(1).unwrap();
        Files::new(CONTENT, SIG_A, key).verify().unwrap();
    }

    #[test]
    fn tampered_file() {
        let mut content = CONTENT.to_vec();
        content[0] ^= 1;
        let err = Files::new(&content, SIG_A, KEY_A).verify().unwrap_err();
        assert!(matches!(err, VerifyError::Mismatch { .. }), "{err}");
        assert!(err.to_string().starts_with("BAD SIGNATURE"), "{err}");
        let mut longer = CONTENT.to_vec();
        longer.push(b'x');
        let err = Files::new(&longer, SIG_A, KEY_A).verify().unwrap_err();
        assert!(matches!(err, VerifyError::Mismatch { .. }), "{err}");
    }

    #[test]
    fn tampered_trusted_comment() {
        let sig = SIG_A.replace("outpost test vector", "outpost test vectoR");
        let err = Files::new(CONTENT, &sig, KEY_A).verify().unwrap_err();
        assert!(matches!(err, VerifyError::Mismatch { .. }), "{err}");
    }

    #[test]
    fn wrong_key() {
        let err = Files::new(CONTENT, SIG_A, KEY_B).verify().unwrap_err();
        match &err {
            VerifyError::WrongKey {
                signed_by, trusted, ..
            } => {
                assert_eq!(signed_by, "5C6065112BBAA3D5");
                assert_eq!(trusted, "785D06527C5CA859");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn missing_signature_and_key() {
        let f = Files::new(CONTENT, SIG_A, KEY_A);
        std::fs::remove_file(f.path("pkg.deb.minisig")).unwrap();
        let err = f.verify().unwrap_err();
        assert!(matches!(err, VerifyError::ReadSignature { .. }), "{err}");
        assert!(err.to_string().contains("pkg.deb.minisig"), "{err}");

        let f = Files::new(CONTENT, SIG_A, KEY_A);
        std::fs::remove_file(f.path("key.pub")).unwrap();
        assert!(matches!(f.verify(), Err(VerifyError::ReadKey { .. })));

        let f = Files::new(CONTENT, SIG_A, KEY_A);
        std::fs::remove_file(f.path("pkg.deb")).unwrap();
        assert!(matches!(f.verify(), Err(VerifyError::ReadFile { .. })));
    }

    #[test]
    fn garbage_key_and_signature() {
        let err = Files::new(CONTENT, SIG_A, "not a key\n")
            .verify()
            .unwrap_err();
        assert!(matches!(err, VerifyError::BadKey { .. }), "{err}");
        let err = Files::new(CONTENT, "hello\n", KEY_A).verify().unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn legacy_signature_refused() {
        let err = Files::new(CONTENT, SIG_A_LEGACY, KEY_A)
            .verify()
            .unwrap_err();
        assert!(matches!(err, VerifyError::LegacySignature { .. }), "{err}");
    }
}
