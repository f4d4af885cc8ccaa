//! Sealing and retention on a real catalog and real files: an interrupted call is sealed as interrupted,
//! retention rules (the policy's forms) decide how long each call is kept with the time given as input,
//! a hold beats retention, and a deleted recording leaves a sealed deletion entry that `verify` accepts.

use std::path::Path;

use rec_catalog::holds::HoldScope;
use rec_catalog::retention::{Retention, RetentionConfig, RetentionRule};
use rec_catalog::seal::{verify, Sealer};
use rec_catalog::{CallRecord, CallStatus, Catalog, Party};

const DAY: i64 = 86_400_000_000;
const T0: i64 = 1_795_946_400_000_000; // 2026-11-29T10:00:00Z

fn sealer() -> Sealer {
    Sealer {
        key: rec_seal::SigningKey::from_bytes(&[3u8; 32]),
        node_id: "n1".into(),
    }
}

fn add(c: &mut Catalog, root: &Path, id: &str, from: &str, status: CallStatus) -> CallRecord {
    let path = rec_catalog::naming::recording_path(root, T0, id, "wav");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("RIFF {id}")).unwrap();
    let mut r = CallRecord {
        call_id: id.into(),
        from: Party::from_uri(None, from, None),
        to: Party::from_uri(None, "sip:bob@contoso.example", None),
        started_at_us: T0,
        ended_at_us: Some(T0 + 60_000_000),
        status,
        file: Some(path.display().to_string()),
        format: Some("wav".into()),
        ..CallRecord::default()
    };
    c.insert_call(&mut r).unwrap();
    r
}

#[test]
fn rules_clock_holds_and_sealed_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut c = Catalog::open(root.join("catalog.sqlite")).unwrap();
    let s = sealer();
    let trader = add(
        &mut c,
        root,
        "trader@x",
        "sip:+442079460001@contoso.example;user=phone",
        CallStatus::Complete,
    );
    let other = add(
        &mut c,
        root,
        "other@x",
        "sip:alice@contoso.example",
        CallStatus::Complete,
    );
    let held = add(
        &mut c,
        root,
        "held@x",
        "sip:carol@contoso.example",
        CallStatus::Interrupted,
    );
    // the store seals finished calls; the interrupted one is sealed by the recovery pass
    c.seal_call(root, &s, &trader, T0 + DAY).unwrap();
    c.seal_call(root, &s, &other, T0 + DAY).unwrap();
    let (n, errors) = c.seal_unsealed(root, &s, T0 + DAY);
    assert_eq!((n, errors.len()), (1, 0));
    let m3 = std::fs::read_to_string(root.join("manifests/0000000003.json")).unwrap();
    assert!(
        m3.contains("\"interrupted\":true") && m3.contains("\"status\":\"interrupted\""),
        "{m3}"
    );

    c.add_hold(
        &HoldScope {
            since_us: Some(T0),
            until_us: Some(T0 + 1),
            call_id: Some("held@x".into()),
            ..Default::default()
        },
        "case 9",
        "cli",
        T0,
    )
    .unwrap();
    let retention = Retention::new(
        &RetentionConfig {
            default_days: 90,
            sweep_interval_s: 60,
            rule: vec![RetentionRule {
                matches: vec!["020 7946 0001".into()],
                exclude: vec![],
                keep_days: 2555,
            }],
        },
        "44",
    )
    .unwrap();
    assert_eq!(
        retention.keep_days(&trader),
        (2555, "rule 1 (020 7946 0001)".into())
    );
    assert_eq!(retention.keep_days(&other).0, 90);

    // day 89: nothing; day 91: the 90-day call goes, the held one stays, the trader's stays
    let r = c
        .sweep_retention(root, &s, &retention, T0 + 89 * DAY, false)
        .unwrap();
    assert!(r.deleted.is_empty() && r.held.is_empty(), "{r:?}");
    let r = c
        .sweep_retention(root, &s, &retention, T0 + 91 * DAY, false)
        .unwrap();
    assert_eq!(
        r.deleted.iter().map(|d| d.1.as_str()).collect::<Vec<_>>(),
        vec!["other@x"]
    );
    assert_eq!(
        r.held.iter().map(|h| h.1.as_str()).collect::<Vec<_>>(),
        vec!["held@x"]
    );
    assert!(!Path::new(other.file.as_ref().unwrap()).exists());
    assert!(Path::new(held.file.as_ref().unwrap()).exists());
    // after 7 years the trader's call goes too
    let r = c
        .sweep_retention(root, &s, &retention, T0 + 2556 * DAY, false)
        .unwrap();
    assert_eq!(
        r.deleted.iter().map(|d| d.1.as_str()).collect::<Vec<_>>(),
        vec!["trader@x"]
    );

    let key = s.key.verifying_key();
    let report = verify(root, &c, &key, None).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(
        (report.entries, report.recordings, report.deleted),
        (5, 1, 2)
    );

    // a silent deletion of the held call's file is caught
    std::fs::remove_file(held.file.as_ref().unwrap()).unwrap();
    let report = verify(root, &c, &key, None).unwrap();
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("missing: 2026-11-29/") && lines[0].contains("\"held@x\""),
        "{lines:?}"
    );
}

/// Not a test: writes the data set of the `recorder verify --all` benchmark (BENCHMARKS.md) into
/// `$SEAL_BENCH_DIR`: `$SEAL_BENCH_FILES` sealed recordings (default 64) of `$SEAL_BENCH_MIB` MiB (default 16)
/// each, signed with the key `$SEAL_BENCH_DIR/signing-key.pem`.
#[test]
#[ignore]
fn write_verify_benchmark_data_set() {
    let Ok(dir) = std::env::var("SEAL_BENCH_DIR") else {
        return;
    };
    let root = Path::new(&dir);
    std::fs::create_dir_all(root).unwrap();
    let files: usize = std::env::var("SEAL_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mib: usize = std::env::var("SEAL_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let s = sealer();
    std::fs::write(
        root.join("signing-key.pem"),
        rec_seal::signing_key_pem(&s.key),
    )
    .unwrap();
    let mut c = Catalog::open(root.join("catalog.sqlite")).unwrap();
    let mut block = vec![0u8; 1 << 20];
    for i in 0..files {
        let id = format!("bench-{i}@x");
        let path = rec_catalog::naming::recording_path(root, T0 + i as i64, &id, "wav");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut f = std::fs::File::create(&path).unwrap();
        for j in 0..mib {
            block[..8].copy_from_slice(&((i * mib + j) as u64).to_le_bytes());
            std::io::Write::write_all(&mut f, &block).unwrap();
        }
        let mut r = CallRecord {
            call_id: id,
            from: Party::from_uri(None, "sip:alice@contoso.example", None),
            to: Party::from_uri(None, "sip:bob@contoso.example", None),
            started_at_us: T0 + i as i64,
            ended_at_us: Some(T0 + 60_000_000),
            status: CallStatus::Complete,
            file: Some(path.display().to_string()),
            format: Some("wav".into()),
            ..CallRecord::default()
        };
        c.insert_call(&mut r).unwrap();
        c.seal_call(root, &s, &r, T0 + DAY).unwrap();
    }
}
