//! Reading encrypted recordings (rec-vault streams, docs/encryption.md) without decrypting whole files: an
//! index of the chunk records (their length fields only), then the chunks a byte range needs.
//!
//! The representation served is the plaintext, except that a WAV file's RIFF and data sizes — written once
//! as 0 because an encrypted file is append-only and its header is never patched — are filled in from the
//! decrypted length (whole sample frames). Used by the API's audio download and by `recorder export`.

use std::fs::File;
use std::os::unix::fs::FileExt;

use rec_vault::{Decryptor, Keyring, VaultError, FRAME_LEN, MAX_HEADER_LEN};

/// Why an encrypted file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The header or a chunk does not decrypt.
    #[error("{0}")]
    Vault(#[from] VaultError),
    /// The file is encrypted, and no key is configured.
    #[error("the file is encrypted and no key is configured ([encryption] kek_file / kek_env / old_keys)")]
    NoKeys,
}

/// Whether `file` starts with the encrypted format's magic.
pub fn is_sealed(file: &File) -> std::io::Result<bool> {
    let mut head = [0u8; 8];
    match file.read_exact_at(&mut head, 0) {
        Ok(()) => Ok(rec_vault::is_vault(&head)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    /// Byte offset of the record in the file.
    offset: u64,
    /// Offset of its first plaintext byte in the plaintext.
    plain_start: u64,
    /// Plaintext bytes.
    plain_len: u32,
}

/// An encrypted file opened for random access.
pub struct SealedFile {
    file: File,
    dec: Decryptor,
    chunks: Vec<Chunk>,
    plain_len: u64,
    /// The stream's final chunk was found (a finished file).
    finished: bool,
    /// A record cut by the end of the file (the index stops before it).
    cut: Option<VaultError>,
    /// Bytes served (the plaintext length, cut to whole WAV frames for a WAV).
    len: u64,
    /// A WAV header with the sizes filled in, laid over the first bytes.
    wav_header: Option<[u8; 44]>,
}

impl std::fmt::Debug for SealedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedFile")
            .field("chunks", &self.chunks.len())
            .field("len", &self.len)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl SealedFile {
    /// Opens the header (unwrapping the data key) and indexes the chunk records present in full. A file still
    /// being written (or cut short) is indexed up to its last complete record; [`SealedFile::finished`] says
    /// whether the final chunk was reached.
    pub fn open(file: File, keys: Option<&Keyring>) -> Result<SealedFile, SealedError> {
        let size = file.metadata()?.len();
        let mut head = vec![0u8; (MAX_HEADER_LEN as u64).min(size) as usize];
        file.read_exact_at(&mut head, 0)?;
        if !rec_vault::is_vault(&head) {
            return Err(VaultError::NotVault.into());
        }
        let keys = keys.ok_or(SealedError::NoKeys)?;
        let dec = Decryptor::open(&head, keys)?;
        let mut chunks = Vec::new();
        let mut at = dec.header_len() as u64;
        let mut plain = 0u64;
        let mut finished = false;
        let mut cut = None;
        while at < size {
            let index = chunks.len() as u32;
            let mut field = [0u8; FRAME_LEN];
            let need = if at + FRAME_LEN as u64 <= size {
                file.read_exact_at(&mut field, at)?;
                dec.frame(index, at, field)?.record_len()
            } else {
                (FRAME_LEN + rec_vault::TAG_LEN) as u64
            };
            if at + need > size {
                // the record being written, or a cut
                cut = Some(VaultError::ChunkTruncated {
                    index,
                    offset: at,
                    have: size - at,
                    need,
                });
                break;
            }
            let frame = dec.frame(index, at, field)?;
            chunks.push(Chunk {
                offset: at,
                plain_start: plain,
                plain_len: frame.plain_len,
            });
            plain += u64::from(frame.plain_len);
            at += frame.record_len();
            if frame.last {
                finished = true;
                break;
            }
        }
        let mut s = SealedFile {
            file,
            dec,
            chunks,
            plain_len: plain,
            finished,
            cut,
            len: plain,
            wav_header: None,
        };
        s.fix_wav()?;
        Ok(s)
    }

    fn fix_wav(&mut self) -> Result<(), SealedError> {
        if self.plain_len < 44 {
            return Ok(());
        }
        let head = self.read_plain(0, 44)?;
        if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" || &head[36..40] != b"data" {
            return Ok(());
        }
        let block = u64::from(u16::from_le_bytes([head[32], head[33]]).max(1));
        // a finished file ends with the call's LIST/INFO tags after the samples (rec_audio::RecordingTags)
        let tags = if self.finished {
            let n = (rec_audio::MAX_RIFF_INFO_LEN as u64).min(self.plain_len - 44);
            let tail = self.read_plain(self.plain_len - n, n)?;
            rec_audio::trailing_riff_info_len(&tail).unwrap_or(0) as u64
        } else {
            0
        };
        let data =
            ((self.plain_len - 44 - tags) / block * block).min(u64::from(u32::MAX) - 36 - tags);
        let mut h = [0u8; 44];
        h.copy_from_slice(&head);
        h[4..8].copy_from_slice(&((36 + data + tags) as u32).to_le_bytes());
        h[40..44].copy_from_slice(&(data as u32).to_le_bytes());
        self.wav_header = Some(h);
        // the samples, then the tags (whole sample frames: nothing lies between them)
        self.len = 44 + data + tags;
        Ok(())
    }

    /// Bytes of the decrypted representation.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the representation is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the final chunk was found (else the file is a `.part` being written, or was cut short).
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// An error unless the whole stream is present: the final chunk found, nothing cut (for a file under
    /// its final name, which must be whole; a `.part` may lack its end).
    pub fn require_finished(&self) -> Result<(), SealedError> {
        if self.finished {
            return Ok(());
        }
        Err(self
            .cut
            .clone()
            .unwrap_or(VaultError::MissingFinal {
                chunks: self.chunks.len() as u32,
                plain_bytes: self.plain_len,
            })
            .into())
    }

    /// Chunks indexed.
    pub fn chunks(&self) -> usize {
        self.chunks.len()
    }

    fn read_plain(&self, start: u64, len: u64) -> Result<Vec<u8>, SealedError> {
        let end = (start + len).min(self.plain_len);
        let mut out = Vec::with_capacity(end.saturating_sub(start) as usize);
        if start >= end {
            return Ok(out);
        }
        // the first chunk holding `start`
        let first = self
            .chunks
            .partition_point(|c| c.plain_start + u64::from(c.plain_len) <= start);
        let mut record = Vec::new();
        for (i, c) in self.chunks.iter().enumerate().skip(first) {
            if c.plain_start >= end {
                break;
            }
            record.resize(FRAME_LEN + c.plain_len as usize + rec_vault::TAG_LEN, 0);
            self.file.read_exact_at(&mut record, c.offset)?;
            let (plain, _) = self.dec.open_chunk(i as u32, c.offset, &mut record)?;
            let from = start.saturating_sub(c.plain_start) as usize;
            let to = ((end - c.plain_start) as usize).min(plain.len());
            out.extend_from_slice(&plain[from..to]);
        }
        Ok(out)
    }

    /// Bytes `start..start + len` of the decrypted representation (fewer at its end), decrypting only the
    /// chunks they lie in; every chunk read is authenticated.
    pub fn read_range(&self, start: u64, len: u64) -> Result<Vec<u8>, SealedError> {
        let end = (start + len).min(self.len);
        let mut out = self.read_plain(start, end.saturating_sub(start))?;
        if let Some(h) = &self.wav_header {
            for (i, b) in out.iter_mut().enumerate() {
                let at = start + i as u64;
                if at >= 44 {
                    break;
                }
                *b = h[at as usize];
            }
        }
        Ok(out)
    }
}

/// The key ring the API decrypts recordings with (none: encrypted recordings are refused with 503).
/// Compared by identity; `Debug` shows key ids only.
#[derive(Clone, Default)]
pub struct DecryptionKeys(pub Option<std::sync::Arc<Keyring>>);

impl PartialEq for DecryptionKeys {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for DecryptionKeys {}

impl std::fmt::Debug for DecryptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("DecryptionKeys(none)"),
            Some(k) => write!(f, "DecryptionKeys({:?})", k.ids()),
        }
    }
}
