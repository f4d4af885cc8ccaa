//! The streaming writer: plaintext in, ciphertext bytes out for the caller to append to its file.

use crate::format::{new_file, ChunkCipher, FileRandom};
use crate::key::Kek;
use crate::VaultError;

/// Encrypts one file as a stream of chunks. The header goes out with the first bytes; full chunks are sealed
/// as plaintext arrives; [`StreamWriter::flush`] seals what is pending as a short chunk (so it survives a
/// crash); [`StreamWriter::finish`] seals the final chunk. Output bytes are only ever appended: no chunk is
/// rewritten, so no nonce is used twice.
pub struct StreamWriter {
    cipher: ChunkCipher,
    counter: u32,
    pending: Vec<u8>,
    header_out: bool,
    finished: bool,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter")
            .field("chunks", &self.counter)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl StreamWriter {
    /// A writer for a new file whose data key (in `random`) is wrapped by `kek`; chunks hold up to
    /// `chunk_size` plaintext bytes.
    pub fn new(
        kek: &Kek,
        random: &FileRandom,
        chunk_size: u32,
    ) -> Result<StreamWriter, VaultError> {
        let cipher = new_file(kek, random, chunk_size)?;
        Ok(StreamWriter {
            pending: Vec::new(),
            cipher,
            counter: 0,
            header_out: false,
            finished: false,
        })
    }

    /// The file's header (emitted with the first output).
    pub fn header(&self) -> &[u8] {
        self.cipher.header()
    }

    /// Chunks sealed so far.
    pub fn chunks(&self) -> u32 {
        self.counter
    }

    fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), VaultError> {
        if self.finished {
            return Err(VaultError::Finished);
        }
        if !self.header_out {
            out.extend_from_slice(self.cipher.header());
            self.header_out = true;
        }
        Ok(())
    }

    /// Same as [`StreamWriter::write`] then [`StreamWriter::flush`], without copying `plain` when nothing is
    /// pending (the usual case of a writer that flushes after every write): it is sealed straight into `out`.
    pub fn write_flushed(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), VaultError> {
        if !self.pending.is_empty() {
            self.write(plain, out)?;
            return self.flush(out);
        }
        self.begin(out)?;
        for piece in plain.chunks(self.cipher.chunk_size as usize) {
            if self.counter == u32::MAX {
                return Err(VaultError::TooLong);
            }
            self.cipher.seal(self.counter, false, piece, out);
            self.counter += 1;
        }
        Ok(())
    }

    fn seal_pending(
        &mut self,
        len: usize,
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), VaultError> {
        if self.counter == u32::MAX {
            return Err(VaultError::TooLong);
        }
        self.cipher
            .seal(self.counter, last, &self.pending[..len], out);
        self.pending.drain(..len);
        self.counter += 1;
        Ok(())
    }

    /// Takes `plain`; appends to `out` the header (first call) and every chunk that became full.
    pub fn write(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), VaultError> {
        self.begin(out)?;
        let size = self.cipher.chunk_size as usize;
        let mut rest = plain;
        while !rest.is_empty() {
            let take = (size - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == size {
                self.seal_pending(size, false, out)?;
            }
        }
        Ok(())
    }

    /// Seals the pending plaintext (if any) as a short, non-final chunk: everything written so far is then in
    /// `out` and decryptable after a crash.
    pub fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), VaultError> {
        self.begin(out)?;
        if !self.pending.is_empty() {
            self.seal_pending(self.pending.len(), false, out)?;
        }
        Ok(())
    }

    /// Seals the pending plaintext (possibly nothing) as the final chunk; the writer takes nothing more.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), VaultError> {
        self.begin(out)?;
        self.seal_pending(self.pending.len(), true, out)?;
        self.finished = true;
        Ok(())
    }
}
