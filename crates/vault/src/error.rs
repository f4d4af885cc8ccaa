//! What can be wrong with an encrypted file or a key; messages name the place and never carry key bytes.

/// Why a key or an encrypted file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The bytes do not start with the format's magic.
    #[error("not an encrypted recording (no RECVAULT magic at the start)")]
    NotVault,
    /// A format version this build does not know.
    #[error("encrypted file format version {0} is not supported (this recorder reads version 1)")]
    UnsupportedVersion(u8),
    /// The header is shorter than it says.
    #[error("the encryption header is cut short ({have} of {need} bytes): the file was truncated")]
    HeaderTruncated {
        /// Bytes present.
        have: usize,
        /// Bytes the header needs.
        need: usize,
    },
    /// A header field holds a value the format forbids.
    #[error("the encryption header is malformed: {0}")]
    BadHeader(&'static str),
    /// The file was written under a key id the key ring does not hold.
    #[error("the file is encrypted with key id {0:?}, which is not configured (add it to [encryption] old_keys)")]
    UnknownKeyId(String),
    /// The data key does not authenticate under the configured key of that id.
    #[error("the file's data key does not unwrap with key id {0:?}: wrong key for this id, or the header was altered")]
    Unwrap(String),
    /// A chunk's ciphertext, tag, length or final flag was changed (or it comes from another file).
    #[error("chunk {index} at byte {offset} fails authentication: its bytes were altered")]
    ChunkAuth {
        /// Chunk number (0 = first).
        index: u32,
        /// Byte offset of the chunk's record in the file.
        offset: u64,
    },
    /// A chunk authenticates, but as another position of the stream.
    #[error("chunk {index} at byte {offset} is chunk {actual} of the stream: chunks were removed or reordered")]
    ChunkMisplaced {
        /// Position where it was found.
        index: u32,
        /// Byte offset of the chunk's record.
        offset: u64,
        /// Position it was sealed for.
        actual: u32,
    },
    /// The file ends inside a chunk.
    #[error("chunk {index} at byte {offset} is cut short ({have} of {need} bytes): the file was truncated")]
    ChunkTruncated {
        /// Chunk number.
        index: u32,
        /// Byte offset of the chunk's record.
        offset: u64,
        /// Bytes present from the record's start.
        have: u64,
        /// Bytes the record needs.
        need: u64,
    },
    /// A chunk claims more plaintext than the header's chunk size.
    #[error("chunk {index} at byte {offset} claims {len} bytes, more than the chunk size {max}")]
    ChunkTooLong {
        /// Chunk number.
        index: u32,
        /// Byte offset of the chunk's record.
        offset: u64,
        /// Claimed plaintext length.
        len: u32,
        /// The header's chunk size.
        max: u32,
    },
    /// The stream ends without its final chunk.
    #[error("no final chunk after {chunks} chunks ({plain_bytes} bytes of audio/data): the file was truncated or is still being written")]
    MissingFinal {
        /// Complete chunks present.
        chunks: u32,
        /// Plaintext bytes in them.
        plain_bytes: u64,
    },
    /// Bytes follow the final chunk.
    #[error("{0} bytes follow the final chunk: data was appended after the file was finished")]
    TrailingData(u64),
    /// A key is not 32 bytes (raw, 64 hex digits or base64).
    #[error("key {id:?} is not a 256-bit key: {why}")]
    BadKey {
        /// The key's id.
        id: String,
        /// What is wrong (never the key itself).
        why: &'static str,
    },
    /// A key id that cannot be written into a header.
    #[error("key id {0:?} must be 1 to 64 printable ASCII characters")]
    BadKeyId(String),
    /// The stream has used every chunk counter (2^32 chunks).
    #[error("the encrypted stream has reached 2^32 chunks; start a new file")]
    TooLong,
    /// The stream was already finished.
    #[error("the encrypted stream is already finished")]
    Finished,
}
