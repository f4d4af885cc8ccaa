//! Encryption at rest (the `[encryption]` section of recorder.toml): loading the key ring, creating files
//! the recorder writes with mode 0600, and writing them either in clear or as rec-vault streams.
//!
//! Format and design: docs/encryption.md. Key bytes never reach a log line, an error or the catalog: errors
//! name the key id and the file or variable the key came from, never its contents.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use rec_vault::{FileRandom, Kek, Keyring, StreamWriter, DEFAULT_CHUNK_SIZE, FILE_RANDOM_LEN};
use serde::Deserialize;

/// Mode of every file the recorder creates (independent of the umask): owner read/write only.
pub const FILE_MODE: u32 = 0o600;

/// `[encryption]` of recorder.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncryptionConfig {
    /// Encrypt recordings, RTP captures and the signaling journal.
    pub enabled: bool,
    /// Id of the current key-encryption key (written into every new file's header).
    pub key_id: String,
    /// File holding the current key (32 raw bytes, 64 hex digits or base64).
    pub kek_file: String,
    /// Environment variable holding the current key (hex or base64), used when `kek_file` is empty.
    pub kek_env: String,
    /// Keys of earlier rotations, for reading old files: `[{ id = "k0", file = "..." }]` or `env = "..."`.
    pub old_keys: Vec<OldKey>,
}

/// A retired key (reads files written under it, never writes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OldKey {
    /// The key's id.
    pub id: String,
    /// File holding it.
    pub file: String,
    /// Environment variable holding it (when `file` is empty).
    pub env: String,
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        EncryptionConfig {
            enabled: false,
            key_id: "k1".into(),
            kek_file: String::new(),
            kek_env: String::new(),
            old_keys: Vec::new(),
        }
    }
}

fn load_key(id: &str, file: &str, env: &str, what: &str) -> Result<Kek, String> {
    let text = if !file.trim().is_empty() {
        std::fs::read(file).map_err(|e| format!("{what}: cannot read key file {file}: {e}"))?
    } else if !env.trim().is_empty() {
        std::env::var(env)
            .map_err(|_| format!("{what}: environment variable {env} is not set (or not UTF-8)"))?
            .into_bytes()
    } else {
        return Err(format!(
            "{what}: key {id:?} needs a file or an environment variable"
        ));
    };
    let text = zeroize::Zeroizing::new(text);
    Kek::parse(id, &text).map_err(|e| format!("{what}: {e}"))
}

impl EncryptionConfig {
    /// Every configured key (current first), whether or not encryption of new files is enabled; `None` when
    /// no key is configured at all (then encrypted files cannot be read).
    pub fn keyring(&self) -> Result<Option<Arc<Keyring>>, String> {
        let has_current = !self.kek_file.trim().is_empty() || !self.kek_env.trim().is_empty();
        if !has_current {
            if self.enabled {
                return Err(
                    "configuration [encryption]: enabled needs kek_file or kek_env".to_owned(),
                );
            }
            if self.old_keys.is_empty() {
                return Ok(None);
            }
        }
        let mut old = Vec::new();
        for k in &self.old_keys {
            old.push(load_key(
                &k.id,
                &k.file,
                &k.env,
                "configuration [encryption] old_keys",
            )?);
        }
        let current = if has_current {
            load_key(
                &self.key_id,
                &self.kek_file,
                &self.kek_env,
                "configuration [encryption]",
            )?
        } else {
            old.remove(0)
        };
        Keyring::new(current, old)
            .map(|r| Some(Arc::new(r)))
            .map_err(|e| format!("configuration [encryption] old_keys: {e}"))
    }

    /// The keys new files are encrypted with: `Some` only when `enabled`.
    pub fn writing_keys(&self) -> Result<Option<Arc<Keyring>>, String> {
        if !self.enabled {
            return Ok(None);
        }
        self.keyring()
    }
}

