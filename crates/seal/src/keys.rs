//! Ed25519 key files: PKCS#8 PEM as `openssl genpkey -algorithm ed25519` writes it, or a raw 32-byte seed;
//! public keys as SubjectPublicKeyInfo PEM as `openssl pkey -pubout` writes it.

use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};

/// DER prefix of an Ed25519 PKCS#8 v1 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a key file could not be used (never contains key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

fn pem_body(text: &str, label: &str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| KeyError(format!("no {begin} block")))?;
    let rest = &text[start + begin.len()..];
    let stop = rest
        .find(&end)
        .ok_or_else(|| KeyError(format!("no {end} line")))?;
    let b64: String = rest[..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| KeyError(format!("the {label} block is not valid base64")))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(line));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// A signing key from a key file's bytes: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, Ed25519) or exactly 32
/// raw bytes (the seed).
pub fn parse_signing_key(bytes: &[u8]) -> Result<SigningKey, KeyError> {
    if bytes.len() == 32 {
        let mut seed = [0u8; 32];
        seed.copy_from_slice(bytes);
        return Ok(SigningKey::from_bytes(&seed));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| KeyError("neither PEM text nor a raw 32-byte seed".into()))?;
    let der = pem_body(text, "PRIVATE KEY")?;
    match der.strip_prefix(&PKCS8_PREFIX[..]) {
        Some(seed) if seed.len() == 32 => {
            let mut s = [0u8; 32];
            s.copy_from_slice(seed);
            Ok(SigningKey::from_bytes(&s))
        }
        _ => Err(KeyError(
            "the PRIVATE KEY is not an Ed25519 PKCS#8 key (make one with: openssl genpkey -algorithm ed25519)"
                .into(),
        )),
    }
}

/// The PKCS#8 PEM of `key` (what `openssl genpkey -algorithm ed25519` writes).
pub fn signing_key_pem(key: &SigningKey) -> String {
    let mut der = PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&key.to_bytes());
    pem("PRIVATE KEY", &der)
}

/// The SubjectPublicKeyInfo PEM of `key` (readable by `openssl pkeyutl -pubin -inkey`).
pub fn public_key_pem(key: &VerifyingKey) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    pem("PUBLIC KEY", &der)
}

/// A public key from SubjectPublicKeyInfo PEM text.
pub fn verifying_key_from_pem(text: &str) -> Result<VerifyingKey, KeyError> {
    let der = pem_body(text, "PUBLIC KEY")?;
    let raw = der
        .strip_prefix(&SPKI_PREFIX[..])
        .filter(|k| k.len() == 32)
        .ok_or_else(|| KeyError("the PUBLIC KEY is not an Ed25519 key".into()))?;
    let mut k = [0u8; 32];
    k.copy_from_slice(raw);
    VerifyingKey::from_bytes(&k)
        .map_err(|_| KeyError("the PUBLIC KEY is not a valid Ed25519 point".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_rejects_other_keys() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let back = parse_signing_key(signing_key_pem(&key).as_bytes()).unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
        assert_eq!(
            parse_signing_key(&[7u8; 32]).unwrap().to_bytes(),
            key.to_bytes()
        );
        let public = verifying_key_from_pem(&public_key_pem(&key.verifying_key())).unwrap();
        assert_eq!(public, key.verifying_key());
        assert!(parse_signing_key(
            b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
        assert!(parse_signing_key(b"hello").is_err());
    }
}
