//! The IO side of tamper evidence (the format and the checks are in `rec-seal`): sealing a finished
//! recording into the node's chain (`<out>/manifests/<seq>.json` + `.sig`, and a row of `seal_chain` in
//! the catalog that records each entry's hash, so a removed tail is seen), deleting a sealed recording with
//! a signed deletion entry, and verifying the whole store or one recording. Format: `docs/manifests.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rec_seal::{
    Body, CallFacts, ChainEntry, FileDigest, Finding, FindingKind, Manifest, SigningKey,
    StreamFacts, VerifyingKey, FORMAT, GENESIS,
};
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{CallRecord, CallStatus, Catalog, CatalogError};

/// The chain directory under the recordings directory.
pub const MANIFEST_DIR: &str = "manifests";
/// The public key file the recorder writes into the chain directory (for convenience; an auditor should
/// compare it with the key obtained out of band).
pub const PUBLIC_KEY_FILE: &str = "node.pub.pem";

/// What signs manifests: the node's key and name.
pub struct Sealer {
    /// The Ed25519 signing key.
    pub key: SigningKey,
    /// The node id written into every manifest.
    pub node_id: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the key
        f.debug_struct("Sealer")
            .field("node_id", &self.node_id)
            .field("key_id", &rec_seal::key_id(&self.key.verifying_key()))
            .finish()
    }
}

/// The file name of chain entry `seq`.
pub fn manifest_name(seq: u64) -> String {
    format!("{seq:010}.json")
}

/// The sealed metadata of a catalog row.
pub fn call_facts(c: &CallRecord) -> CallFacts {
    CallFacts {
        catalog_id: c.id.unwrap_or_default(),
        call_id: c.call_id.clone(),
        conversation_id: c.conversation_id.clone(),
        from_uri: c.from.uri.clone(),
        from_number: c.from.number.clone(),
        to_uri: c.to.uri.clone(),
        to_number: c.to.number.clone(),
        started_at_us: c.started_at_us,
        answered_at_us: c.answered_at_us,
        ended_at_us: c.ended_at_us,
        end_reason: c.end_reason.clone(),
        status: c.status.as_str().to_owned(),
        format: c.format.clone(),
        channels: c.channels,
        sample_rate: c.sample_rate,
        streams: c
            .streams
            .iter()
            .map(|s| StreamFacts {
                direction: s.direction.clone(),
                ssrc: s.ssrc,
                codec: s.codec.clone(),
                packets: s.packets,
                lost: s.lost,
                duplicates: s.duplicates,
                decrypt_failures: s.decrypt_failures,
            })
            .collect(),
    }
}

/// The files of a call as the catalog names them (audio, then RTP pcaps), without duplicates.
pub fn call_files(c: &CallRecord) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in c
        .file
        .iter()
        .chain(c.streams.iter().filter_map(|s| s.rtp_file.as_ref()))
    {
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// `path` relative to `root`, `/`-separated (unchanged when it is not under `root`).
pub fn relative(root: &Path, path: &str) -> String {
    let p = Path::new(path);
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.to_string_lossy().replace('\\', "/")
}

/// SHA-256 and size of a file, streamed.
pub fn digest_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((rec_seal::hex(&h.finalize()), size))
}

