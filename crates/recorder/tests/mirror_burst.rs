//! A burst of 20,000 mirrored messages into a real `recorder run` (mirror enabled, no capture) from the real
//! `recorder mirror` client, sent as fast as it can: every message is acknowledged, journaled once and handed to
//! the engine (nothing acknowledged and dropped), and every call sent has its catalog row. Whatever the
//! recorder could not take at once it refused and the client sent again.
#![allow(missing_docs)]

#[path = "../../mirror/tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rec_catalog::{Catalog, Query};
use rec_gen::{GenConfig, Generator, PcapWriter};
use rec_packet::capture::OfflineCapture;

const MESSAGES: u64 = 20_000;

/// Writes `calls` generated calls (short media) to `path`; returns the SIP messages they hold.
fn write_calls(path: &Path, calls: u32) -> u64 {
    let mut cfg = GenConfig {
        calls,
        stagger_us: 2_000,
        ..GenConfig::default()
    };
    cfg.call.duration_ms = 100;
    cfg.call.signaling = rec_gen::SignalingMode::InlineUdp;
    let mut w = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
    let mut g = Generator::new(cfg);
    for f in g.by_ref() {
        w.write_frame(f.at_us, &f.data).unwrap();
    }
    w.finish().unwrap();
    g.into_reports().iter().map(|r| r.sip_messages).sum()
}

fn journal_frames(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let mut cap = OfflineCapture::open(e.path()).unwrap();
        while cap.next_frame().unwrap().is_some() {
            n += 1;
        }
    }
    n
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
#[ignore = "work in progress: the first run (2,048 generated calls) showed 0 loss, 25,746 refusals resent; with inline-UDP signaling the run was not seen to finish in time"]
fn a_burst_of_20000_mirrored_messages_loses_nothing() {
    let s = support::Setup::new();
    let dir = tempfile::tempdir().unwrap();
    let per_call = write_calls(&dir.path().join("one.pcap"), 1);
    let calls = MESSAGES.div_ceil(per_call) as u32;
    let pcap = dir.path().join("calls.pcap");
    let sent = write_calls(&pcap, calls);
    assert!(sent >= MESSAGES, "{sent}");

    let out = dir.path().join("rec");
    let port = free_port();
    let cfg: PathBuf = dir.path().join("recorder.toml");
    std::fs::write(
        &cfg,
        format!(
            "[recording]\nout = \"{}\"\n\n[capture]\ninterface = \"\"\n\n[mirror]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\ncert = \"{}\"\nkey = \"{}\"\nclient_ca = \"{}\"\nqueue = 1024\n",
            out.display(),
            s.server.cert.display(),
            s.server.key.display(),
            s.ca.pem.display()
        ),
    )
    .unwrap();
    let daemon = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the mirror listens once the daemon has started
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(30), "the daemon listens");
        std::thread::sleep(Duration::from_millis(50));
    }
    let client = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["mirror", "--to", &format!("127.0.0.1:{port}")])
        .args(["--server-name", "localhost", "--quiet", "--rate", "1000000"])
        .arg("--cert")
        .arg(&s.filter.cert)
        .arg("--key")
        .arg(&s.filter.key)
        .arg("--ca")
        .arg(&s.ca.pem)
        .arg(&pcap)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&client.stdout).into_owned();
    // the daemon ends every open call on SIGTERM and logs its counters
    let _ = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let done = daemon.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&done.stderr).into_owned();
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&client.stderr));
    assert_eq!(client.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("acknowledged: {sent} of {sent}")),
        "{stdout}"
    );
    // every message journaled exactly once (resends of refused messages were not journaled twice)
    assert_eq!(journal_frames(&out.join("journal")), sent, "{log}");
    // every call has its catalog row
    let cat = Catalog::open_read_only(out.join("catalog.sqlite")).unwrap();
    let rows = cat
        .query(&Query {
            limit: Some(u32::MAX),
            ..Query::default()
        })
        .unwrap();
    let ids: HashSet<&str> = rows.iter().map(|r| r.call_id.as_str()).collect();
    assert_eq!(ids.len(), calls as usize, "{log}");
    assert!(rows
        .iter()
        .all(|r| r.status != rec_catalog::CallStatus::Recording));
    // nothing was dropped anywhere (the counters behind recorder_dropped_total and the mirror events)
    let stopped = log
        .lines()
        .rfind(|l| l.contains("stopped"))
        .unwrap_or_default();
    assert!(stopped.contains("store_queue_dropped=0"), "{stopped}");
    assert!(stopped.contains("calls_truncated=0"), "{stopped}");
    assert!(stopped.contains("calls_active=0"), "{stopped}");
}
