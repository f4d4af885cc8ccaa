//! `recorder query` as a user runs it: a catalog written with rec-catalog, the binary's JSON, table and exit
//! codes.

use std::path::Path;
use std::process::{Command, Output};

use rec_catalog::{CallRecord, CallStatus, Catalog, Party, StreamRecord};
use serde_json::Value;

const T0: i64 = 1_795_946_400_000_000; // 2026-11-29T10:00:00Z

fn recorder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(args)
        .output()
        .unwrap()
}

fn stream(direction: &str, ssrc: u32, packets: u64) -> StreamRecord {
    StreamRecord {
        direction: direction.into(),
        ssrc,
        codec: "SILK".into(),
        packets,
        lost: 2,
        duplicates: 0,
        decrypt_failures: 1,
        rtp_file: None,
    }
}

/// Three calls: two on 2026-11-29 (one to +44 20 8123 4567), one on 2026-11-30 still recording.
fn build_catalog(path: &Path) {
    let mut cat = Catalog::open(path).unwrap();
    let mut a = CallRecord {
        call_id: "call-a@fe1".into(),
        from: Party::from_uri(Some("Alice".into()), "sip:alice@contoso.example", None),
        to: Party::from_uri(
            None,
            "sip:+442081234567@gw.contoso.example;user=phone",
            None,
        ),
        started_at_us: T0,
        ended_at_us: Some(T0 + 62_500_000),
        status: CallStatus::Complete,
        file: Some("recordings/2026-11-29/100000_call-a_fe1_0123456789abcdef.wav".into()),
        format: Some("wav".into()),
        channels: 2,
        sample_rate: 16_000,
        streams: vec![
            stream("caller", 0x1234_5678, 3125),
            stream("callee", 42, 3100),
        ],
        ..CallRecord::default()
    };
    let mut b = CallRecord {
        call_id: "it's \"b\"; DROP TABLE calls".into(),
        from: Party::from_uri(None, "tel:+1-425-555-0100", None),
        to: Party::from_uri(None, "sip:bob@contoso.example", None),
        started_at_us: T0 + 3_600_000_000,
        ended_at_us: Some(T0 + 3_610_000_000),
        status: CallStatus::NoMedia,
        ..CallRecord::default()
    };
    let mut c = CallRecord {
        call_id: "call-c".into(),
        from: Party::from_uri(None, "sip:carol@contoso.example", None),
        to: Party::from_uri(None, "sip:020 8123 4567@gw", Some("44")),
        started_at_us: T0 + 86_400_000_000,
        file: Some("recordings/2026-11-30/100000_call-c.opus.part".into()),
        format: Some("opus".into()),
        channels: 1,
        sample_rate: 48_000,
        ..CallRecord::default()
    };
    for x in [&mut a, &mut b, &mut c] {
        cat.insert_call(x).unwrap();
    }
}

fn json(args: &[&str]) -> Vec<Value> {
    let out = recorder(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(calls) => calls,
        other => panic!("not an array: {other}"),
    }
}

fn call_ids(calls: &[Value]) -> Vec<&str> {
    calls
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect()
}

#[test]
fn json_has_the_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    build_catalog(&path);
    let p = path.to_str().unwrap();
    let calls = json(&["query", "--catalog", p, "--json"]);
    assert_eq!(
        call_ids(&calls),
        ["call-a@fe1", "it's \"b\"; DROP TABLE calls", "call-c"]
    );
    let a = &calls[0];
    assert_eq!(
        a["file"],
        "recordings/2026-11-29/100000_call-a_fe1_0123456789abcdef.wav"
    );
    assert_eq!(a["format"], "wav");
    assert_eq!(a["channels"], 2);
    assert_eq!(a["sample_rate"], 16000);
    assert_eq!(a["started_at"], "2026-11-29T10:00:00Z");
    assert_eq!(a["ended_at"], "2026-11-29T10:01:02.500000Z");
    assert_eq!(a["duration_s"], 62.5);
    assert_eq!(a["from"]["uri"], "sip:alice@contoso.example");
    assert_eq!(a["from"]["display"], "Alice");
    assert_eq!(a["to"]["number"], "+442081234567");
    assert_eq!(a["status"], "complete");
    let streams = a["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[0]["direction"], "caller");
    assert_eq!(streams[0]["ssrc"], 0x1234_5678);
    assert_eq!(streams[0]["codec"], "SILK");
    assert_eq!(streams[0]["packets"], 3125);
    assert_eq!(streams[0]["lost"], 2);
    assert_eq!(streams[0]["decrypt_failures"], 1);
    assert_eq!(streams[1]["direction"], "callee");
    assert_eq!(calls[1]["status"], "no_media");
    assert_eq!(calls[1]["file"], Value::Null);
    let c = &calls[2];
    assert_eq!(c["status"], "recording");
    assert_eq!(c["ended_at"], Value::Null);
    assert_eq!(c["duration_s"], Value::Null);
}

