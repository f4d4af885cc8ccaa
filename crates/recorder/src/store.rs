//! Where the engine's output goes: one audio file per call (`*.part` until the call ends), decrypted RTP of
//! undecodable streams as a pcap beside it, and a catalog row created at call start and completed at its end.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rec_vault::Keyring;

use crate::encryption::{create_new_private, Output};

use rec_catalog::naming::{part_path, recording_path, with_counter};
use rec_catalog::{CallRecord, CallStatus as CatStatus, Catalog, DtmfRecord, Party, StreamRecord};
use rec_engine::{AudioChunk, CallHandle, CallMeta, CallReport, CallStatus, RtpBatch};

struct Open {
    record: CallRecord,
    audio: Option<(PathBuf, Output)>,
    rtp: Option<(PathBuf, Output)>,
    /// Writing this call's files failed (disk full, ...): nothing more is written for it; what was written stays.
    write_failed: bool,
}

/// After a write failure, new calls get no file for this long; then writing is tried again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Files and catalog of one replay (or the daemon).
pub struct Store {
    root: PathBuf,
    catalog: Catalog,
    open: HashMap<CallHandle, Open>,
    ext: &'static str,
    /// Problems writing (disk full, permissions): reported, the replay goes on.
    pub errors: Vec<String>,
    /// Since when writing fails: new calls are not given files until [`RETRY_AFTER`] has passed.
    degraded_since: Option<std::time::Instant>,
    /// Calls that got no audio file because storage was failing.
    pub calls_not_written: u64,
    /// The catalog record of the call [`Store::ended`] completed last, as written (or as it would have been,
    /// when the catalog could not be written): what `recorder replay --json` prints, in the shape of
    /// `recorder query --json`.
    pub last_ended: Option<CallRecord>,
    /// Encryption at rest: new files are sealed with the ring's current key (docs/encryption.md).
    keys: Option<Arc<Keyring>>,
    /// Signs each finished recording's manifest (docs/manifests.md); `None`: recordings are not sealed.
    sealer: Option<rec_catalog::seal::Sealer>,
    /// Threads writing the peaks of finished Ogg Opus recordings (decoding takes seconds for a long call,
    /// which must not hold up the other calls' writes); joined when the store is dropped.
    peaks_jobs: Vec<std::thread::JoinHandle<()>>,
    /// Space held back so that the catalog can record a full disk (crate::space_reserve).
    reserve: crate::space_reserve::SpaceReserve,
}

impl Drop for Store {
    fn drop(&mut self) {
        for job in self.peaks_jobs.drain(..) {
            let _ = job.join();
        }
    }
}

fn party(p: &rec_engine::Party) -> Party {
    Party {
        display: p.display.clone(),
        uri: p.uri.clone(),
        number: p.number.clone(),
    }
}

fn fill_meta(r: &mut CallRecord, m: &CallMeta) {
    r.call_id = m.call_id.clone();
    r.conversation_id = m.conversation_id.clone();
    r.from = party(&m.from);
    r.to = party(&m.to);
    r.asserted_identity = m.asserted_identity.clone();
    r.privacy = m.privacy;
    r.user_agents = m.user_agents.clone();
    r.started_at_us = m.started_at_us;
    r.answered_at_us = m.answered_at_us;
    r.ended_at_us = m.ended_at_us;
    r.end_reason = m.end_reason.clone();
    r.diagnostics = m.diagnostics.clone();
    r.emergency = m.emergency;
    r.location = m.location.clone();
    r.sensitivity = m.sensitivity.clone();
    r.target_class = m.target_class.clone();
}

/// The catalog's name for an engine status.
pub fn catalog_status(s: CallStatus) -> CatStatus {
    match s {
        CallStatus::Recording => CatStatus::Recording,
        CallStatus::Complete => CatStatus::Complete,
        CallStatus::Partial => CatStatus::Partial,
        CallStatus::NoMedia => CatStatus::NoMedia,
        CallStatus::Undecodable => CatStatus::Undecodable,
        CallStatus::DecryptFailure => CatStatus::DecryptFailure,
        CallStatus::Failed => CatStatus::Failed,
    }
}

