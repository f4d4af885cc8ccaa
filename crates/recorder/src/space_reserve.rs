//! A little disk space held back for the end of the story: a file of real (not sparse) zeros beside the
//! recordings, deleted when a write fails (disk full) so that the catalog can still record what happened — the
//! calls whose files failed marked as such, rows completed instead of left `recording` — and created again when
//! writing is tried again.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the reserve file in the recordings directory.
pub const RESERVE_NAME: &str = ".space-reserve";

/// Bytes held back: room for many catalog updates (SQLite pages and its journal).
pub const RESERVE_BYTES: usize = 256 * 1024;

/// The reserve file (see the module documentation).
#[derive(Debug)]
pub struct SpaceReserve {
    path: PathBuf,
    bytes: usize,
    held: bool,
}

impl SpaceReserve {
    /// Holds [`RESERVE_BYTES`] in `<dir>/.space-reserve` (when the disk has them; otherwise nothing is held).
    pub fn new(dir: &Path) -> SpaceReserve {
        let mut r = SpaceReserve {
            path: dir.join(RESERVE_NAME),
            bytes: RESERVE_BYTES,
            held: false,
        };
        r.restore();
        r
    }

    /// Gives the space back to the disk; `true` when something was freed (worth retrying a failed write).
    pub fn release(&mut self) -> bool {
        if !self.held {
            return false;
        }
        self.held = false;
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::warn!(
                    "storage full: released the {} KiB reserve so that the catalog can record the failure",
                    self.bytes / 1024
                );
                true
            }
            Err(_) => false,
        }
    }

    /// Takes the space again when it is not held (after writing worked again); a failure leaves nothing behind.
    pub fn restore(&mut self) {
        if self.held {
            return;
        }
        let written = std::fs::File::create(&self.path).and_then(|mut f| {
            f.write_all(&vec![0u8; self.bytes])?;
            f.sync_all()
        });
        match written {
            Ok(()) => self.held = true,
            Err(_) => {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_held_released_and_restored() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = SpaceReserve::new(dir.path());
        let path = dir.path().join(RESERVE_NAME);
        assert!(r.held);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            RESERVE_BYTES as u64
        );
        assert!(r.release());
        assert!(!path.exists());
        assert!(!r.release(), "nothing more to free");
        r.restore();
        assert!(r.held && path.exists());
    }
}
