//! Verification: the chain (signatures, sequence, links, head) and each recording against its manifest.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;

use crate::{sha256_hex, signature_valid, Body, CallFacts, FileDigest, Manifest, GENESIS};

/// What kind of tampering a finding shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// Bytes differ from what was sealed (a file, a manifest, a catalog field).
    Altered,
    /// Something sealed is gone (a file, a manifest, a signature, a catalog row).
    Missing,
    /// Something is present that no manifest covers.
    Extra,
    /// Chain entries are out of order, renamed or relinked.
    Reordered,
}

impl FindingKind {
    /// `altered`, `missing`, `extra`, `reordered`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Altered => "altered",
            FindingKind::Missing => "missing",
            FindingKind::Extra => "extra",
            FindingKind::Reordered => "reordered",
        }
    }
}

/// One problem found: its kind, the item it concerns, and what is wrong in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The kind.
    pub kind: FindingKind,
    /// The item: `manifests/0000000003.json`, `2026-11-29/1000_x.wav`, `catalog row 7`, `chain`.
    pub item: String,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    fn new(kind: FindingKind, item: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            kind,
            item: item.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.kind.as_str(), self.item, self.message)
    }
}

/// One chain entry as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// How to name it in findings (`manifests/0000000003.json`).
    pub name: String,
    /// The sequence number its file name claims.
    pub name_seq: u64,
    /// The manifest's bytes.
    pub manifest: Vec<u8>,
    /// The detached signature's bytes, `None` when the `.sig` file is missing.
    pub signature: Option<Vec<u8>>,
}

/// What [`verify_chain`] found.
#[derive(Debug, Clone, Default)]
pub struct ChainReport {
    /// Entries whose signature verified, by sequence number: the manifest, its SHA-256 and its name.
    pub manifests: BTreeMap<u64, (Manifest, String, String)>,
    /// Problems, in chain order.
    pub findings: Vec<Finding>,
    /// The last sequence number and manifest hash seen (the head to publish elsewhere).
    pub head: Option<(u64, String)>,
}

/// Checks a chain: `entries` sorted by the sequence number in their file names, `catalog` the
/// `(seq, manifest sha256)` pairs the catalog recorded when each entry was written (empty when unknown).
///
/// Reported: a manifest that does not parse or whose signature does not verify under `key` (altered), a
/// missing signature, a gap in the sequence (entries removed), an entry whose file name and content
/// disagree or whose `prev` does not hash-link to its predecessor (reordered or replaced), a catalog
/// record of an entry whose manifest differs or is missing (including a truncated tail), and entries the
/// catalog does not know (extra).
pub fn verify_chain(
    entries: &[ChainEntry],
    key: &VerifyingKey,
    catalog: &[(u64, String)],
) -> ChainReport {
    use FindingKind::*;
    let mut report = ChainReport::default();
    // (seq, sha) of the previous entry in file order, and whether its signature verified
    let mut previous: Option<(u64, String, bool)> = None;
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    // first pass: signatures, parsing, file name against content
    let mut checked: Vec<(&ChainEntry, String, Option<Manifest>, bool, u64)> = Vec::new();
    for e in entries {
        let sha = sha256_hex(&e.manifest);
        let signed = match &e.signature {
            None => {
                report.findings.push(Finding::new(
                    Missing,
                    &e.name,
                    "its signature file (.sig) is missing",
                ));
                false
            }
            Some(sig) => {
                let ok = signature_valid(key, &e.manifest, sig);
                if !ok {
                    report.findings.push(Finding::new(
                        Altered,
                        &e.name,
                        "the signature does not verify: the manifest was edited or signed by another key",
                    ));
                }
                ok
            }
        };
        let parsed = match Manifest::parse(&e.manifest) {
            Ok(m) => Some(m),
            Err(why) => {
                if signed {
                    report.findings.push(Finding::new(Altered, &e.name, why));
                }
                None
            }
        };
        let seq = match (&parsed, signed) {
            (Some(m), true) => {
                if m.seq != e.name_seq {
                    report.findings.push(Finding::new(
                        Reordered,
                        &e.name,
                        format!(
                            "the file name says chain entry {} but the manifest is entry {}",
                            e.name_seq, m.seq
                        ),
                    ));
                }
                m.seq
            }
            _ => e.name_seq,
        };
        checked.push((e, sha, parsed, signed, seq));
    }
    // second pass, in the order the signed contents say: gaps, links
    checked.sort_by_key(|c| c.4);
    for (e, sha, parsed, signed, seq) in checked {
        let signed = signed && parsed.is_some();
        match &previous {
            None if seq > 1 => report.findings.push(Finding::new(
                Missing,
                "chain",
                format!(
                    "chain entries 1 to {} are missing (the first manifest is entry {seq})",
                    seq - 1
                ),
            )),
            None => {
                if signed && parsed.as_ref().is_some_and(|m| m.prev != GENESIS) {
                    report.findings.push(Finding::new(
                        Reordered,
                        &e.name,
                        "entry 1 does not start the chain (its prev is not the genesis hash)",
                    ));
                }
            }
            Some((pseq, psha, pok)) => {
                if seq > pseq + 1 {
                    let gap = if seq == pseq + 2 {
                        format!("chain entry {} is missing", pseq + 1)
                    } else {
                        format!("chain entries {} to {} are missing", pseq + 1, seq - 1)
                    };
                    report.findings.push(Finding::new(
                        Missing,
                        "chain",
                        format!(
                            "{gap} (entry {seq} follows entry {pseq}): removed from manifests/"
                        ),
                    ));
                } else if seq <= *pseq {
                    report.findings.push(Finding::new(
                        Reordered,
                        &e.name,
                        format!("a second chain entry {seq}"),
                    ));
                } else if signed && *pok && parsed.as_ref().is_some_and(|m| m.prev != *psha) {
                    report.findings.push(Finding::new(
                        Reordered,
                        &e.name,
                        format!(
                            "its prev hash does not match the manifest of entry {pseq}: entries reordered or replaced"
                        ),
                    ));
                }
            }
        }
        seen.insert(seq, sha.clone());
        if let (true, Some(m)) = (signed, parsed) {
            report
                .manifests
                .insert(seq, (m, sha.clone(), e.name.clone()));
        }
        report.head = Some((seq, sha.clone()));
        previous = Some((seq, sha, signed));
    }
    let last_file = seen.keys().next_back().copied().unwrap_or(0);
    let mut truncated: Vec<u64> = Vec::new();
    for (seq, sha) in catalog {
        match seen.get(seq) {
            Some(found) if found != sha => report.findings.push(Finding::new(
                Altered,
                format!("chain entry {seq}"),
                "its manifest differs from the one the catalog recorded when it was written (manifest replaced)",
            )),
            Some(_) => {}
            None if *seq > last_file => truncated.push(*seq),
            None => {} // a gap inside the files' range is reported above
        }
    }
    if let (Some(first), Some(last)) = (truncated.first(), truncated.last()) {
        report.findings.push(Finding::new(
            Missing,
            "chain",
            format!(
                "the chain was truncated: the catalog records entries up to {last}, manifests/ ends at entry {last_file} (entries {first} to {last} removed)"
            ),
        ));
    }
    let known: std::collections::HashSet<u64> = catalog.iter().map(|(s, _)| *s).collect();
    if !catalog.is_empty() {
        for seq in seen.keys() {
            if !known.contains(seq) {
                report.findings.push(Finding::new(
                    Extra,
                    format!("chain entry {seq}"),
                    "the catalog has no record of this entry (added outside the recorder, or written during a crash)",
                ));
            }
        }
    }
    report
}