fn io_err(what: String) -> CatalogError {
    CatalogError::Seal(what)
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl Catalog {
    /// Appends `body` to the chain of the recordings directory `root`: the next sequence number is taken
    /// inside an exclusive transaction (several processes may seal), the manifest and its signature are
    /// written (never overwriting) and synced, then the catalog records the entry. Returns its sequence.
    pub fn append_to_chain(
        &mut self,
        root: &Path,
        sealer: &Sealer,
        body: Body,
        now_us: i64,
    ) -> crate::Result<u64> {
        let dir = root.join(MANIFEST_DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| io_err(format!("cannot create {}: {e}", dir.display())))?;
        let public = dir.join(PUBLIC_KEY_FILE);
        if !public.exists() {
            let _ = std::fs::write(
                &public,
                rec_seal::public_key_pem(&sealer.key.verifying_key()),
            );
        }
        let (kind, call_row, call_id) = match &body {
            Body::Recording { call, .. } => ("recording", call.catalog_id, call.call_id.clone()),
            Body::Deletion {
                catalog_id,
                call_id,
                ..
            } => ("deletion", *catalog_id, call_id.clone()),
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let head: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, manifest_sha256 FROM seal_chain ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match head {
            Some((s, h)) => (s as u64 + 1, h),
            None => (1, GENESIS.to_owned()),
        };
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            node_id: sealer.node_id.clone(),
            key_id: rec_seal::key_id(&sealer.key.verifying_key()),
            seq,
            prev,
            sealed_at_us: now_us,
            body,
        };
        let (bytes, sig) = manifest.seal(&sealer.key);
        let path = dir.join(manifest_name(seq));
        write_new(&path, &bytes)
            .and_then(|()| write_new(&path.with_extension("sig"), &sig))
            .map_err(|e| io_err(format!("cannot write chain entry {}: {e}", path.display())))?;
        tx.execute(
            "INSERT INTO seal_chain (seq, kind, call_row, call_id, manifest_sha256, sealed_at_us) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                seq as i64,
                kind,
                call_row,
                call_id,
                rec_seal::sha256_hex(&bytes),
                now_us
            ],
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// Seals a finished call: hashes its files as stored under `root` and appends its manifest.
    /// `interrupted` marks a recording recovered after a crash.
    pub fn seal_call(
        &mut self,
        root: &Path,
        sealer: &Sealer,
        call: &CallRecord,
        now_us: i64,
    ) -> crate::Result<u64> {
        let mut files = Vec::new();
        for f in call_files(call) {
            let (sha256, size) = match digest_file(Path::new(&f)) {
                Ok(d) => d,
                // never written (storage failed before anything reached the disk): nothing to seal
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(format!("cannot hash {f} to seal it: {e}"))),
            };
            files.push(FileDigest {
                path: relative(root, &f),
                sha256,
                size,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let body = Body::Recording {
            call: Box::new(call_facts(call)),
            interrupted: call.status == CallStatus::Interrupted,
            files,
        };
        self.append_to_chain(root, sealer, body, now_us)
    }

    /// Seals every finished call that has no manifest yet (interrupted calls after a recovery, calls whose
    /// sealing failed). Returns how many were sealed and the errors.
    pub fn seal_unsealed(
        &mut self,
        root: &Path,
        sealer: &Sealer,
        now_us: i64,
    ) -> (usize, Vec<String>) {
        let ids: Vec<i64> = match self.unsealed_rows() {
            Ok(ids) => ids,
            Err(e) => return (0, vec![e.to_string()]),
        };
        let mut sealed = 0;
        let mut errors = Vec::new();
        for id in ids {
            let r = self
                .get(id)
                .and_then(|c| c.ok_or(CatalogError::NoSuchCall(Some(id))))
                .and_then(|c| self.seal_call(root, sealer, &c, now_us));
            match r {
                Ok(_) => sealed += 1,
                Err(e) => errors.push(format!("sealing catalog row {id}: {e}")),
            }
        }
        (sealed, errors)
    }

    /// Finished calls (not `recording`) without a recording entry in the chain.
    fn unsealed_rows(&self) -> crate::Result<Vec<i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM calls WHERE status != 'recording' AND id NOT IN \
             (SELECT call_row FROM seal_chain WHERE kind = 'recording') ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `(seq, manifest sha256)` of every chain entry the catalog recorded.
    pub fn chain_records(&self) -> crate::Result<Vec<(u64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, manifest_sha256 FROM seal_chain ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The chain entry that sealed catalog row `id` as a recording, if any.
    pub fn seal_of(&self, id: i64) -> crate::Result<Option<u64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq FROM seal_chain WHERE kind = 'recording' AND call_row = ?1 \
                 ORDER BY seq DESC LIMIT 1",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|s| s as u64))
    }

    /// Deletes a recording on purpose (retention, an operator): unless a legal hold covers it, its
    /// deletion entry is sealed into the chain first (sealing the recording itself first if it never
    /// was), then its files and its catalog row are removed. Returns the deletion's chain entry.
    pub fn delete_recording(
        &mut self,
        root: &Path,
        sealer: &Sealer,
        id: i64,
        reason: &str,
        now_us: i64,
    ) -> crate::Result<u64> {
        let call = self.get(id)?.ok_or(CatalogError::NoSuchCall(Some(id)))?;
        if let Some(hold) = self.hold_for(&call)? {
            return Err(CatalogError::Held {
                id,
                hold: hold.id,
                reason: hold.reason,
            });
        }
        // never delete outside the recordings directory, whatever a (possibly edited) row says
        let canonical_root =
            std::fs::canonicalize(root).map_err(|e| io_err(format!("{}: {e}", root.display())))?;
        for f in call_files(&call) {
            let p = Path::new(&f);
            let parent = p.parent().and_then(|d| std::fs::canonicalize(d).ok());
            if !parent.is_some_and(|d| d.starts_with(&canonical_root)) {
                return Err(io_err(format!(
                    "catalog row {id}: {f} is not inside the recordings directory {}: not deleted",
                    root.display()
                )));
            }
        }
        let seq = match self.seal_of(id)? {
            Some(s) => s,
            None => self.seal_call(root, sealer, &call, now_us)?,
        };
        let bytes = std::fs::read(root.join(MANIFEST_DIR).join(manifest_name(seq)))
            .map_err(|e| io_err(format!("cannot read chain entry {seq}: {e}")))?;
        let files = call_files(&call);
        let body = Body::Deletion {
            deleted_seq: seq,
            deleted_manifest_sha256: rec_seal::sha256_hex(&bytes),
            catalog_id: id,
            call_id: call.call_id.clone(),
            reason: reason.to_owned(),
            files: files.iter().map(|f| relative(root, f)).collect(),
        };
        let deletion = self.append_to_chain(root, sealer, body, now_us)?;
        let sidecars: Vec<String> = files.iter().map(|f| format!("{f}{PEAKS_SUFFIX}")).collect();
        for f in files.iter().chain(&sidecars) {
            match std::fs::remove_file(f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(format!("cannot delete {f}: {e}"))),
            }
        }
        self.conn.execute("DELETE FROM calls WHERE id = ?1", [id])?;
        Ok(deletion)
    }
}

/// What a verification found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Every problem, with a precise message.
    pub findings: Vec<Finding>,
    /// Chain entries read.
    pub entries: usize,
    /// Recordings whose files were checked.
    pub recordings: usize,
    /// Recordings covered by a deletion entry.
    pub deleted: usize,
    /// Bytes of recording files hashed.
    pub bytes_hashed: u64,
    /// The last chain entry and its hash (publish it elsewhere to catch a truncation of both the
    /// manifests and the catalog).
    pub head: Option<(u64, String)>,
}

fn read_chain(dir: &Path) -> std::io::Result<Vec<ChainEntry>> {
    let mut entries = Vec::new();
    let list = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
        Err(e) => return Err(e),
    };
    for e in list {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let Ok(seq) = stem.parse::<u64>() else {
            continue;
        };
        let manifest = std::fs::read(e.path())?;
        let signature = std::fs::read(e.path().with_extension("sig")).ok();
        entries.push(ChainEntry {
            name: format!("{MANIFEST_DIR}/{name}"),
            name_seq: seq,
            manifest,
            signature,
        });
    }
    entries.sort_by_key(|e| e.name_seq);
    Ok(entries)
}

/// Recording files under the day directories (`YYYY-MM-DD/`) of `root`, relative, `.part` files excluded.
/// Suffix of a recording's waveform sidecar (`<audio file>.peaks`, the web UI's BBC-audiowaveform peaks): derived
/// from the audio, recomputed by the admin API when missing or older than the audio, so not part of the record
/// (not sealed, not reported as extra) but deleted with it.
pub const PEAKS_SUFFIX: &str = ".peaks";

fn stored_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(days) = std::fs::read_dir(root) else {
        return out;
    };
    for d in days.flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        let is_day = name.len() == 10
            && name.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !is_day || !d.path().is_dir() {
            continue;
        }
        let Ok(files) = std::fs::read_dir(d.path()) else {
            continue;
        };
        for f in files.flatten() {
            let fname = f.file_name().to_string_lossy().into_owned();
            let derived = fname.ends_with(PEAKS_SUFFIX);
            if f.path().is_file() && !fname.ends_with(crate::naming::PART_SUFFIX) && !derived {
                out.push(format!("{name}/{fname}"));
            }
        }
    }
    out.sort();
    out
}