#[test]
fn filters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    build_catalog(&path);
    let p = path.to_str().unwrap();
    for n in [
        "+44 20 8123 4567",
        "0044 20 8123 4567",
        "tel:+44-20-8123-4567",
        "020 8123 4567",
    ] {
        let calls = json(&["query", "--catalog", p, "--json", "--number", n]);
        assert_eq!(call_ids(&calls), ["call-a@fe1", "call-c"], "{n}");
    }
    let calls = json(&[
        "query",
        "--catalog",
        p,
        "--json",
        "--number",
        "+14255550100",
    ]);
    assert_eq!(call_ids(&calls), ["it's \"b\"; DROP TABLE calls"]);
    let calls = json(&[
        "query",
        "--catalog",
        p,
        "--json",
        "--call-id",
        "it's \"b\"; DROP TABLE calls",
    ]);
    assert_eq!(calls.len(), 1);
    let calls = json(&[
        "query",
        "--catalog",
        p,
        "--json",
        "--since",
        "2026-11-29T10:30:00Z",
    ]);
    assert_eq!(call_ids(&calls), ["it's \"b\"; DROP TABLE calls", "call-c"]);
    // a bare date as --until includes that whole day
    let calls = json(&[
        "query",
        "--catalog",
        p,
        "--json",
        "--since",
        "2026-11-29",
        "--until",
        "2026-11-29",
    ]);
    assert_eq!(
        call_ids(&calls),
        ["call-a@fe1", "it's \"b\"; DROP TABLE calls"]
    );
    let calls = json(&[
        "query",
        "--catalog",
        p,
        "--json",
        "--until",
        "2026-11-29T11:30:00+01:00",
    ]);
    assert_eq!(call_ids(&calls), ["call-a@fe1"]);
    // --until is exclusive: a call starting exactly then is not included
    let calls = json(&[
        "query",
        "--catalog",
        p,
        "--json",
        "--until",
        "2026-11-29T11:00:00+01:00",
    ]);
    assert!(calls.is_empty());
}

#[test]
fn table_and_empty_results() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    build_catalog(&path);
    let p = path.to_str().unwrap();
    let out = recorder(&["query", "--catalog", p]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}"); // header, 3 calls, count
    assert!(lines[0].starts_with("STARTED"));
    assert!(lines[1].contains("2026-11-29T10:00:00Z") && lines[1].contains("62.5s"));
    assert!(lines[1].contains("complete") && lines[1].contains("+442081234567"));
    assert!(lines[3].contains("recording") && lines[3].contains(".opus.part"));

    assert!(lines[2].contains("it's \"b\"; DROP TABLE calls"), "{text}");

    let out = recorder(&["query", "--catalog", p, "--call-id", "nope"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "no recordings found"
    );
    assert_eq!(
        json(&[
            "query",
            "--catalog",
            p,
            "--json",
            "--number",
            "+1 999 555 0000"
        ])
        .len(),
        0
    );
}

#[test]
fn unusable_catalog_or_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    let out = recorder(&["query", "--catalog", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no catalog"));
    assert!(!missing.exists());

    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let out = recorder(&["query", "--catalog", junk.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.sqlite"));

    let good = dir.path().join("catalog.sqlite");
    build_catalog(&good);
    for args in [
        ["--since", "yesterday"],
        ["--until", "2026-13-01"],
        ["--bogus", "x"],
        ["--number", "alice"],
    ] {
        let out = recorder(&[
            "query",
            "--catalog",
            good.to_str().unwrap(),
            args[0],
            args[1],
        ]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }

    // the default catalog is ./recordings/catalog.sqlite, relative to the working directory
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["query", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("recordings/catalog.sqlite"));
    std::fs::create_dir(dir.path().join("recordings")).unwrap();
    build_catalog(&dir.path().join("recordings/catalog.sqlite"));
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["query", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let calls: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(calls.len(), 3);
}

#[test]
fn table_escapes_control_characters_from_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let mut cat = Catalog::open(&path).unwrap();
    cat.insert_call(&mut CallRecord {
        call_id: "evil\u{1b}[2J\nfake line".into(),
        from: Party::from_uri(None, "sip:a\r@x", None),
        to: Party::from_uri(None, "sip:b@x", None),
        started_at_us: T0,
        ..CallRecord::default()
    })
    .unwrap();
    let out = recorder(&["query", "--catalog", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains(r"evil\u{1b}[2J\nfake line"), "{text}");
    // JSON keeps the exact value
    let calls = json(&["query", "--catalog", path.to_str().unwrap(), "--json"]);
    assert_eq!(calls[0]["call_id"], "evil\u{1b}[2J\nfake line");
}

#[test]
fn config_names_the_catalog_the_service_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("srv-recordings");
    std::fs::create_dir_all(&out).unwrap();
    build_catalog(&out.join("catalog.sqlite"));
    let cfg = dir.path().join("recorder.toml");
    std::fs::write(&cfg, format!("[recording]\nout = \"{}\"\n", out.display())).unwrap();
    let calls = json(&[
        "query",
        "--config",
        cfg.to_str().unwrap(),
        "--json",
        "--call-id",
        "call-a@fe1",
    ]);
    assert_eq!(call_ids(&calls), ["call-a@fe1"]);
    // a configuration whose directory holds no catalog is an unusable catalog, not an empty answer
    std::fs::write(&cfg, "[recording]\nout = \"/nonexistent/recordings\"\n").unwrap();
    let o = recorder(&["query", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/recordings/catalog.sqlite"));
    // both at once is ambiguous
    let o = recorder(&["query", "--config", "x", "--catalog", "y"]);
    assert_eq!(o.status.code(), Some(2));
}
