//! Crypto suites and SDES (RFC 4568) key parameters.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Longest MKI accepted, in bytes (RFC 4568 allows up to 128; real endpoints use 1 to 4).
pub const MAX_MKI_LEN: usize = 16;

/// An SRTP protection profile negotiated by SDES.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568): AES-128 counter mode, 80-bit HMAC-SHA1 tag.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568): 32-bit SRTP tag, 80-bit SRTCP tag.
    AesCm128HmacSha1_32,
    /// `AES_256_CM_HMAC_SHA1_80` (RFC 6188).
    AesCm256HmacSha1_80,
    /// `AES_256_CM_HMAC_SHA1_32` (RFC 6188): 32-bit SRTP tag, 80-bit SRTCP tag.
    AesCm256HmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714): 16-byte tag, 12-byte salt.
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714).
    AeadAes256Gcm,
}

impl Suite {
    /// Every supported suite, in the order of [`Suite::name`].
    pub const ALL: [Suite; 6] = [
        Suite::AesCm128HmacSha1_80,
        Suite::AesCm128HmacSha1_32,
        Suite::AesCm256HmacSha1_80,
        Suite::AesCm256HmacSha1_32,
        Suite::AeadAes128Gcm,
        Suite::AeadAes256Gcm,
    ];

    /// Parses an SDES suite name such as `AES_CM_128_HMAC_SHA1_80` (case-insensitive; the RFC 6188
    /// spelling `AES_CM_256_...` is accepted too).
    pub fn from_name(name: &str) -> Result<Suite> {
        let n = name.trim();
        let up = |s: &str| n.eq_ignore_ascii_case(s);
        Ok(if up("AES_CM_128_HMAC_SHA1_80") {
            Suite::AesCm128HmacSha1_80
        } else if up("AES_CM_128_HMAC_SHA1_32") {
            Suite::AesCm128HmacSha1_32
        } else if up("AES_256_CM_HMAC_SHA1_80") || up("AES_CM_256_HMAC_SHA1_80") {
            Suite::AesCm256HmacSha1_80
        } else if up("AES_256_CM_HMAC_SHA1_32") || up("AES_CM_256_HMAC_SHA1_32") {
            Suite::AesCm256HmacSha1_32
        } else if up("AEAD_AES_128_GCM") {
            Suite::AeadAes128Gcm
        } else if up("AEAD_AES_256_GCM") {
            Suite::AeadAes256Gcm
        } else {
            return Err(Error::UnknownSuite(n.chars().take(64).collect()));
        })
    }