/// Verifies the recordings directory `root` against its chain and catalog under `key`: the whole chain,
/// and the files and catalog row of every sealed recording (only those of `call_id` when given).
/// Extra recording files and finished catalog rows without a manifest are reported too (when checking
/// everything).
pub fn verify(
    root: &Path,
    catalog: &Catalog,
    key: &VerifyingKey,
    call_id: Option<&str>,
) -> crate::Result<VerifyReport> {
    use FindingKind::*;
    let dir = root.join(MANIFEST_DIR);
    let entries = read_chain(&dir).map_err(|e| io_err(format!("{}: {e}", dir.display())))?;
    let records = catalog.chain_records()?;
    let chain = rec_seal::verify_chain(&entries, key, &records);
    let (covered, mut deletion_findings) = rec_seal::deletions(&chain);
    let mut report = VerifyReport {
        entries: entries.len(),
        head: chain.head.clone(),
        ..VerifyReport::default()
    };
    report.findings = chain.findings.clone();
    report.findings.append(&mut deletion_findings);
    let mut named: BTreeSet<String> = BTreeSet::new();
    let mut sealed_rows: BTreeSet<i64> = BTreeSet::new();
    for (seq, (m, _, _)) in &chain.manifests {
        match &m.body {
            Body::Deletion { files, .. } => named.extend(files.iter().cloned()),
            Body::Recording { call, files, .. } => {
                named.extend(files.iter().map(|f| f.path.clone()));
                sealed_rows.insert(call.catalog_id);
                if call_id.is_some_and(|id| id != call.call_id) {
                    continue;
                }
                let deleted = covered.contains_key(seq);
                if deleted {
                    report.deleted += 1;
                    continue;
                }
                report.recordings += 1;
                let mut found = BTreeMap::new();
                for f in files {
                    if let Ok((sha256, size)) = digest_file(&root.join(&f.path)) {
                        report.bytes_hashed += size;
                        found.insert(
                            f.path.clone(),
                            FileDigest {
                                path: f.path.clone(),
                                sha256,
                                size,
                            },
                        );
                    }
                }
                let row = catalog.get(call.catalog_id)?;
                // a row id reused by another call is no row of this call
                let row = row.filter(|r| r.call_id == call.call_id);
                let facts = row.as_ref().map(call_facts);
                report.findings.extend(rec_seal::check_recording(
                    *seq,
                    call,
                    files,
                    &found,
                    facts.as_ref(),
                    false,
                ));
            }
        }
    }
    if call_id.is_none() {
        for f in stored_files(root) {
            if !named.contains(&f) {
                report.findings.push(Finding {
                    kind: Extra,
                    item: f,
                    message: "no manifest covers this recording file".into(),
                });
            }
        }
        for id in catalog.unsealed_rows()? {
            if !sealed_rows.contains(&id) {
                let call = catalog.get(id)?;
                report.findings.push(Finding {
                    kind: Extra,
                    item: format!("catalog row {id}"),
                    message: format!(
                        "call {:?} is finished but no verified manifest seals it",
                        call.map(|c| c.call_id).unwrap_or_default()
                    ),
                });
            }
        }
    }
    Ok(report)
}

