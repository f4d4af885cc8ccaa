//! Tamper-evident recording manifests (pure: bytes, digests and keys in, bytes and findings out).
//!
//! Every finalised recording gets a [`Manifest`]: the SHA-256 of each of its files as stored, its call
//! metadata and stream counters, the time it was sealed, its sequence number in the node's chain and the
//! SHA-256 of the previous manifest's bytes (a hash chain per node). The manifest is written as canonical
//! JSON ([`Manifest::to_bytes`]: sorted keys, no spaces, one trailing newline) and signed with Ed25519
//! (a detached 64-byte signature over exactly those bytes). A recording deleted by retention gets a
//! deletion entry in the same chain, so a deletion is provable and a silent one detectable.
//!
//! [`verify_chain`] checks the signatures, the sequence and the links; [`check_recording`] compares one
//! recording's files and catalog row with its manifest. Both return [`Finding`]s whose messages name the
//! item and what is wrong with it. The format is documented for auditors in `docs/manifests.md`.

#![forbid(unsafe_code)]

mod canonical;
mod keys;
mod verify;

pub use canonical::canonical_json;
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use keys::{
    parse_signing_key, public_key_pem, signing_key_pem, verifying_key_from_pem, KeyError,
};
pub use verify::{
    check_recording, deletions, verify_chain, ChainEntry, ChainReport, Finding, FindingKind,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `format` value of every manifest this version writes.
pub const FORMAT: &str = "rec-seal/1";

/// The `prev` of the first manifest of a chain: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The key id written into manifests: the first 16 hex digits of the SHA-256 of the raw public key.
pub fn key_id(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())[..16].to_owned()
}

/// One file of a recording as stored on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Path relative to the recordings directory, `/`-separated (`2026-11-29/100000_abc_0123.wav`).
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// One media stream's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamFacts {
    /// `caller`, `callee` or another label.
    pub direction: String,
    /// RTP SSRC.
    pub ssrc: u32,
    /// Codec name.
    pub codec: String,
    /// Packets received.
    pub packets: u64,
    /// Packets lost.
    pub lost: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Packets that failed SRTP authentication or decryption.
    pub decrypt_failures: u64,
}

/// The call metadata a manifest seals (and that the catalog row must still show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFacts {
    /// Catalog row id.
    pub catalog_id: i64,
    /// SIP Call-ID.
    pub call_id: String,
    /// `Ms-Conversation-ID`.
    pub conversation_id: Option<String>,
    /// From URI.
    pub from_uri: String,
    /// From number (E.164 when known).
    pub from_number: Option<String>,
    /// To URI.
    pub to_uri: String,
    /// To number.
    pub to_number: Option<String>,
    /// Call start, unix µs.
    pub started_at_us: i64,
    /// Answer time, unix µs.
    pub answered_at_us: Option<i64>,
    /// Call end, unix µs.
    pub ended_at_us: Option<i64>,
    /// Why the call ended.
    pub end_reason: Option<String>,
    /// Recording status (`complete`, `partial`, `interrupted`, …).
    pub status: String,
    /// `wav` or `opus`.
    pub format: Option<String>,
    /// Audio channels.
    pub channels: u16,
    /// Audio sample rate.
    pub sample_rate: u32,
    /// Media streams with their counters.
    pub streams: Vec<StreamFacts>,
}

impl CallFacts {
    /// `(field, value in the catalog, value in the manifest)` of every field where `catalog` differs from
    /// `self` (the manifest's), values rendered as JSON.
    pub fn differences(&self, catalog: &CallFacts) -> Vec<(String, String, String)> {
        let (Ok(serde_json::Value::Object(mine)), Ok(serde_json::Value::Object(theirs))) =
            (serde_json::to_value(self), serde_json::to_value(catalog))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut keys: Vec<&String> = mine.keys().collect();
        keys.sort();
        for k in keys {
            let a = &mine[k];
            let b = theirs.get(k).unwrap_or(&serde_json::Value::Null);
            if a != b {
                out.push((k.clone(), b.to_string(), a.to_string()));
            }
        }
        out
    }
}

/// What a manifest attests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Body {
    /// A finalised (or, with `interrupted`, recovered) recording.
    Recording {
        /// The call (boxed: far larger than a deletion).
        call: Box<CallFacts>,
        /// The recording was cut short by a crash or restart and recovered at the next start.
        interrupted: bool,
        /// Its files, sorted by path.
        files: Vec<FileDigest>,
    },
    /// A recording deleted (by retention or an operator): its files and catalog row are gone on purpose.
    Deletion {
        /// Sequence number of the deleted recording's manifest.
        deleted_seq: u64,
        /// SHA-256 of that manifest's bytes.
        deleted_manifest_sha256: String,
        /// Its catalog row id.
        catalog_id: i64,
        /// Its Call-ID.
        call_id: String,
        /// Why (`retention: kept 90 days (default_days)`).
        reason: String,
        /// The paths deleted.
        files: Vec<String>,
    },
}

/// One chain entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The node whose chain this is (`[integrity] node_id`).
    pub node_id: String,
    /// [`key_id`] of the signing key.
    pub key_id: String,
    /// Position in the chain, from 1.
    pub seq: u64,
    /// SHA-256 (hex) of the previous manifest's bytes; [`GENESIS`] for seq 1.
    pub prev: String,
    /// When it was sealed, unix µs.
    pub sealed_at_us: i64,
    /// What it attests.
    pub body: Body,
}

impl Manifest {
    /// The canonical bytes that are hashed, chained and signed: canonical JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let mut s = canonical_json(&value);
        s.push('\n');
        s.into_bytes()
    }

    /// Reads manifest bytes; an error says what is wrong with them.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
        if m.format != FORMAT {
            return Err(format!("format {:?} is not {FORMAT:?}", m.format));
        }
        Ok(m)
    }

    /// The signed manifest: bytes and detached signature.
    pub fn seal(&self, key: &SigningKey) -> (Vec<u8>, [u8; 64]) {
        use ed25519_dalek::Signer;
        let bytes = self.to_bytes();
        let sig = key.sign(&bytes).to_bytes();
        (bytes, sig)
    }
}

/// Whether `sig` is `key`'s Ed25519 signature of `bytes` (strict verification, RFC 8032).
pub fn signature_valid(key: &VerifyingKey, bytes: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    key.verify_strict(bytes, &sig).is_ok()
}
