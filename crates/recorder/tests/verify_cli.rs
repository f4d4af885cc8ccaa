//! `recorder verify` and `recorder retention` as an operator runs them, over recordings made by
//! `recorder replay` of the bundled sample call: intact is exit 0; a changed byte, a deleted file, an edited
//! catalog row, an edited manifest, a removed or reordered chain entry are each exit 1 with a line naming
//! the item. The auditor's script of docs/manifests.md (sha256sum + openssl only) is run on the same
//! recordings as an independent reference.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rec_catalog::{CallStatus, Catalog};

fn recorder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(args)
        .output()
        .unwrap()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/lync_edge_call.pcap")
}

/// `calls` replays of the sample call into a fresh directory: `calls` sealed recordings in one chain.
fn recordings(calls: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec");
    for _ in 0..calls {
        let o = recorder(&[
            "replay",
            sample().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    dir
}

fn out(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("rec")
}

fn verify(dir: &tempfile::TempDir, extra: &[&str]) -> (i32, String, String) {
    let catalog = out(dir).join("catalog.sqlite");
    let mut args = vec!["verify", "--catalog", catalog.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = recorder(&args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn audio_files(dir: &tempfile::TempDir) -> Vec<PathBuf> {
    let c = Catalog::open(out(dir).join("catalog.sqlite")).unwrap();
    c.query(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| PathBuf::from(r.file.expect("an audio file")))
        .collect()
}

fn rel(dir: &tempfile::TempDir, p: &Path) -> String {
    p.strip_prefix(out(dir))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn manifest(dir: &tempfile::TempDir, seq: u64) -> PathBuf {
    out(dir).join(format!("manifests/{seq:010}.json"))
}

#[test]
fn intact_recordings_verify_and_each_tampering_is_named() {
    let dir = recordings(3);
    let (code, stdout, stderr) = verify(&dir, &["--all"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("intact: 3 chain entries, 3 recordings checked"),
        "{stderr}"
    );
    let files = audio_files(&dir);
    assert_eq!(files.len(), 3);

    // one byte of an audio file changed
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&files[0], &bytes).unwrap();
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    let line = format!("altered: {}: sha256 ", rel(&dir, &files[0]));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&line) && l.ends_with("sealed in chain entry 1")),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    bytes[at] ^= 1;
    std::fs::write(&files[0], &bytes).unwrap();
    assert_eq!(verify(&dir, &[]).0, 0);

    // a file deleted without a deletion entry
    let saved = std::fs::read(&files[1]).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!("missing: {}: file of call", rel(&dir, &files[1]))),
        "{stdout}"
    );
    assert!(
        stdout.contains("is gone and no deletion entry covers it"),
        "{stdout}"
    );
    std::fs::write(&files[1], &saved).unwrap();

    // an extra recording file nobody sealed
    let extra = files[1].with_file_name("999999_planted.wav");
    std::fs::write(&extra, b"RIFF").unwrap();
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout.trim(),
        format!(
            "extra: {}: no manifest covers this recording file",
            rel(&dir, &extra)
        )
    );
    std::fs::remove_file(&extra).unwrap();

    // a catalog row edited
    {
        let mut c = Catalog::open(out(&dir).join("catalog.sqlite")).unwrap();
        let mut row = c.get(2).unwrap().unwrap();
        row.status = CallStatus::Partial;
        c.update_call(&row).unwrap();
    }
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout.trim(),
        "altered: catalog row 2: status is \"partial\", chain entry 2 sealed \"complete\""
    );
    {
        let mut c = Catalog::open(out(&dir).join("catalog.sqlite")).unwrap();
        let mut row = c.get(2).unwrap().unwrap();
        row.status = CallStatus::Complete;
        c.update_call(&row).unwrap();
    }
    assert_eq!(verify(&dir, &[]).0, 0);

    // a manifest edited
    let m2 = manifest(&dir, 2);
    let original = std::fs::read_to_string(&m2).unwrap();
    std::fs::write(&m2, original.replace("\"complete\"", "\"partial\"")).unwrap();
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("altered: manifests/0000000002.json: the signature does not verify"),
        "{stdout}"
    );
    std::fs::write(&m2, &original).unwrap();

    // two chain entries swapped (renamed into each other's place)
    let (m1, m3) = (manifest(&dir, 1), manifest(&dir, 3));
    let swap = |a: &Path, b: &Path| {
        for ext in ["json", "sig"] {
            let (a, b) = (a.with_extension(ext), b.with_extension(ext));
            let tmp = a.with_extension("tmp");
            std::fs::rename(&a, &tmp).unwrap();
            std::fs::rename(&b, &a).unwrap();
            std::fs::rename(&tmp, &b).unwrap();
        }
    };
    swap(&m1, &m3);
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert!(stdout.contains("reordered: manifests/0000000001.json: the file name says chain entry 1 but the manifest is entry 3"), "{stdout}");
    swap(&m1, &m3);

    // the auditor's script agrees while intact
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/verify-manifests.sh");
    let pubkey = out(&dir).join("manifests/node.pub.pem");
    let audit = |d: &Path| {
        Command::new("bash")
            .arg(&script)
            .arg(d)
            .arg(&pubkey)
            .output()
            .unwrap()
    };
    let o = audit(&out(&dir));
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // a chain entry removed from the middle, then the tail
    let m2sig = m2.with_extension("sig");
    let (j, s) = (std::fs::read(&m2).unwrap(), std::fs::read(&m2sig).unwrap());
    std::fs::remove_file(&m2).unwrap();
    std::fs::remove_file(&m2sig).unwrap();
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("missing: chain: chain entry 2 is missing (entry 3 follows entry 1)"),
        "{stdout}"
    );
    let o = audit(&out(&dir));
    assert!(
        !o.status.success(),
        "the auditor's script missed a removed entry"
    );
    std::fs::write(&m2, j).unwrap();
    std::fs::write(&m2sig, s).unwrap();
    std::fs::remove_file(&m3).unwrap();
    std::fs::remove_file(m3.with_extension("sig")).unwrap();
    let (code, stdout, _) = verify(&dir, &[]);
    assert_eq!(code, 1);
    assert!(stdout.contains("missing: chain: the chain was truncated: the catalog records entries up to 3, manifests/ ends at entry 2"), "{stdout}");
}