/// Creates `path` (or `path-2`, `path-3`, ... when taken, also by a `.part`) exclusively.
fn create_unique(path: &Path) -> std::io::Result<(PathBuf, File)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            path.to_path_buf()
        } else {
            with_counter(path, n)
        };
        let part = part_path(&candidate);
        if !candidate.exists() {
            match create_new_private(&part) {
                Ok(f) => return Ok((candidate, f)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        n += 1;
        if n > 10_000 {
            return Err(std::io::Error::other("no free file name"));
        }
    }
}

const PCAP_LINKTYPE_RAW: u32 = 101;

fn pcap_header() -> [u8; 24] {
    let mut h = [0u8; 24];
    h[..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&65535u32.to_le_bytes());
    h[20..24].copy_from_slice(&PCAP_LINKTYPE_RAW.to_le_bytes());
    h
}

/// A decrypted RTP packet as IPv4/UDP (127.0.0.1:side port → 127.0.0.2) so Wireshark decodes it as RTP.
fn pcap_record(out: &mut Vec<u8>, at_us: i64, side: u8, pkt: &[u8]) {
    let total = 28 + pkt.len();
    let sec = (at_us.max(0) / 1_000_000) as u32;
    let usec = (at_us.max(0) % 1_000_000) as u32;
    out.extend_from_slice(&sec.to_le_bytes());
    out.extend_from_slice(&usec.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[127, 0, 0, 1 + side]);
    ip[16..20].copy_from_slice(&[127, 0, 0, 2 - side.min(1)]);
    let mut sum: u32 = 0;
    for c in ip.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    out.extend_from_slice(&ip);
    let port = 40000u16 + u16::from(side) * 2;
    out.extend_from_slice(&port.to_be_bytes());
    out.extend_from_slice(&(40002u16 - u16::from(side) * 2).to_be_bytes());
    out.extend_from_slice(&((8 + pkt.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(pkt);
}

impl Store {
    /// Opens (creating) `<root>/catalog.sqlite`.
    pub fn open(root: &Path, ext: &'static str) -> Result<Store, String> {
        std::fs::create_dir_all(root)
            .map_err(|e| format!("cannot create output directory {}: {e}", root.display()))?;
        let path = root.join("catalog.sqlite");
        // created 0600 before SQLite opens it (its -wal/-shm files take the same mode)
        if let Err(e) = create_new_private(&path) {
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(format!("catalog {}: {e}", path.display()));
            }
        }
        let catalog =
            Catalog::open(&path).map_err(|e| format!("catalog {}: {e}", path.display()))?;
        Ok(Store {
            root: root.to_path_buf(),
            catalog,
            open: HashMap::new(),
            ext,
            errors: Vec::new(),
            degraded_since: None,
            calls_not_written: 0,
            last_ended: None,
            keys: None,
            sealer: None,
            peaks_jobs: Vec::new(),
            reserve: crate::space_reserve::SpaceReserve::new(root),
        })
    }

    /// Encrypts every file created from now on with the ring's current key (`None`: files in clear).
    pub fn set_encryption(&mut self, keys: Option<Arc<Keyring>>) {
        self.keys = keys;
    }

    /// From now on every finished call is sealed into the manifest chain with `sealer`; calls finished
    /// earlier without a manifest (interrupted ones after [`recover`]) are sealed at once.
    pub fn set_sealer(&mut self, sealer: rec_catalog::seal::Sealer) {
        let (_, errors) =
            self.catalog
                .seal_unsealed(&self.root, &sealer, crate::integrity::now_us());
        self.errors.extend(errors);
        self.sealer = Some(sealer);
    }

    /// A call started: its catalog row is created (status `recording`).
    pub fn started(&mut self, call: CallHandle, meta: &CallMeta) {
        let mut record = CallRecord {
            status: CatStatus::Recording,
            ..CallRecord::default()
        };
        fill_meta(&mut record, meta);
        let mut r = self.catalog.insert_call(&mut record).map(|_| ());
        if r.is_err() && self.reserve.release() {
            r = self.catalog.insert_call(&mut record).map(|_| ());
        }
        if let Err(e) = r {
            self.errors.push(format!("catalog insert for a call: {e}"));
        }
        self.open.insert(
            call,
            Open {
                record,
                audio: None,
                rtp: None,
                write_failed: false,
            },
        );
    }

    /// Metadata changed.
    pub fn updated(&mut self, call: CallHandle, meta: &CallMeta) {
        if let Some(o) = self.open.get_mut(&call) {
            fill_meta(&mut o.record, meta);
            if o.record.id.is_some() {
                if let Err(e) = self.catalog.update_call(&o.record) {
                    self.errors.push(format!("catalog update: {e}"));
                }
            }
        }
    }

    /// Appends encoded audio (creating the `*.part` file on the first chunk) and patches the header.
    pub fn audio(&mut self, call: CallHandle, chunk: &AudioChunk) {
        let Some(o) = self.open.get_mut(&call) else {
            return;
        };
        if o.write_failed {
            return;
        }
        if o.audio.is_none() {
            if self
                .degraded_since
                .is_some_and(|t| t.elapsed() < RETRY_AFTER)
            {
                // storage is failing: this call is not recorded (its catalog row says so at its end)
                o.write_failed = true;
                self.calls_not_written += 1;
                return;
            }
            if self.degraded_since.is_some() {
                self.reserve.restore(); // writing is tried again: hold the reserve again first
            }
            let path = recording_path(
                &self.root,
                o.record.started_at_us,
                &o.record.call_id,
                self.ext,
            );
            match create_unique(&path)
                .and_then(|(p, f)| Ok((p, Output::new(f, self.keys.as_deref())?)))
            {
                Ok((p, f)) => {
                    o.record.file = Some(p.display().to_string());
                    o.record.format = Some(self.ext.to_owned());
                    o.record.channels = chunk.channels;
                    o.record.sample_rate = chunk.sample_rate;
                    o.audio = Some((p, f));
                    if o.record.id.is_some() {
                        if let Err(e) = self.catalog.update_call(&o.record) {
                            self.errors.push(format!("catalog update: {e}"));
                        }
                    }
                }
                Err(e) => {
                    self.errors.push(format!(
                        "cannot create {}: {e}; this call's audio is not written, new calls are not recorded for {} s",
                        part_path(&path).display(),
                        RETRY_AFTER.as_secs()
                    ));
                    o.write_failed = true;
                    self.calls_not_written += 1;
                    self.degraded_since = Some(std::time::Instant::now());
                    self.reserve.release();
                    return;
                }
            }
        }
        let Some((p, f)) = o.audio.as_mut() else {
            return;
        };
        let r = (|| -> std::io::Result<()> {
            f.append(&chunk.bytes)?;
            // encrypted files are append-only: readers fill in the WAV sizes (docs/encryption.md)
            if let Some((off, bytes)) = &chunk.header_patch {
                f.patch(*off, bytes)?;
            }
            Ok(())
        })();
        match r {
            Ok(()) => self.degraded_since = None,
            Err(e) => {
                self.errors.push(format!(
                    "writing {}: {e}; this call's recording stops here (what was written is kept), new calls are not recorded for {} s",
                    part_path(p).display(),
                    RETRY_AFTER.as_secs()
                ));
                o.write_failed = true;
                self.degraded_since = Some(std::time::Instant::now());
                self.reserve.release();
            }
        }
    }

    /// Appends decrypted RTP of undecodable streams to the call's `.pcap`.
    pub fn rtp(&mut self, call: CallHandle, batch: &RtpBatch) {
        let Some(o) = self.open.get_mut(&call) else {
            return;
        };
        if o.rtp.is_none() {
            let path = recording_path(
                &self.root,
                o.record.started_at_us,
                &o.record.call_id,
                "pcap",
            );
            match create_unique(&path)
                .and_then(|(p, f)| Ok((p, Output::new(f, self.keys.as_deref())?)))
            {
                Ok((p, mut f)) => {
                    if let Err(e) = f.append(&pcap_header()) {
                        self.errors.push(format!("writing {}: {e}", p.display()));
                    }
                    o.rtp = Some((p, f));
                }
                Err(e) => {
                    self.errors
                        .push(format!("cannot create {}: {e}", path.display()));
                    return;
                }
            }
        }
        let Some((p, f)) = o.rtp.as_mut() else {
            return;
        };
        let mut buf = Vec::with_capacity(batch.data.len() + batch.packets.len() * 44);
        for (at, side, pkt) in batch.iter() {
            pcap_record(&mut buf, at, side, pkt);
        }
        if let Err(e) = f.append(&buf) {
            self.errors.push(format!("writing {}: {e}", p.display()));
        }
    }

    /// Writes the peaks file of the finished recording `path`: at once for WAV (reading it is cheap), on a
    /// thread of its own for Ogg Opus (decoding it costs ≈ 5 s for an hour, see BENCHMARKS.md).
    fn write_peaks(&mut self, path: PathBuf) {
        let opus = rec_admin::peaks::is_opus(&path) == Some(true);
        let write = move || {
            if let Err(e) = rec_admin::peaks::write_sidecar(&path) {
                tracing::warn!(error = %e, "waveform peaks not written");
            }
        };
        if !opus {
            return write();
        }
        self.peaks_jobs.retain(|j| !j.is_finished());
        if let Err(e) = std::thread::Builder::new()
            .name("peaks".into())
            .spawn(write)
            .map(|job| self.peaks_jobs.push(job))
        {
            tracing::warn!(error = %e, "cannot start a thread for waveform peaks; the UI computes them on demand");
        }
    }

    /// The call ended: files are closed and renamed from `*.part`, the catalog row completed.
    /// Returns the audio file's path and whether storage failed for this call (its recording is incomplete).
    pub fn ended(&mut self, call: CallHandle, report: &CallReport) -> (Option<String>, bool) {
        let Some(mut o) = self.open.remove(&call) else {
            let mut record = CallRecord::default();
            fill_meta(&mut record, &report.meta);
            record.status = catalog_status(report.status);
            self.last_ended = Some(record);
            return (None, false);
        };
        fill_meta(&mut o.record, &report.meta);
        o.record.status = catalog_status(report.status);
        o.record.dtmf = report
            .dtmf
            .iter()
            .map(|d| DtmfRecord {
                at_us: d.at_us,
                digit: d.digit,
                duration_ms: d.duration_ms,
            })
            .collect();
        if o.write_failed {
            o.record.status = CatStatus::Partial;
            o.record.end_reason = Some(format!(
                "{}; storage failed, the recording is incomplete",
                o.record.end_reason.as_deref().unwrap_or("ended")
            ));
        }
        let mut rtp_file = None;
        for (path, file) in [o.audio.take(), o.rtp.take()].into_iter().flatten() {
            let is_rtp = path.extension().is_some_and(|e| e == "pcap");
            let failed = o.write_failed;
            let keys = self.keys.as_deref();
            let r = if failed {
                // sizes in the header may be behind what reached the disk; an encrypted stream gets its final chunk
                file.sync()
                    .and_then(|()| repair(&part_path(&path), &path, keys))
            } else {
                file.finish()
                    .and_then(|()| finalise(&part_path(&path), &path))
            };
            if let Err(e) = r {
                self.errors
                    .push(format!("finishing {}: {e}", part_path(&path).display()));
            }
            if failed && !is_rtp && remove_if_empty(&path) {
                // the disk was full before any audio reached the file: no empty file is left behind
                o.record.file = None;
                o.record.format = None;
            }
            if is_rtp {
                rtp_file = Some(path.display().to_string());
            } else if !failed {
                // the waveform for the web UI; without it the UI computes one on demand
                self.write_peaks(path.clone());
            }
        }
        if o.record
            .file
            .as_ref()
            .is_some_and(|f| !Path::new(f).exists())
        {
            o.record.file = None; // removed by `repair`: nothing was written
        }
        o.record.streams = report
            .streams
            .iter()
            .map(|s| StreamRecord {
                direction: s.direction.map_or("unknown", |d| d.as_str()).to_owned(),
                ssrc: s.ssrc,
                codec: s.codec.clone(),
                packets: s.packets,
                lost: s.lost,
                duplicates: s.duplicates,
                decrypt_failures: s.decrypt_failures,
                rtp_file: (!s.decodable).then(|| rtp_file.clone()).flatten(),
            })
            .collect();
        let mut r = write_row(&mut self.catalog, &mut o.record);
        // a full disk: give the reserve back so that the row can say what happened
        if r.is_err() && self.reserve.release() {
            r = write_row(&mut self.catalog, &mut o.record);
        }
        if let Err(e) = r {
            self.errors.push(format!("catalog: {e}"));
        } else if let Some(sealer) = &self.sealer {
            let now = crate::integrity::now_us();
            if let Err(e) = self.catalog.seal_call(&self.root, sealer, &o.record, now) {
                self.errors.push(format!("sealing the manifest: {e}"));
            }
        }
        let file = o.record.file.clone();
        self.last_ended = Some(o.record);
        (file, o.write_failed)
    }
}

/// Completes (or, without an id yet, inserts) the catalog row of `record`.
fn write_row(catalog: &mut Catalog, record: &mut CallRecord) -> rec_catalog::Result<()> {
    if record.id.is_some() {
        catalog.update_call(record)
    } else {
        catalog.insert_call(record).map(|_| ())
    }
}

/// Removes the finished audio file `path` when it holds no audio (empty, or a WAV header alone); `true` if so.
fn remove_if_empty(path: &Path) -> bool {
    let header = if path.extension().is_some_and(|e| e == "wav") {
        44
    } else {
        0
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() <= header => std::fs::remove_file(path).is_ok(),
        _ => false,
    }
}

/// What [`recover`] did after an unclean stop.
#[derive(Debug, Default)]
pub struct Recovered {
    /// `*.part` files made playable and renamed.
    pub files: Vec<PathBuf>,
    /// Catalog rows marked `interrupted`.
    pub calls: usize,
    /// Problems (a file that could not be repaired is left as it was).
    pub errors: Vec<String>,
}

/// The one place a finished file takes its final name (from its `*.part`, written and synced): from here on
/// it is never written again.
pub fn finalise(part: &Path, final_path: &Path) -> std::io::Result<()> {
    std::fs::rename(part, final_path)
}

/// After SIGKILL or power loss: every `*.part` under `root` becomes a playable file (WAV sizes patched from the
/// file length, an Ogg stream cut after its last complete page; an encrypted file cut after its last chunk
/// that authenticates and given its final chunk, with `keys`) under its final name, and every catalog row
/// still `recording` becomes `interrupted`.
pub fn recover(root: &Path, keys: Option<&Keyring>) -> Recovered {
    let mut out = Recovered::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(final_path) = p
                .to_str()
                .and_then(|s| s.strip_suffix(rec_catalog::naming::PART_SUFFIX))
                .map(PathBuf::from)
            {
                match repair(&p, &final_path, keys) {
                    Ok(()) => out.files.push(final_path),
                    Err(e) => out.errors.push(format!("{}: {e}", p.display())),
                }
            }
        }
    }
    let catalog_path = root.join("catalog.sqlite");
    if catalog_path.exists() {
        match Catalog::open(&catalog_path).and_then(|mut c| c.mark_unfinished_interrupted()) {
            Ok(rows) => out.calls = rows.len(),
            Err(e) => out
                .errors
                .push(format!("catalog {}: {e}", catalog_path.display())),
        }
    }
    out
}

fn repair(part: &Path, final_path: &Path, keys: Option<&Keyring>) -> std::io::Result<()> {
    if crate::encryption::is_sealed_file(part)? {
        crate::encryption::repair_sealed(part, keys)?;
        return finalise(part, final_path);
    }
    let ext = final_path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let mut f = File::options().read(true).write(true).open(part)?;
    let len = f.metadata()?.len();
    match ext {
        "wav" if len < 44 => {
            // not even a header reached the disk (it was full): no file rather than an unplayable one
            drop(f);
            return std::fs::remove_file(part);
        }
        "wav" => {
            // whole sample frames only; sizes from what is on disk
            let mut head = [0u8; 44];
            std::io::Read::read_exact(&mut f, &mut head)?;
            let block = u64::from(u16::from_le_bytes([head[32], head[33]]).max(1));
            let data = ((len - 44) / block * block).min(u64::from(u32::MAX) - 36);
            f.set_len(44 + data)?;
            f.seek(SeekFrom::Start(4))?;
            f.write_all(&((36 + data) as u32).to_le_bytes())?;
            f.seek(SeekFrom::Start(40))?;
            f.write_all(&(data as u32).to_le_bytes())?;
        }
        "opus" => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes)?;
            f.set_len(complete_ogg_pages(&bytes) as u64)?;
        }
        _ => {}
    }
    f.sync_all()?;
    drop(f);
    finalise(part, final_path)
}

