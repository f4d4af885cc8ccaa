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

/// A child process killed when the test fails before it ended.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl KillOnDrop {
    /// Waits for the child at most `limit` (polling); kills it and fails when it has not ended by then.
    fn wait_bounded(&mut self, limit: Duration, what: &str) -> std::process::ExitStatus {
        let child = self.0.as_mut().unwrap();
        let t0 = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.0 = None;
                return status;
            }
            assert!(t0.elapsed() < limit, "{what} did not end within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_burst_of_20000_mirrored_messages_loses_nothing() {
    let s = support::Setup::new();
    let dir = tempfile::tempdir().unwrap();
    let per_call = write_calls(&dir.path().join("one.pcap"), 1);
    let calls = MESSAGES.div_ceil(per_call) as u32;
    let pcap = dir.path().join("calls.pcap");
    let sent = write_calls(&pcap, calls);
    assert!(sent >= MESSAGES, "{sent}");
    eprintln!("generated {calls} calls, {sent} messages");

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
    // the daemon logs every call: to a file (a pipe nobody reads while the client runs fills up, and the
    // daemon, blocked writing its log, stops acknowledging: that was why this test hung)
    let daemon_log = dir.path().join("daemon.log");
    let mut daemon = KillOnDrop(Some(
        Command::new(env!("CARGO_BIN_EXE_recorder"))
            .args(["run", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&daemon_log).unwrap())
            .spawn()
            .unwrap(),
    ));
    // the mirror listens once the daemon has started
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(30), "the daemon listens");
        std::thread::sleep(Duration::from_millis(50));
    }
    let client_out = dir.path().join("client.out");
    let client_err = dir.path().join("client.err");
    // full speed unless MIRROR_BURST_RATE (messages/s) says otherwise (BENCHMARKS.md)
    let rate = std::env::var("MIRROR_BURST_RATE").unwrap_or_else(|_| "1000000".into());
    let started = Instant::now();
    let mut client = KillOnDrop(Some(
        Command::new(env!("CARGO_BIN_EXE_recorder"))
            .args(["mirror", "--to", &format!("127.0.0.1:{port}")])
            .args(["--server-name", "localhost", "--quiet", "--rate", &rate])
            .arg("--cert")
            .arg(&s.filter.cert)
            .arg("--key")
            .arg(&s.filter.key)
            .arg("--ca")
            .arg(&s.ca.pem)
            .arg(&pcap)
            .stdout(std::fs::File::create(&client_out).unwrap())
            .stderr(std::fs::File::create(&client_err).unwrap())
            .spawn()
            .unwrap(),
    ));
    // the client gives up by itself after 30 s without an acknowledgement
    let status = client.wait_bounded(Duration::from_secs(50), "recorder mirror");
    let elapsed = started.elapsed();
    let stdout = std::fs::read_to_string(&client_out).unwrap();
    eprintln!(
        "{sent} messages ({calls} calls) mirrored and acknowledged in {:.2} s ({:.0} messages/s)\n{stdout}{}",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        std::fs::read_to_string(&client_err).unwrap()
    );
    // the daemon ends every open call on SIGTERM and logs its counters
    let pid = daemon.0.as_ref().unwrap().id();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    daemon.wait_bounded(Duration::from_secs(30), "recorder run after SIGTERM");
    let log = std::fs::read_to_string(&daemon_log).unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
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
