//! Every kind of tampering with a chain or a recording is found, with a message naming the item.

use std::collections::BTreeMap;

use rec_seal::{
    check_recording, deletions, sha256_hex, verify_chain, Body, CallFacts, ChainEntry, FileDigest,
    FindingKind, Manifest, SigningKey, FORMAT, GENESIS,
};

fn call(id: i64) -> CallFacts {
    CallFacts {
        catalog_id: id,
        call_id: format!("call-{id}@example"),
        conversation_id: None,
        from_uri: "sip:alice@contoso.example".into(),
        from_number: Some("+442081234567".into()),
        to_uri: "sip:bob@contoso.example".into(),
        to_number: None,
        started_at_us: 1_700_000_000_000_000 + id,
        answered_at_us: Some(1_700_000_001_000_000),
        ended_at_us: Some(1_700_000_060_000_000),
        end_reason: Some("bye".into()),
        status: "complete".into(),
        format: Some("wav".into()),
        channels: 2,
        sample_rate: 8000,
        streams: vec![],
    }
}

fn file(id: i64, content: &[u8]) -> FileDigest {
    FileDigest {
        path: format!("2023-11-14/call{id}.wav"),
        sha256: sha256_hex(content),
        size: content.len() as u64,
    }
}

/// A chain of `n` recordings (plus the given deletions), signed with `key`: entries and catalog records.
fn chain(key: &SigningKey, bodies: Vec<Body>) -> (Vec<ChainEntry>, Vec<(u64, String)>) {
    let mut prev = GENESIS.to_owned();
    let mut entries = Vec::new();
    let mut catalog = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let seq = i as u64 + 1;
        let m = Manifest {
            format: FORMAT.into(),
            node_id: "node-a".into(),
            key_id: rec_seal::key_id(&key.verifying_key()),
            seq,
            prev: prev.clone(),
            sealed_at_us: 1_700_000_100_000_000 + seq as i64,
            body,
        };
        let (bytes, sig) = m.seal(key);
        prev = sha256_hex(&bytes);
        catalog.push((seq, prev.clone()));
        entries.push(ChainEntry {
            name: format!("manifests/{seq:010}.json"),
            name_seq: seq,
            manifest: bytes,
            signature: Some(sig.to_vec()),
        });
    }
    (entries, catalog)
}

fn recording(id: i64) -> Body {
    Body::Recording {
        call: Box::new(call(id)),
        interrupted: false,
        files: vec![file(id, format!("audio {id}").as_bytes())],
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn messages(f: &[rec_seal::Finding]) -> Vec<String> {
    f.iter().map(ToString::to_string).collect()
}

#[test]
fn intact_chain_has_no_findings_and_reports_its_head() {
    let k = key();
    let (entries, catalog) = chain(&k, (1..=4).map(recording).collect());
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    assert!(r.findings.is_empty(), "{:?}", messages(&r.findings));
    assert_eq!(r.manifests.len(), 4);
    assert_eq!(r.head, Some((4, catalog[3].1.clone())));
}

#[test]
fn edited_manifest_fails_its_signature() {
    let k = key();
    let (mut entries, catalog) = chain(&k, (1..=3).map(recording).collect());
    let text = String::from_utf8(entries[1].manifest.clone()).unwrap();
    entries[1].manifest = text.replace("\"complete\"", "\"partial\"").into_bytes();
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    let m = messages(&r.findings);
    assert!(
        m.iter()
            .any(|s| s
                .starts_with("altered: manifests/0000000002.json: the signature does not verify")),
        "{m:?}"
    );
    assert!(!r.manifests.contains_key(&2));
}

#[test]
fn another_key_is_refused() {
    let k = key();
    let (entries, catalog) = chain(
        &SigningKey::from_bytes(&[1u8; 32]),
        (1..=2).map(recording).collect(),
    );
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    assert_eq!(r.findings.len(), 2, "{:?}", messages(&r.findings));
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Altered));
}

#[test]
fn removed_middle_entry_is_a_gap() {
    let k = key();
    let (mut entries, catalog) = chain(&k, (1..=4).map(recording).collect());
    entries.remove(2);
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    let m = messages(&r.findings);
    assert_eq!(
        m,
        vec!["missing: chain: chain entry 3 is missing (entry 4 follows entry 2): removed from manifests/"]
    );
}

#[test]
fn removed_tail_is_caught_by_the_catalog_head() {
    let k = key();
    let (mut entries, catalog) = chain(&k, (1..=4).map(recording).collect());
    entries.truncate(2);
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    let m = messages(&r.findings);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("the chain was truncated: the catalog records entries up to 4, manifests/ ends at entry 2"), "{m:?}");
    // without the catalog's record the truncation cannot be seen (documented limit)
    assert!(verify_chain(&entries, &k.verifying_key(), &[])
        .findings
        .is_empty());
}