#[test]
fn auditor_script_detects_a_changed_file_with_sha256sum_and_openssl() {
    let dir = recordings(1);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/verify-manifests.sh");
    let pubkey = out(&dir).join("manifests/node.pub.pem");
    let run = || {
        Command::new("bash")
            .arg(&script)
            .arg(out(&dir))
            .arg(&pubkey)
            .output()
            .unwrap()
    };
    let o = run();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("Signature Verified Successfully"), "{text}");
    // the raw openssl command of the docs on the first manifest
    let m = out(&dir).join("manifests/0000000001.json");
    let o = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&pubkey)
        .arg("-rawin")
        .arg("-in")
        .arg(&m)
        .arg("-sigfile")
        .arg(m.with_extension("sig"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = audio_files(&dir).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[100] ^= 0x80;
    std::fs::write(&file, &bytes).unwrap();
    let o = run();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("FAILED"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn retention_sweep_with_a_given_clock_deletes_provably_and_a_hold_beats_it() {
    let dir = recordings(2);
    let cfg = dir.path().join("recorder.toml");
    std::fs::write(&cfg, "[retention]\ndefault_days = 90\n").unwrap();
    let catalog = out(&dir).join("catalog.sqlite");
    let files = audio_files(&dir);
    // hold the first call by its number... both calls have the same parties: hold by time range of the first
    let first = Catalog::open(&catalog).unwrap().get(1).unwrap().unwrap();
    let hold = Catalog::open(&catalog)
        .unwrap()
        .add_hold(
            &rec_catalog::holds::HoldScope {
                call_id: Some(first.call_id.clone()),
                ..Default::default()
            },
            "case 2026-17",
            "test",
            0,
        )
        .unwrap();
    let sweep = |now: &str, dry: bool| {
        let mut args = vec![
            "retention",
            "--sweep",
            "--config",
            cfg.to_str().unwrap(),
            "--catalog",
            catalog.to_str().unwrap(),
            "--now",
            now,
        ];
        if dry {
            args.push("--dry-run");
        }
        let o = recorder(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // not yet expired: 89 days after the sample call (2026?) — far in the past of 2100, so use the call's own date
    let ended = first.ended_at_us.unwrap();
    let day = |d: i64| rec_catalog::time::format_rfc3339(ended + d * 86_400_000_000);
    assert_eq!(sweep(&day(89), false), "");
    // expired, but the hold (same Call-ID: both replays) keeps both
    let out_text = sweep(&day(91), false);
    assert!(
        out_text.contains("kept catalog row 1") && out_text.contains("under legal hold 1"),
        "{out_text}"
    );
    assert!(files.iter().all(|f| f.exists()));
    Catalog::open(&catalog)
        .unwrap()
        .lift_hold(hold.id, "case closed", "test", 1)
        .unwrap();
    assert!(sweep(&day(91), true).contains("would delete catalog row 1"));
    assert!(files.iter().all(|f| f.exists()), "a dry run deleted");
    let out_text = sweep(&day(91), false);
    assert!(
        out_text.contains("deleted catalog row 1 call")
            && out_text.contains("retention: kept 90 days (default_days)"),
        "{out_text}"
    );
    assert!(files.iter().all(|f| !f.exists()));
    // the waveform sidecars (derived from the audio) go with their recordings
    assert!(
        files
            .iter()
            .all(|f| !std::path::PathBuf::from(format!("{}.peaks", f.display())).exists()),
        "a waveform sidecar outlived its recording"
    );
    // the deletions are sealed: the chain is intact and says so
    let (code, stdout, stderr) = verify(&dir, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("4 chain entries, 0 recordings checked, 2 deleted by a sealed deletion"),
        "{stderr}"
    );
}