    /// The SDES name of the suite.
    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Suite::AesCm256HmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            Suite::AesCm256HmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
            Suite::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Suite::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// Master (and session) encryption key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_80 | Suite::AesCm128HmacSha1_32 | Suite::AeadAes128Gcm => 16,
            _ => 32,
        }
    }

    /// Master (and session) salt length in bytes: 14 for AES-CM, 12 for AES-GCM.
    pub fn salt_len(self) -> usize {
        if self.is_aead() {
            12
        } else {
            14
        }
    }

    /// Whether the suite is an AEAD (GCM) suite.
    pub fn is_aead(self) -> bool {
        matches!(self, Suite::AeadAes128Gcm | Suite::AeadAes256Gcm)
    }

    /// Authentication tag length of SRTP packets.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_32 | Suite::AesCm256HmacSha1_32 => 4,
            Suite::AeadAes128Gcm | Suite::AeadAes256Gcm => 16,
            _ => 10,
        }
    }

    /// Authentication tag length of SRTCP packets (80 bits even for the `_32` suites).
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() {
            16
        } else {
            10
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Master Key Identifier as carried in packets: `len` big-endian bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mki {
    bytes: [u8; MAX_MKI_LEN],
    len: u8,
}

impl Mki {
    /// Builds an MKI from its SDES form `value:length` (value as an integer, length in bytes).
    pub fn new(value: u64, len: usize) -> Result<Mki> {
        if len == 0 || len > MAX_MKI_LEN {
            return Err(Error::BadKeyParams("MKI length must be 1..=16 bytes"));
        }
        if len < 8 && value >> (8 * len) != 0 {
            return Err(Error::BadKeyParams("MKI value does not fit its length"));
        }
        let mut bytes = [0u8; MAX_MKI_LEN];
        let be = value.to_be_bytes();
        let n = len.min(8);
        bytes[len - n..len].copy_from_slice(&be[8 - n..]);
        Ok(Mki {
            bytes,
            len: len as u8,
        })
    }

    /// The MKI bytes as they appear in a packet.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// MKI length in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Always false (an MKI has at least one byte); present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Mki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mki(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// One master key + salt with its optional lifetime and MKI. Zeroized on drop, redacted in Debug.
#[derive(Clone)]
pub struct MasterKey {
    pub(crate) key: [u8; 32],
    pub(crate) salt: [u8; 14],
    pub(crate) key_len: u8,
    pub(crate) salt_len: u8,
    lifetime: Option<u64>,
    mki: Option<Mki>,
}

impl MasterKey {
    /// Builds a master key from raw bytes (`key_and_salt` = key followed by salt, as in SDES).
    pub fn from_bytes(suite: Suite, key_and_salt: &[u8], mki: Option<Mki>) -> Result<MasterKey> {
        let (kl, sl) = (suite.key_len(), suite.salt_len());
        if key_and_salt.len() != kl + sl {
            return Err(Error::BadKeyLength {
                got: key_and_salt.len(),
                want: kl + sl,
            });
        }
        let mut key = [0u8; 32];
        let mut salt = [0u8; 14];
        key[..kl].copy_from_slice(&key_and_salt[..kl]);
        salt[..sl].copy_from_slice(&key_and_salt[kl..]);
        Ok(MasterKey {
            key,
            salt,
            key_len: kl as u8,
            salt_len: sl as u8,
            lifetime: None,
            mki,
        })
    }

    /// Key lifetime in packets, if the key parameters gave one.
    pub fn lifetime(&self) -> Option<u64> {
        self.lifetime
    }

    /// The MKI that packets protected with this key carry, if any.
    pub fn mki(&self) -> Option<Mki> {
        self.mki
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key[..self.key_len as usize]
    }

    pub(crate) fn salt(&self) -> &[u8] {
        &self.salt[..self.salt_len as usize]
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.key.zeroize();
        self.salt.zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

/// A suite with one or more master keys (several `inline:` key parameters, told apart by MKI).
#[derive(Clone, Debug)]
pub struct KeyParams {
    suite: Suite,
    keys: Vec<MasterKey>,
}

fn b64() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

impl KeyParams {
    /// Builds parameters from one raw master key.
    pub fn new(suite: Suite, key: MasterKey) -> KeyParams {
        KeyParams {
            suite,
            keys: vec![key],
        }
    }

    /// Parses SDES key parameters (RFC 4568 §6.1) for `suite`:
    /// `inline:<base64 key||salt>[|lifetime][|mki-value:mki-length]`, several separated by `;`.
    /// Base64 is accepted with or without padding; lifetime as a decimal or `2^n`.
    pub fn parse_sdes(suite: &str, key_params: &str) -> Result<KeyParams> {
        let suite = Suite::from_name(suite)?;
        let mut keys = Vec::new();
        // Session parameters (e.g. `KDR=`) may follow after whitespace: they are not key params.
        let kp = key_params.split_ascii_whitespace().next().unwrap_or("");
        for one in kp.split(';').filter(|s| !s.is_empty()) {
            keys.push(parse_one(suite, one)?);
        }
        if keys.is_empty() {
            return Err(Error::BadKeyParams("no inline: key parameter"));
        }
        if keys.len() > 1 && keys.iter().any(|k| k.mki.is_none()) {
            return Err(Error::BadKeyParams("several keys but not all carry an MKI"));
        }
        if let Some(first) = keys.iter().find_map(|k| k.mki) {
            if keys
                .iter()
                .any(|k| k.mki.map(|m| m.len()) != Some(first.len()))
            {
                return Err(Error::BadKeyParams("MKI lengths differ between keys"));
            }
        }
        Ok(KeyParams { suite, keys })
    }

    /// The negotiated suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The master keys, in the order given.
    pub fn keys(&self) -> &[MasterKey] {
        &self.keys
    }
}

fn parse_one(suite: Suite, text: &str) -> Result<MasterKey> {
    let rest = text.strip_prefix("inline:").ok_or(Error::BadKeyParams(
        "key parameter does not start with inline:",
    ))?;
    let mut parts = rest.split('|');
    let b64text = parts.next().unwrap_or("");
    // Parse the non-secret fields first, so no early return leaves key bytes on the stack.
    let mut lifetime = None;
    let mut mki = None;
    for p in parts {
        if let Some((v, l)) = p.split_once(':') {
            if mki.is_some() {
                return Err(Error::BadKeyParams("more than one MKI field"));
            }
            let v: u64 = v
                .parse()
                .map_err(|_| Error::BadKeyParams("MKI value is not a number"))?;
            let l: usize = l
                .parse()
                .map_err(|_| Error::BadKeyParams("MKI length is not a number"))?;
            mki = Some(Mki::new(v, l)?);
        } else {
            let lt = if let Some(exp) = p.strip_prefix("2^") {
                exp.parse::<u32>()
                    .ok()
                    .filter(|e| *e < 64)
                    .map(|e| 1u64 << e)
            } else {
                p.parse::<u64>().ok()
            };
            match lt {
                Some(lt) if lifetime.is_none() && mki.is_none() => lifetime = Some(lt),
                _ => return Err(Error::BadKeyParams("bad key lifetime")),
            }
        }
    }
    let want = suite.key_len() + suite.salt_len();
    let mut buf = [0u8; 64];
    let res = match b64().decode_slice(b64text.as_bytes(), &mut buf) {
        Ok(n) => MasterKey::from_bytes(suite, &buf[..n], mki),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => Err(Error::BadKeyLength {
            got: b64text.len() * 3 / 4,
            want,
        }),
        Err(_) => Err(Error::BadKeyParams("key is not valid base64")),
    };
    buf.zeroize();
    let mut k = res?;
    k.lifetime = lifetime;
    Ok(k)
}
