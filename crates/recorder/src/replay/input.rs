//! The inputs of a replay, merged by capture time: pcap/pcapng captures (media and in-band signaling),
//! signaling journals (pcapng) and Front End trace logs.

use std::path::{Path, PathBuf};

use rec_packet::capture::OfflineCapture;
use rec_packet::LinkType;

/// One item of the merged input.
pub enum Item<'a> {
    /// A captured frame.
    Frame {
        at_us: i64,
        link: LinkType,
        data: &'a [u8],
    },
    /// A SIP message from a trace log.
    Sip { at_us: i64, bytes: &'a [u8] },
}

enum Source {
    Capture {
        path: PathBuf,
        reader: OfflineCapture,
        /// The frame read ahead: time, link, bytes (owned copy, buffer reused).
        head: Option<(i64, LinkType)>,
        buf: Vec<u8>,
        size: u64,
        consumed: u64,
    },
    Trace {
        records: Vec<(i64, Vec<u8>)>,
        next: usize,
        size: u64,
    },
    /// Frames of a decrypted file (an encrypted signaling journal).
    Frames {
        frames: Vec<(i64, LinkType, Vec<u8>)>,
        next: usize,
        size: u64,
    },
}

/// Kind of a file, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// pcap or pcapng.
    Capture,
    /// Lync / SfB Front End trace log.
    TraceLog,
    /// Encrypted at rest (docs/encryption.md): a signaling journal once decrypted.
    Sealed,
}

/// Whether `head` starts like a pcap (either byte order, µs or ns) or pcapng file.
pub fn is_capture(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    head.len() >= 4 && MAGICS.iter().any(|m| head[..4] == *m)
}

/// What a file is, or why it cannot be read.
pub fn sniff(path: &Path) -> Result<FileKind, String> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut head = vec![0u8; 4096];
    let n = f
        .read(&mut head)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let head = &head[..n];
    if is_capture(head) {
        return Ok(FileKind::Capture);
    }
    if rec_vault::is_vault(head) {
        return Ok(FileKind::Sealed);
    }
    if head.windows(14).any(|w| w == b"$$begin_record") {
        return Ok(FileKind::TraceLog);
    }
    if n == 0 {
        return Err(format!("{} is empty", path.display()));
    }
    Err(format!(
        "{} is neither a pcap/pcapng capture nor a Front End trace log",
        path.display()
    ))
}

/// All inputs, yielding items in capture-time order (ties: the order the files were given).
pub struct Merged {
    sources: Vec<Source>,
    /// Frames that could not be read (truncated files) per input, with the reason.
    pub read_errors: Vec<String>,
}

impl Merged {
    /// Opens every file; the first that cannot be used is the error (nothing has been written yet).
    /// `keys` decrypt encrypted journals (the `[encryption]` keys of `--config`).
    pub fn open(
        captures: &[PathBuf],
        signaling: &[PathBuf],
        keys: Option<&rec_vault::Keyring>,
    ) -> Result<Merged, String> {
        let mut sources = Vec::new();
        for path in captures.iter().chain(signaling) {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            match sniff(path)? {
                FileKind::Capture => {
                    let reader = OfflineCapture::open(path).map_err(|e| e.to_string())?;
                    sources.push(Source::Capture {
                        path: path.clone(),
                        reader,
                        head: None,
                        buf: Vec::with_capacity(2048),
                        size,
                        consumed: 0,
                    });
                }
                FileKind::Sealed => {
                    let frames = crate::replay::sealed_input::read_journal(path, keys)?;
                    sources.push(Source::Frames {
                        frames,
                        next: 0,
                        size,
                    });
                }
                FileKind::TraceLog => {
                    let text = std::fs::read(path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let mut records: Vec<(i64, Vec<u8>)> = rec_sip::trace_log::Reader::new(&text)
                        .filter_map(Result::ok)
                        .map(|r| (r.time.unix_micros(), r.message))
                        .collect();
                    if records.is_empty() {
                        return Err(format!("{}: no trace record could be read", path.display()));
                    }
                    records.sort_by_key(|r| r.0);
                    sources.push(Source::Trace {
                        records,
                        next: 0,
                        size,
                    });
                }
            }
        }
        let mut m = Merged {
            sources,
            read_errors: Vec::new(),
        };
        for i in 0..m.sources.len() {
            m.fill(i);
        }
        Ok(m)
    }

    /// Total bytes of all inputs and bytes consumed so far (for progress).
    pub fn progress(&self) -> (u64, u64) {
        self.sources.iter().fold((0, 0), |(t, c), s| match s {
            Source::Capture { size, consumed, .. } => (t + size, c + (*consumed).min(*size)),
            Source::Trace {
                size,
                next,
                records,
            } => (
                t + size,
                c + size * (*next as u64) / (records.len().max(1) as u64),
            ),
            Source::Frames { size, next, frames } => (
                t + size,
                c + size * (*next as u64) / (frames.len().max(1) as u64),
            ),
        })
    }

    fn fill(&mut self, i: usize) {
        if let Source::Capture {
            path,
            reader,
            head,
            buf,
            consumed,
            ..
        } = &mut self.sources[i]
        {
            if head.is_some() {
                return;
            }
            match reader.next_frame() {
                Ok(Some(f)) => {
                    buf.clear();
                    buf.extend_from_slice(f.data);
                    *consumed += 16 + f.data.len() as u64;
                    *head = Some((i64::try_from(f.at_micros).unwrap_or(i64::MAX), f.link));
                }
                Ok(None) => {}
                Err(e) => self.read_errors.push(format!(
                    "{}: {e}; the rest of this file is skipped",
                    path.display()
                )),
            }
        }
    }

    fn head_time(&self, i: usize) -> Option<i64> {
        match &self.sources[i] {
            Source::Capture { head, .. } => head.map(|h| h.0),
            Source::Trace { records, next, .. } => records.get(*next).map(|r| r.0),
            Source::Frames { frames, next, .. } => frames.get(*next).map(|r| r.0),
        }
    }

    /// Hands the earliest item to `f`; `false` when every input is exhausted.
    pub fn next(&mut self, mut f: impl FnMut(Item<'_>)) -> bool {
        let mut best: Option<(i64, usize)> = None;
        for i in 0..self.sources.len() {
            if let Some(t) = self.head_time(i) {
                if best.is_none_or(|(bt, _)| t < bt) {
                    best = Some((t, i));
                }
            }
        }
        let Some((_, i)) = best else {
            return false;
        };
        match &mut self.sources[i] {
            Source::Capture { head, buf, .. } => {
                let (at_us, link) = head.take().expect("head present");
                f(Item::Frame {
                    at_us,
                    link,
                    data: buf,
                });
            }
            Source::Frames { frames, next, .. } => {
                let (at_us, link, data) = &frames[*next];
                *next += 1;
                f(Item::Frame {
                    at_us: *at_us,
                    link: *link,
                    data,
                });
            }
            Source::Trace { records, next, .. } => {
                let (at_us, bytes) = &records[*next];
                *next += 1;
                f(Item::Sip {
                    at_us: *at_us,
                    bytes,
                });
            }
        }
        self.fill(i);
        true
    }
}