/// Length of the prefix of `bytes` made of complete Ogg pages.
fn complete_ogg_pages(bytes: &[u8]) -> usize {
    let mut at = 0;
    while bytes.len() >= at + 27 && &bytes[at..at + 4] == b"OggS" {
        let segments = usize::from(bytes[at + 26]);
        let table_end = at + 27 + segments;
        if bytes.len() < table_end {
            break;
        }
        let body: usize = bytes[at + 27..table_end]
            .iter()
            .map(|&b| usize::from(b))
            .sum();
        if bytes.len() < table_end + body {
            break;
        }
        at = table_end + body;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ogg_prefix_of_complete_pages() {
        // two pages: one segment of 3 bytes each
        let page = |n: u8| {
            let mut p = b"OggS".to_vec();
            p.extend_from_slice(&[0; 22]);
            p.push(1);
            p.push(3);
            p.extend_from_slice(&[n; 3]);
            p
        };
        let mut two = page(1);
        two.extend(page(2));
        assert_eq!(complete_ogg_pages(&two), two.len());
        assert_eq!(complete_ogg_pages(&two[..two.len() - 1]), two.len() / 2);
        assert_eq!(complete_ogg_pages(&two[..10]), 0);
        assert_eq!(complete_ogg_pages(b""), 0);
    }
}