/// Checks one sealed recording (chain entry `seq`, manifest name `name`): every sealed file must be in
/// `found` (the digests of the files now on disk, by relative path) with the same hash unless `deleted`
/// (a deletion entry covers it), and the catalog row (`None`: no row) must still show the sealed
/// metadata.
pub fn check_recording(
    seq: u64,
    call: &CallFacts,
    files: &[FileDigest],
    found: &BTreeMap<String, FileDigest>,
    catalog: Option<&CallFacts>,
    deleted: bool,
) -> Vec<Finding> {
    use FindingKind::*;
    let mut out = Vec::new();
    if deleted {
        return out;
    }
    for f in files {
        match found.get(&f.path) {
            None => out.push(Finding::new(
                Missing,
                &f.path,
                format!(
                    "file of call {:?} (catalog row {}, chain entry {seq}) is gone and no deletion entry covers it",
                    call.call_id, call.catalog_id
                ),
            )),
            Some(now) if now.sha256 != f.sha256 || now.size != f.size => out.push(Finding::new(
                Altered,
                &f.path,
                format!(
                    "sha256 {} ({} bytes) differs from {} ({} bytes) sealed in chain entry {seq}",
                    now.sha256, now.size, f.sha256, f.size
                ),
            )),
            Some(_) => {}
        }
    }
    match catalog {
        None => out.push(Finding::new(
            Missing,
            format!("catalog row {}", call.catalog_id),
            format!(
                "call {:?} (chain entry {seq}) has no catalog row and no deletion entry",
                call.call_id
            ),
        )),
        Some(row) => {
            for (field, now, sealed) in call.differences(row) {
                out.push(Finding::new(
                    Altered,
                    format!("catalog row {}", call.catalog_id),
                    format!("{field} is {now}, chain entry {seq} sealed {sealed}"),
                ));
            }
        }
    }
    out
}

/// The recordings that deletion entries cover: deleted chain entry -> the deletion's entry. A deletion
/// entry that names an entry that is not a recording, or whose hash does not match it, is reported.
pub fn deletions(report: &ChainReport) -> (BTreeMap<u64, u64>, Vec<Finding>) {
    let mut covered = BTreeMap::new();
    let mut findings = Vec::new();
    for (seq, (m, _, name)) in &report.manifests {
        let Body::Deletion {
            deleted_seq,
            deleted_manifest_sha256,
            ..
        } = &m.body
        else {
            continue;
        };
        match report.manifests.get(deleted_seq) {
            Some((Manifest { body: Body::Recording { .. }, .. }, sha, _))
                if sha == deleted_manifest_sha256 =>
            {
                covered.insert(*deleted_seq, *seq);
            }
            Some(_) => findings.push(Finding::new(
                FindingKind::Altered,
                name,
                format!("this deletion entry names chain entry {deleted_seq}, which is not that recording's manifest"),
            )),
            // the deleted entry itself is missing or unverifiable: reported by verify_chain
            None => {
                covered.insert(*deleted_seq, *seq);
            }
        }
    }
    (covered, findings)
}
