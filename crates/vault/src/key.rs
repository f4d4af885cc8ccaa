//! Key-encryption keys (KEKs) with their ids, and the ring of keys a reader may need.

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::VaultError;

/// Longest key id a header can carry.
pub const MAX_KEY_ID_LEN: usize = 64;

/// A 256-bit key-encryption key and its id. `Debug` shows the id only.
#[derive(Clone)]
pub struct Kek {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}

fn check_id(id: &str) -> Result<(), VaultError> {
    if id.is_empty() || id.len() > MAX_KEY_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(VaultError::BadKeyId(id.to_owned()));
    }
    Ok(())
}

impl Kek {
    /// A key from its 32 bytes.
    pub fn new(id: &str, key: [u8; 32]) -> Result<Kek, VaultError> {
        check_id(id)?;
        Ok(Kek {
            id: id.to_owned(),
            key: Zeroizing::new(key),
        })
    }

    /// A key from the contents of a key file or environment variable: exactly 32 raw bytes, or (surrounding
    /// whitespace ignored) 64 hex digits, or the standard base64 of 32 bytes. Errors never echo the text.
    pub fn parse(id: &str, text: &[u8]) -> Result<Kek, VaultError> {
        check_id(id)?;
        let bad = |why| VaultError::BadKey {
            id: id.to_owned(),
            why,
        };
        let mut key = Zeroizing::new([0u8; 32]);
        if text.len() == 32 && std::str::from_utf8(text).map_or(true, |s| s.trim().len() != 32) {
            key.copy_from_slice(text);
            return Kek::new(id, *key);
        }
        let s = std::str::from_utf8(text)
            .map_err(|_| bad("neither 32 raw bytes nor text"))?
            .trim();
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            for (i, pair) in s.as_bytes().chunks(2).enumerate() {
                let hi = (pair[0] as char).to_digit(16).unwrap_or(0);
                let lo = (pair[1] as char).to_digit(16).unwrap_or(0);
                key[i] = (hi * 16 + lo) as u8;
            }
            return Kek::new(id, *key);
        }
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| bad("expected 32 raw bytes, 64 hex digits or base64 of 32 bytes"))?,
        );
        if decoded.len() != 32 {
            return Err(bad("the base64 text does not decode to 32 bytes"));
        }
        key.copy_from_slice(&decoded);
        Kek::new(id, *key)
    }

    /// The key's id (written into every file header it wraps a data key for).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

/// The keys a recorder knows: the current one (new files) and older ones (files written before a rotation).
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    keys: Vec<Kek>,
}

impl Keyring {
    /// A ring whose first key is the current one; later keys only read old files. Duplicate ids are refused.
    pub fn new(current: Kek, old: Vec<Kek>) -> Result<Keyring, VaultError> {
        let mut keys = vec![current];
        for k in old {
            if keys.iter().any(|have| have.id == k.id) {
                return Err(VaultError::BadKeyId(k.id));
            }
            keys.push(k);
        }
        Ok(Keyring { keys })
    }

    /// The key new files are written with.
    pub fn current(&self) -> Option<&Kek> {
        self.keys.first()
    }

    /// The key of id `id`.
    pub fn get(&self, id: &str) -> Option<&Kek> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Ids of every key (for messages).
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }
}