/// The verification state of one recording (for the API): `sealed` (signature, files and catalog row
/// intact), `altered` (with the findings), `unsealed` (finished but no manifest) or `recording`.
pub fn verify_call(
    root: &Path,
    catalog: &Catalog,
    key: Option<&VerifyingKey>,
    call: &CallRecord,
) -> crate::Result<(String, Vec<String>)> {
    if call.status == CallStatus::Recording {
        return Ok(("recording".into(), Vec::new()));
    }
    let Some(id) = call.id else {
        return Ok(("unsealed".into(), Vec::new()));
    };
    let Some(seq) = catalog.seal_of(id)? else {
        return Ok(("unsealed".into(), Vec::new()));
    };
    let Some(key) = key else {
        return Ok((
            "unknown".into(),
            vec![format!("no public key in {MANIFEST_DIR}/{PUBLIC_KEY_FILE}")],
        ));
    };
    let path: PathBuf = root.join(MANIFEST_DIR).join(manifest_name(seq));
    let name = format!("{MANIFEST_DIR}/{}", manifest_name(seq));
    let entry = ChainEntry {
        name: name.clone(),
        name_seq: seq,
        manifest: std::fs::read(&path).unwrap_or_default(),
        signature: std::fs::read(path.with_extension("sig")).ok(),
    };
    let recorded: Vec<(u64, String)> = catalog
        .chain_records()?
        .into_iter()
        .filter(|(s, _)| *s == seq)
        .collect();
    let mut findings: Vec<String> = Vec::new();
    if entry.manifest.is_empty() {
        findings.push(format!(
            "missing: {name}: the manifest of this recording is gone"
        ));
        return Ok(("altered".into(), findings));
    }
    // a one-entry view of the chain: signature, and the hash the catalog recorded for it
    let chain = rec_seal::verify_chain(std::slice::from_ref(&entry), key, &recorded);
    findings.extend(
        chain
            .findings
            .iter()
            .filter(|f| f.item != "chain")
            .map(ToString::to_string),
    );
    if let Some((m, _, _)) = chain.manifests.get(&seq) {
        if let Body::Recording {
            call: sealed,
            files,
            ..
        } = &m.body
        {
            let mut found = BTreeMap::new();
            for f in files {
                if let Ok((sha256, size)) = digest_file(&root.join(&f.path)) {
                    found.insert(
                        f.path.clone(),
                        FileDigest {
                            path: f.path.clone(),
                            sha256,
                            size,
                        },
                    );
                }
            }
            let facts = call_facts(call);
            findings.extend(
                rec_seal::check_recording(seq, sealed, files, &found, Some(&facts), false)
                    .iter()
                    .map(ToString::to_string),
            );
        }
    }
    Ok((
        if findings.is_empty() {
            "sealed"
        } else {
            "altered"
        }
        .into(),
        findings,
    ))
}
