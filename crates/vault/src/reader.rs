//! Reading: a [`Decryptor`] opens any chunk on its own (for byte ranges), [`scan`] walks a whole file and
//! says where and why it stops (for strict reads and for crash recovery).

use crate::format::{open_file, ChunkCipher, Frame, FRAME_LEN, TAG_LEN};
use crate::key::Keyring;
use crate::VaultError;

/// How far around a failing chunk's position [`Decryptor::open_chunk`] looks for the position it was
/// sealed for (to tell "reordered or removed" from "altered").
const MISPLACED_WINDOW: u32 = 16;

/// The opened header of one file: decrypts its chunks independently of each other.
pub struct Decryptor {
    cipher: ChunkCipher,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("header_len", &self.header_len())
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// Parses the header at the start of `bytes` and unwraps the data key with the ring's key of its id.
    pub fn open(bytes: &[u8], keys: &Keyring) -> Result<Decryptor, VaultError> {
        Ok(Decryptor {
            cipher: open_file(bytes, keys)?,
        })
    }

    /// Bytes of the header: the first chunk record starts here.
    pub fn header_len(&self) -> usize {
        self.cipher.header().len()
    }

    /// Largest plaintext of one chunk.
    pub fn chunk_size(&self) -> u32 {
        self.cipher.chunk_size
    }

    /// Reads the length field of the record at `offset`, checking it against the chunk size.
    pub fn frame(
        &self,
        index: u32,
        offset: u64,
        field: [u8; FRAME_LEN],
    ) -> Result<Frame, VaultError> {
        let f = Frame::parse(field);
        if f.plain_len > self.cipher.chunk_size {
            return Err(VaultError::ChunkTooLong {
                index,
                offset,
                len: f.plain_len,
                max: self.cipher.chunk_size,
            });
        }
        Ok(f)
    }

    /// Decrypts in place the record (length field, ciphertext, tag) of chunk `index` found at byte `offset`;
    /// returns its plaintext (the record's bytes after the length field) and its frame.
    pub fn open_chunk<'a>(
        &self,
        index: u32,
        offset: u64,
        record: &'a mut [u8],
    ) -> Result<(&'a [u8], Frame), VaultError> {
        if record.len() < FRAME_LEN {
            return Err(VaultError::ChunkTruncated {
                index,
                offset,
                have: record.len() as u64,
                need: (FRAME_LEN + TAG_LEN) as u64,
            });
        }
        let frame = self.frame(index, offset, [record[0], record[1], record[2], record[3]])?;
        let need = frame.record_len();
        if (record.len() as u64) < need {
            return Err(VaultError::ChunkTruncated {
                index,
                offset,
                have: record.len() as u64,
                need,
            });
        }
        let body = &mut record[FRAME_LEN..need as usize];
        if self.cipher.open(index, frame.last, body) {
            return Ok((&body[..frame.plain_len as usize], frame));
        }
        // error path: was it sealed for another position?
        let lo = index.saturating_sub(MISPLACED_WINDOW);
        let hi = index.saturating_add(MISPLACED_WINDOW);
        for actual in (lo..=hi).filter(|&c| c != index) {
            let mut copy = body.to_vec();
            if self.cipher.open(actual, frame.last, &mut copy) {
                return Err(VaultError::ChunkMisplaced {
                    index,
                    offset,
                    actual,
                });
            }
        }
        Err(VaultError::ChunkAuth { index, offset })
    }

    /// The record of an empty final chunk at position `index`: appended by crash recovery to finish a file
    /// whose writer died (nonce `index`/final was never used: a file with a final chunk is never recovered).
    pub fn final_marker(&self, index: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_LEN + TAG_LEN);
        self.cipher.seal(index, true, &[], &mut out);
        out
    }
}

/// What [`scan`] found in a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Plaintext of every chunk that authenticated, in order.
    pub plain: Vec<u8>,
    /// Chunks that authenticated.
    pub chunks: u32,
    /// Bytes of the file up to the end of the last chunk that authenticated.
    pub valid_len: u64,
    /// The final chunk was reached (and nothing follows it).
    pub finished: bool,
    /// Why the scan stopped early (a truncated, altered or misplaced chunk; data after the final chunk;
    /// the end of the file without a final chunk); `None` for a whole, finished file.
    pub stop: Option<VaultError>,
}

/// Decrypts every chunk of `bytes` (a whole file) that authenticates, stopping at the first that does not.
/// Header problems (not encrypted, unknown key id, wrong key) are errors; problems in the chunks are
/// reported in [`Scan::stop`] along with everything before them.
pub fn scan(bytes: &[u8], keys: &Keyring) -> Result<Scan, VaultError> {
    let d = Decryptor::open(bytes, keys)?;
    let mut out = Scan {
        plain: Vec::with_capacity(bytes.len()),
        chunks: 0,
        valid_len: d.header_len() as u64,
        finished: false,
        stop: None,
    };
    let mut at = d.header_len();
    let mut record = Vec::new();
    loop {
        if at == bytes.len() {
            out.stop = Some(VaultError::MissingFinal {
                chunks: out.chunks,
                plain_bytes: out.plain.len() as u64,
            });
            return Ok(out);
        }
        let rest = &bytes[at..];
        let need = if rest.len() >= FRAME_LEN {
            Frame::parse([rest[0], rest[1], rest[2], rest[3]]).record_len()
        } else {
            rest.len() as u64
        };
        record.clear();
        record.extend_from_slice(&rest[..(need.min(rest.len() as u64)) as usize]);
        match d.open_chunk(out.chunks, at as u64, &mut record) {
            Ok((plain, frame)) => {
                out.plain.extend_from_slice(plain);
                out.chunks += 1;
                at += frame.record_len() as usize;
                out.valid_len = at as u64;
                if frame.last {
                    out.finished = true;
                    if at < bytes.len() {
                        out.stop = Some(VaultError::TrailingData((bytes.len() - at) as u64));
                    }
                    return Ok(out);
                }
            }
            Err(e) => {
                out.stop = Some(e);
                return Ok(out);
            }
        }
    }
}

/// Decrypts a whole file, refusing anything short of a complete, unaltered stream.
pub fn decrypt(bytes: &[u8], keys: &Keyring) -> Result<Vec<u8>, VaultError> {
    let s = scan(bytes, keys)?;
    match s.stop {
        None => Ok(s.plain),
        Some(e) => Err(e),
    }
}