#[test]
fn reordered_and_renamed_entries() {
    let k = key();
    let (entries, catalog) = chain(&k, (1..=3).map(recording).collect());
    // swap the contents of files 2 and 3 (names kept)
    let mut swapped = entries.clone();
    swapped[1].manifest = entries[2].manifest.clone();
    swapped[1].signature = entries[2].signature.clone();
    swapped[2].manifest = entries[1].manifest.clone();
    swapped[2].signature = entries[1].signature.clone();
    let r = verify_chain(&swapped, &k.verifying_key(), &catalog);
    let m = messages(&r.findings);
    assert!(m.iter().any(|s| s == "reordered: manifests/0000000002.json: the file name says chain entry 2 but the manifest is entry 3"), "{m:?}");
    assert!(m.iter().all(|s| s.starts_with("reordered")), "{m:?}");
}

#[test]
fn relinked_entry_signed_again_is_a_broken_link_and_differs_from_the_catalog() {
    // someone with the key re-signs entry 2 with other content: the link from entry 3 breaks
    let k = key();
    let (mut entries, catalog) = chain(&k, (1..=3).map(recording).collect());
    let mut m2 = Manifest::parse(&entries[1].manifest).unwrap();
    m2.sealed_at_us += 1;
    let (bytes, sig) = m2.seal(&k);
    entries[1].manifest = bytes;
    entries[1].signature = Some(sig.to_vec());
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    let m = messages(&r.findings);
    assert!(m.iter().any(|s| s.starts_with("reordered: manifests/0000000003.json: its prev hash does not match the manifest of entry 2")), "{m:?}");
    assert!(
        m.iter().any(|s| s.starts_with(
            "altered: chain entry 2: its manifest differs from the one the catalog recorded"
        )),
        "{m:?}"
    );
}

#[test]
fn missing_signature_and_extra_entry() {
    let k = key();
    let (mut entries, mut catalog) = chain(&k, (1..=3).map(recording).collect());
    entries[0].signature = None;
    catalog.pop();
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    let m = messages(&r.findings);
    assert!(
        m.contains(
            &"missing: manifests/0000000001.json: its signature file (.sig) is missing".to_owned()
        ),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|s| s.starts_with("extra: chain entry 3: the catalog has no record")),
        "{m:?}"
    );
}

#[test]
fn recording_files_and_catalog_row() {
    let c = call(7);
    let sealed = vec![
        file(7, b"audio 7"),
        FileDigest {
            path: "2023-11-14/call7.pcap".into(),
            sha256: sha256_hex(b"rtp"),
            size: 3,
        },
    ];
    let mut found = BTreeMap::new();
    for f in &sealed {
        found.insert(f.path.clone(), f.clone());
    }
    assert!(check_recording(5, &c, &sealed, &found, Some(&c), false).is_empty());
    // a changed byte, a deleted file, an edited catalog row
    found.insert(sealed[0].path.clone(), file(7, b"audio 8"));
    found.remove(&sealed[1].path);
    let mut row = c.clone();
    row.status = "partial".into();
    let m = messages(&check_recording(5, &c, &sealed, &found, Some(&row), false));
    assert_eq!(m.len(), 3, "{m:?}");
    assert!(
        m[0].starts_with("altered: 2023-11-14/call7.wav: sha256 "),
        "{m:?}"
    );
    assert!(m[0].ends_with("sealed in chain entry 5"), "{m:?}");
    assert_eq!(m[1], "missing: 2023-11-14/call7.pcap: file of call \"call-7@example\" (catalog row 7, chain entry 5) is gone and no deletion entry covers it");
    assert_eq!(
        m[2],
        "altered: catalog row 7: status is \"partial\", chain entry 5 sealed \"complete\""
    );
    // a deleted catalog row
    let m = messages(&check_recording(5, &c, &sealed[..0], &found, None, false));
    assert_eq!(m, vec!["missing: catalog row 7: call \"call-7@example\" (chain entry 5) has no catalog row and no deletion entry"]);
    // a deletion entry covers everything
    assert!(check_recording(5, &c, &sealed, &BTreeMap::new(), None, true).is_empty());
}

#[test]
fn deletion_entries_cover_their_recording_only_when_they_name_its_hash() {
    let k = key();
    let (entries, catalog) = chain(&k, vec![recording(1), recording(2)]);
    let sha1 = catalog[0].1.clone();
    let del = |seq: u64, sha: &str| Body::Deletion {
        deleted_seq: seq,
        deleted_manifest_sha256: sha.into(),
        catalog_id: 1,
        call_id: "call-1@example".into(),
        reason: "retention".into(),
        files: vec!["2023-11-14/call1.wav".into()],
    };
    let (entries, catalog) = {
        let (mut e, _) = chain(
            &k,
            vec![recording(1), recording(2), del(1, &sha1), del(2, &sha1)],
        );
        e.truncate(4);
        let _ = (entries, catalog);
        let c: Vec<(u64, String)> = e
            .iter()
            .map(|x| (x.name_seq, sha256_hex(&x.manifest)))
            .collect();
        (e, c)
    };
    let r = verify_chain(&entries, &k.verifying_key(), &catalog);
    assert!(r.findings.is_empty(), "{:?}", messages(&r.findings));
    let (covered, findings) = deletions(&r);
    assert_eq!(covered.get(&1), Some(&3));
    assert!(!covered.contains_key(&2));
    assert_eq!(messages(&findings), vec!["altered: manifests/0000000004.json: this deletion entry names chain entry 2, which is not that recording's manifest"]);
}
