//! The file header, the chunk record framing and the STREAM nonces (docs/encryption.md is the specification).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use zeroize::Zeroizing;

use crate::key::{Kek, Keyring, MAX_KEY_ID_LEN};
use crate::VaultError;

/// First bytes of every encrypted file.
pub const MAGIC: [u8; 8] = *b"RECVAULT";
/// Format version written and read.
pub const VERSION: u8 = 1;
/// Cipher suite 1: AES-256-GCM for chunks and for wrapping the data key.
pub const SUITE_AES256GCM: u8 = 1;
/// Default largest plaintext of one chunk.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Largest chunk size a header may announce.
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;
/// Bytes of the nonce prefix (the rest of the 96-bit nonce: 32-bit counter, 8-bit final flag).
pub const NONCE_PREFIX_LEN: usize = 7;
/// Bytes of the AEAD tag after each chunk's ciphertext.
pub const TAG_LEN: usize = 16;
/// Bytes of a chunk record's length field.
pub const FRAME_LEN: usize = 4;
/// Header bytes besides the key id.
const FIXED_HEADER: usize = 8 + 1 + 1 + 4 + 1 + NONCE_PREFIX_LEN + 12 + 32 + TAG_LEN;
/// Longest possible header.
pub const MAX_HEADER_LEN: usize = FIXED_HEADER + MAX_KEY_ID_LEN;
/// Bit of the length field that marks the final chunk.
const FINAL_BIT: u32 = 1 << 31;

/// Whether `bytes` (the start of a file) begin like an encrypted file.
pub fn is_vault(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] == MAGIC
}

/// The random values one file needs, supplied by the caller (e.g. from `getrandom`): a fresh data key, a
/// nonce prefix for the chunks and a nonce for wrapping the data key.
#[derive(Clone)]
pub struct FileRandom {
    /// The file's data key (encrypts the chunks).
    pub data_key: Zeroizing<[u8; 32]>,
    /// Nonce prefix of the chunks.
    pub nonce_prefix: [u8; NONCE_PREFIX_LEN],
    /// Nonce of the data-key wrap.
    pub wrap_nonce: [u8; 12],
}

/// Bytes of randomness [`FileRandom::from_bytes`] takes.
pub const FILE_RANDOM_LEN: usize = 32 + NONCE_PREFIX_LEN + 12;

impl FileRandom {
    /// Splits `FILE_RANDOM_LEN` random bytes into the key and nonces.
    pub fn from_bytes(bytes: &[u8; FILE_RANDOM_LEN]) -> FileRandom {
        let mut data_key = Zeroizing::new([0u8; 32]);
        data_key.copy_from_slice(&bytes[..32]);
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        nonce_prefix.copy_from_slice(&bytes[32..32 + NONCE_PREFIX_LEN]);
        let mut wrap_nonce = [0u8; 12];
        wrap_nonce.copy_from_slice(&bytes[32 + NONCE_PREFIX_LEN..]);
        FileRandom {
            data_key,
            nonce_prefix,
            wrap_nonce,
        }
    }
}

/// One chunk record's length field: plaintext bytes and whether it is the final chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Plaintext bytes of the chunk (the record holds this plus [`TAG_LEN`]).
    pub plain_len: u32,
    /// The final chunk of the stream.
    pub last: bool,
}

impl Frame {
    /// Reads a length field.
    pub fn parse(field: [u8; FRAME_LEN]) -> Frame {
        let v = u32::from_be_bytes(field);
        Frame {
            plain_len: v & !FINAL_BIT,
            last: v & FINAL_BIT != 0,
        }
    }

    /// Bytes of the whole record (length field, ciphertext, tag).
    pub fn record_len(self) -> u64 {
        FRAME_LEN as u64 + u64::from(self.plain_len) + TAG_LEN as u64
    }

    fn encode(self) -> [u8; FRAME_LEN] {
        (self.plain_len | if self.last { FINAL_BIT } else { 0 }).to_be_bytes()
    }
}

