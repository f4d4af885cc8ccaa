//! Encryption at rest for recordings, RTP captures and the signaling journal: a chunked streaming AEAD file
//! format in the manner of age / Tink streaming AEAD (the STREAM construction of Hoang, Reyhanitabar,
//! Rogaway and Vizár), on RustCrypto's AES-256-GCM. No home-made cipher; specification in
//! docs/encryption.md.
//!
//! * Every file gets a fresh 256-bit data key, wrapped (AES-256-GCM) by a key-encryption key named by its id
//!   in the header, so keys can be rotated and old files stay readable with old keys ([`Keyring`]).
//! * Plaintext is sealed in chunks of at most the header's chunk size; the nonce is a per-file random prefix,
//!   the chunk's counter and a final-chunk flag, and the header is the associated data of every chunk, so
//!   truncation, reordering, removal, splicing from another file and bit flips are detected ([`VaultError`]).
//! * Chunks are variable-length (a length field precedes each), so a writer can seal a short chunk at every
//!   flush: after a crash every sealed chunk stays decryptable and recovery appends a final marker.
//! * Any chunk decrypts on its own ([`Decryptor::open_chunk`]): byte ranges need only their chunks.
//!
//! Pure: no files or clocks; the caller supplies the randomness ([`FileRandom`]) and does the IO.

#![forbid(unsafe_code)]

mod error;
mod format;
mod key;
mod reader;
mod writer;

pub use error::VaultError;
pub use format::{
    header_info, is_vault, FileRandom, Frame, HeaderInfo, DEFAULT_CHUNK_SIZE, FILE_RANDOM_LEN,
    FRAME_LEN, MAGIC, MAX_CHUNK_SIZE, MAX_HEADER_LEN, NONCE_PREFIX_LEN, SUITE_AES256GCM, TAG_LEN,
    VERSION,
};
pub use key::{Kek, Keyring, MAX_KEY_ID_LEN};
pub use reader::{decrypt, scan, Decryptor, Scan};
pub use writer::StreamWriter;
