//! Bearer tokens: configured as SHA-256 hashes (hex) with a name; a presented token is hashed and compared
//! in constant time with every configured hash. Tokens are never stored, logged or echoed in clear.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest `Authorization` header value accepted (longer ones are refused without hashing).
pub const MAX_TOKEN_LEN: usize = 4096;

/// One configured token: who holds it (the name written to the audit log) and the SHA-256 of the token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds the token (`ops`, `alice`): written to the audit log for every request made with it.
    pub name: String,
    /// Lower- or upper-case hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`).
    #[serde(rename = "sha256")]
    pub sha256_hex: String,
    /// What the holder may do: `admin` (the default) or `listener` (search, view and play, never download).
    #[serde(default)]
    pub role: Role,
}

/// What a token's holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: search, view, play, download audio and kept RTP, metrics.
    #[default]
    Admin,
    /// Search, view and play in the web UI; downloads are refused (403).
    Listener,
}

impl Role {
    /// The holder may download files (audio as an attachment, kept RTP pcaps).
    pub fn may_download(self) -> bool {
        self == Role::Admin
    }

    /// `admin` or `listener`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Listener => "listener",
        }
    }
}

impl std::fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEntry")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The lower-case hex SHA-256 of `token`: the value to put in `recorder.toml` for it (the same as
/// `printf %s "$TOKEN" | sha256sum`).
pub fn token_sha256_hex(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// The configured tokens, ready for checking.
#[derive(Clone)]
pub struct Tokens {
    entries: Vec<(String, [u8; 32], Role)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(n, _, _)| n))
            .finish()
    }
}

fn hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Tokens {
    /// Checks the entries: names non-empty and distinct, hashes 64 hex digits. The error names the entry,
    /// never its hash.
    pub fn new(entries: &[TokenEntry]) -> Result<Tokens, String> {
        let mut out: Vec<(String, [u8; 32], Role)> = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if e.name.trim().is_empty()
                || e.name.len() > 128
                || e.name.chars().any(char::is_control)
            {
                return Err(format!(
                    "token #{}: name must be 1 to 128 printable characters",
                    i + 1
                ));
            }
            if out.iter().any(|(n, _, _)| *n == e.name) {
                return Err(format!("token {:?}: name used twice", e.name));
            }
            let hex = e.sha256_hex.trim().as_bytes();
            let mut hash = [0u8; 32];
            let ok = hex.len() == 64
                && hex.chunks(2).zip(hash.iter_mut()).all(|(pair, byte)| {
                    match (hex_nibble(pair[0]), hex_nibble(pair[1])) {
                        (Some(h), Some(l)) => {
                            *byte = h << 4 | l;
                            true
                        }
                        _ => false,
                    }
                });
            if !ok {
                return Err(format!(
                    "token {:?}: sha256 must be 64 hex digits (printf %s \"$TOKEN\" | sha256sum)",
                    e.name
                ));
            }
            out.push((e.name.clone(), hash, e.role));
        }
        Ok(Tokens { entries: out })
    }

    /// Number of configured tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No token configured (every protected request is refused).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name of the token `presented`, if it is a configured one. Every configured hash is compared
    /// (in constant time), whichever matches.
    pub fn check(&self, presented: &[u8]) -> Option<&str> {
        self.check_with_role(presented).map(|(name, _)| name)
    }

    /// The name and role of the token `presented`, if it is a configured one (compared as in
    /// [`check`](Self::check)).
    pub fn check_with_role(&self, presented: &[u8]) -> Option<(&str, Role)> {
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = None;
        for (name, hash, role) in &self.entries {
            let equal = bool::from(hash.ct_eq(&digest));
            if equal && found.is_none() {
                found = Some((name.as_str(), *role));
            }
        }
        found
    }

    /// The name and role for an `Authorization` header value (see [`check_header`](Self::check_header)).
    pub fn check_header_with_role(&self, value: &[u8]) -> Option<(&str, Role)> {
        let (scheme, rest) = value.split_at_checked(7)?;
        if !scheme.eq_ignore_ascii_case(b"bearer ") {
            return None;
        }
        self.check_with_role(rest.trim_ascii())
    }

    /// The token name for an `Authorization` header value (`Bearer <token>`, scheme case-insensitive).
    pub fn check_header(&self, value: &[u8]) -> Option<&str> {
        let (scheme, rest) = value.split_at_checked(7)?;
        if !scheme.eq_ignore_ascii_case(b"bearer ") {
            return None;
        }
        self.check(rest.trim_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256() {
        // FIPS 180-2 test vector: SHA-256("abc")
        assert_eq!(
            token_sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn check_by_hash() {
        let tokens = Tokens::new(&[
            TokenEntry {
                name: "ops".into(),
                sha256_hex: token_sha256_hex("s3cret-ops"),
                role: Role::Admin,
            },
            TokenEntry {
                name: "audit".into(),
                sha256_hex: token_sha256_hex("s3cret-audit").to_uppercase(),
                role: Role::Listener,
            },
        ])
        .unwrap();
        assert_eq!(tokens.check(b"s3cret-ops"), Some("ops"));
        assert_eq!(tokens.check(b"s3cret-audit"), Some("audit"));
        assert_eq!(
            tokens.check_with_role(b"s3cret-audit"),
            Some(("audit", Role::Listener))
        );
        assert!(!Role::Listener.may_download() && Role::Admin.may_download());
        assert_eq!(tokens.check(b"s3cret-op"), None);
        assert_eq!(tokens.check(b""), None);
        assert_eq!(tokens.check_header(b"Bearer s3cret-ops"), Some("ops"));
        assert_eq!(tokens.check_header(b"bearer  s3cret-ops "), Some("ops"));
        assert_eq!(tokens.check_header(b"Basic s3cret-ops"), None);
        assert_eq!(tokens.check_header(b"s3cret-ops"), None);
        assert_eq!(tokens.check_header(b"Bearer"), None);
        assert_eq!(tokens.check_header(b"Bearer "), None);
        assert_eq!(format!("{tokens:?}"), r#"["ops", "audit"]"#);
    }

    #[test]
    fn bad_entries_are_refused_without_echoing_hashes() {
        let bad = |name: &str, hash: &str| {
            Tokens::new(&[TokenEntry {
                name: name.into(),
                sha256_hex: hash.into(),
                role: Role::Admin,
            }])
            .unwrap_err()
        };
        let good = token_sha256_hex("x");
        assert!(bad("", &good).contains("name"));
        let e = bad("a", &good[..63]);
        assert!(e.contains("64 hex") && !e.contains(&good[..63]), "{e}");
        assert!(bad("a", &format!("{}g", &good[..63])).contains("64 hex"));
        let dup = Tokens::new(&[
            TokenEntry {
                name: "a".into(),
                sha256_hex: good.clone(),
                role: Role::Admin,
            },
            TokenEntry {
                name: "a".into(),
                sha256_hex: good,
                role: Role::Admin,
            },
        ])
        .unwrap_err();
        assert!(dup.contains("twice"));
    }
}