fn nonce(prefix: &[u8; NONCE_PREFIX_LEN], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..NONCE_PREFIX_LEN].copy_from_slice(prefix);
    n[NONCE_PREFIX_LEN..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

/// The chunk cipher of one file: its data key, nonce prefix and header (the associated data of every chunk).
pub(crate) struct ChunkCipher {
    aead: Aes256Gcm,
    prefix: [u8; NONCE_PREFIX_LEN],
    header: Vec<u8>,
    pub(crate) chunk_size: u32,
}

impl ChunkCipher {
    /// Appends chunk `counter` (a record: length field, ciphertext, tag) sealing `plain` to `out`.
    pub(crate) fn seal(&self, counter: u32, last: bool, plain: &[u8], out: &mut Vec<u8>) {
        let frame = Frame {
            plain_len: plain.len() as u32,
            last,
        };
        out.extend_from_slice(&frame.encode());
        let start = out.len();
        out.extend_from_slice(plain);
        let n = nonce(&self.prefix, counter, last);
        // AES-GCM fails only for plaintexts beyond 64 GiB; chunks are at most MAX_CHUNK_SIZE
        let tag = self
            .aead
            .encrypt_in_place_detached(Nonce::from_slice(&n), &self.header, &mut out[start..])
            .unwrap_or_default();
        out.extend_from_slice(&tag);
    }

    /// Decrypts the body (ciphertext + tag) of chunk `counter` in place; the plaintext is its first bytes.
    pub(crate) fn open(&self, counter: u32, last: bool, body: &mut [u8]) -> bool {
        if body.len() < TAG_LEN {
            return false;
        }
        let (ct, tag) = body.split_at_mut(body.len() - TAG_LEN);
        let n = nonce(&self.prefix, counter, last);
        self.aead
            .decrypt_in_place_detached(
                Nonce::from_slice(&n),
                &self.header,
                ct,
                Tag::from_slice(tag),
            )
            .is_ok()
    }

    /// The encoded header.
    pub(crate) fn header(&self) -> &[u8] {
        &self.header
    }
}

/// Builds the header for a new file and its chunk cipher.
pub(crate) fn new_file(
    kek: &Kek,
    random: &FileRandom,
    chunk_size: u32,
) -> Result<ChunkCipher, VaultError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(VaultError::BadHeader("chunk size must be 1 byte to 16 MiB"));
    }
    let id = kek.id().as_bytes();
    let mut header = Vec::with_capacity(FIXED_HEADER + id.len());
    header.extend_from_slice(&MAGIC);
    header.push(VERSION);
    header.push(SUITE_AES256GCM);
    header.extend_from_slice(&chunk_size.to_be_bytes());
    header.push(id.len() as u8);
    header.extend_from_slice(id);
    header.extend_from_slice(&random.nonce_prefix);
    header.extend_from_slice(&random.wrap_nonce);
    let wrap_aad = header.clone();
    let start = header.len();
    header.extend_from_slice(&random.data_key[..]);
    let wrapper = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(kek.bytes()));
    let tag = wrapper
        .encrypt_in_place_detached(
            Nonce::from_slice(&random.wrap_nonce),
            &wrap_aad,
            &mut header[start..],
        )
        .unwrap_or_default();
    header.extend_from_slice(&tag);
    Ok(ChunkCipher {
        aead: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&random.data_key[..])),
        prefix: random.nonce_prefix,
        header,
        chunk_size,
    })
}

/// The parsed header fields, before any key is involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Id of the key-encryption key that wrapped the data key.
    pub key_id: String,
    /// Largest plaintext of one chunk.
    pub chunk_size: u32,
    /// Bytes of the header (the first chunk record starts here).
    pub len: usize,
}

/// Reads the header fields at the start of `bytes` (which may hold more of the file).
pub fn header_info(bytes: &[u8]) -> Result<HeaderInfo, VaultError> {
    let truncated = |need| VaultError::HeaderTruncated {
        have: bytes.len(),
        need,
    };
    if bytes.len() < MAGIC.len() {
        return if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            Err(truncated(FIXED_HEADER))
        } else {
            Err(VaultError::NotVault)
        };
    }
    if !is_vault(bytes) {
        return Err(VaultError::NotVault);
    }
    if bytes.len() < 15 {
        return Err(truncated(FIXED_HEADER));
    }
    if bytes[8] != VERSION {
        return Err(VaultError::UnsupportedVersion(bytes[8]));
    }
    if bytes[9] != SUITE_AES256GCM {
        return Err(VaultError::BadHeader("unknown cipher suite"));
    }
    let chunk_size = u32::from_be_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(VaultError::BadHeader("chunk size must be 1 byte to 16 MiB"));
    }
    let id_len = usize::from(bytes[14]);
    if id_len == 0 || id_len > MAX_KEY_ID_LEN {
        return Err(VaultError::BadHeader("key id length must be 1 to 64"));
    }
    let len = FIXED_HEADER + id_len;
    if bytes.len() < len {
        return Err(truncated(len));
    }
    let id = &bytes[15..15 + id_len];
    if !id.iter().all(|b| b.is_ascii_graphic()) {
        return Err(VaultError::BadHeader("key id is not printable ASCII"));
    }
    Ok(HeaderInfo {
        key_id: String::from_utf8_lossy(id).into_owned(),
        chunk_size,
        len,
    })
}

/// Parses the header at the start of `bytes` and unwraps the data key with the ring's key of its id.
pub(crate) fn open_file(bytes: &[u8], keys: &Keyring) -> Result<ChunkCipher, VaultError> {
    let info = header_info(bytes)?;
    let kek = keys
        .get(&info.key_id)
        .ok_or_else(|| VaultError::UnknownKeyId(info.key_id.clone()))?;
    let id_end = 15 + info.key_id.len();
    let mut prefix = [0u8; NONCE_PREFIX_LEN];
    prefix.copy_from_slice(&bytes[id_end..id_end + NONCE_PREFIX_LEN]);
    let wrap_nonce = &bytes[id_end + NONCE_PREFIX_LEN..id_end + NONCE_PREFIX_LEN + 12];
    let wrap_aad = &bytes[..id_end + NONCE_PREFIX_LEN + 12];
    let mut data_key = Zeroizing::new([0u8; 32]);
    data_key.copy_from_slice(&bytes[wrap_aad.len()..wrap_aad.len() + 32]);
    let tag = &bytes[wrap_aad.len() + 32..info.len];
    let wrapper = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(kek.bytes()));
    wrapper
        .decrypt_in_place_detached(
            Nonce::from_slice(wrap_nonce),
            wrap_aad,
            &mut data_key[..],
            Tag::from_slice(tag),
        )
        .map_err(|_| VaultError::Unwrap(info.key_id.clone()))?;
    Ok(ChunkCipher {
        aead: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key[..])),
        prefix,
        header: bytes[..info.len].to_vec(),
        chunk_size: info.chunk_size,
    })
}