/// Creates `path` exclusively with mode 0600 (whatever the umask).
pub fn create_new_private(path: &Path) -> std::io::Result<File> {
    File::options()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Fresh randomness for one encrypted file, from the operating system.
pub fn file_random() -> std::io::Result<FileRandom> {
    let mut b = zeroize::Zeroizing::new([0u8; FILE_RANDOM_LEN]);
    getrandom::getrandom(&mut b[..])
        .map_err(|e| std::io::Error::other(format!("no randomness: {e}")))?;
    Ok(FileRandom::from_bytes(&b))
}

/// An append-only output file, in clear or encrypted. In clear, bytes go straight to the file; encrypted,
/// every [`Output::append`] is sealed as (at least) one chunk, so whatever reached the disk decrypts.
pub struct Output {
    file: File,
    seal: Option<StreamWriter>,
}

impl Output {
    /// Wraps a new, empty file; encrypted with the ring's current key when `keys` is given.
    pub fn new(file: File, keys: Option<&Keyring>) -> std::io::Result<Output> {
        let seal = match keys.and_then(|k| k.current()) {
            Some(kek) => {
                let w = StreamWriter::new(kek, &file_random()?, DEFAULT_CHUNK_SIZE)
                    .map_err(std::io::Error::other)?;
                Some(w)
            }
            None => None,
        };
        Ok(Output { file, seal })
    }

    /// Appends `bytes` (sealed and flushed when encrypted).
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.seal {
            None => self.file.write_all(bytes),
            Some(w) => {
                // a buffer per write (every flush interval, not per packet): nothing is kept between flushes
                let mut buf = Vec::with_capacity(bytes.len() + w.header().len() + 64);
                w.write_flushed(bytes, &mut buf)
                    .map_err(std::io::Error::other)?;
                self.file.write_all(&buf)
            }
        }
    }

    /// Writes `bytes` at `offset` of a file in clear (WAV header patches); a no-op for an encrypted file.
    pub fn patch(&mut self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        if self.seal.is_some() {
            return Ok(());
        }
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(bytes)?;
        self.file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    /// Seals the final chunk (encrypted) and syncs the file to disk.
    pub fn finish(mut self) -> std::io::Result<()> {
        if let Some(w) = &mut self.seal {
            let mut buf = Vec::with_capacity(64);
            w.finish(&mut buf).map_err(std::io::Error::other)?;
            self.file.write_all(&buf)?;
        }
        self.file.sync_all()
    }

    /// Syncs without finishing (a file whose writing failed: recovery finishes it).
    pub fn sync(self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

/// Whether the file at `path` is an encrypted stream (by its magic).
pub fn is_sealed_file(path: &Path) -> std::io::Result<bool> {
    rec_admin::sealed::is_sealed(&File::open(path)?)
}

/// Finishes an encrypted `*.part` left by a crash: the file is cut after its last chunk that authenticates
/// and an empty final chunk is appended, so every complete chunk stays readable and the stream is whole.
/// Only the end of the file is ever cut: a chunk failing in the middle (tampering, not a crash) leaves the
/// file as it is, with an error.
pub fn repair_sealed(part: &Path, keys: Option<&Keyring>) -> std::io::Result<()> {
    use rec_vault::VaultError;
    let keys = keys.ok_or_else(|| {
        std::io::Error::other("the file is encrypted and no key is configured; left as it is")
    })?;
    let bytes = std::fs::read(part)?;
    let scan = rec_vault::scan(&bytes, keys)
        .map_err(|e| std::io::Error::other(format!("{e}; left as it is")))?;
    let at_end = |offset: u64| {
        // the failing record is the last thing in the file (a write cut by the crash)
        let rest = &bytes[offset as usize..];
        rest.len() < rec_vault::FRAME_LEN
            || rec_vault::Frame::parse([rest[0], rest[1], rest[2], rest[3]]).record_len()
                >= rest.len() as u64
    };
    match &scan.stop {
        None => return Ok(()),
        Some(
            VaultError::MissingFinal { .. }
            | VaultError::ChunkTruncated { .. }
            | VaultError::TrailingData(_),
        ) => {}
        Some(VaultError::ChunkAuth { offset, .. } | VaultError::ChunkMisplaced { offset, .. })
            if at_end(*offset) => {}
        Some(e) => return Err(std::io::Error::other(format!("{e}; left as it is"))),
    }
    let f = File::options().write(true).open(part)?;
    f.set_len(scan.valid_len)?;
    if !scan.finished {
        let d = rec_vault::Decryptor::open(&bytes, keys).map_err(std::io::Error::other)?;
        let marker = d.final_marker(scan.chunks);
        std::os::unix::fs::FileExt::write_all_at(&f, &marker, scan.valid_len)?;
    }
    f.sync_all()
}

/// At start: encrypted journal files a crash left without their final chunk are finished (cut after their
/// last chunk that authenticates, final chunk appended); problems are logged, files left as they are.
pub fn finish_journals(dir: &Path, keys: Option<&Keyring>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "pcapng") || !is_sealed_file(&p).unwrap_or(false) {
            continue;
        }
        let unfinished = File::open(&p)
            .map_err(rec_admin::sealed::SealedError::from)
            .and_then(|f| rec_admin::sealed::SealedFile::open(f, keys))
            .map(|s| !s.finished());
        match unfinished {
            Ok(false) => {}
            Ok(true) => match repair_sealed(&p, keys) {
                Ok(()) => {
                    tracing::warn!(file = %p.display(), "encrypted journal left by a crash finished")
                }
                Err(e) => tracing::error!(file = %p.display(), "encrypted journal: {e}"),
            },
            Err(e) => tracing::error!(file = %p.display(), "encrypted journal: {e}"),
        }
    }
}
