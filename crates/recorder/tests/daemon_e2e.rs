//! `recorder run` end to end on this machine: a generated Lync edge call is played in real time with tcpreplay
//! onto one end of a veth pair; the daemon captures on the other end, inside a network namespace the test
//! creates (root needed; CI runs as root). Checked: the recording appears while the call runs, is complete
//! after the BYE, is cataloged, and its audio is the source; after `kill -9` mid-call, the next start makes the
//! partial recording playable and marks it interrupted; SIGTERM ends the daemon cleanly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rec_catalog::{CallStatus, Catalog, Query};
use rec_gen::{GenConfig, Generator, PcapWriter};

/// A network namespace with a veth pair: `outer` in the root namespace, `inner` inside `ns`.
struct Netns {
    ns: String,
    outer: String,
    inner: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let id = std::process::id() % 100_000;
        let ns = format!("rec-{tag}-{id}");
        let outer = format!("r{tag}{id}a");
        let inner = format!("r{tag}{id}b");
        let sh = |args: &[&str]| {
            let o = Command::new("ip")
                .args(args)
                .output()
                .expect("ip (iproute2) is installed");
            assert!(
                o.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        sh(&["netns", "add", &ns]);
        sh(&[
            "link", "add", &outer, "type", "veth", "peer", "name", &inner, "netns", &ns,
        ]);
        sh(&["link", "set", &outer, "up"]);
        sh(&["-n", &ns, "link", "set", &inner, "up"]);
        sh(&["-n", &ns, "link", "set", "lo", "up"]);
        Netns { ns, outer, inner }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.outer])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// The tests of this file run one after the other: each drives tcpreplay and a daemon in real time, and two at
/// once on two vCPUs would disturb each other's timing.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write_call(path: &Path, secs: u64) -> rec_gen::CallReport {
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = secs * 1000;
    let mut w = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
    let mut g = Generator::new(cfg);
    for f in g.by_ref() {
        w.write_frame(f.at_us, &f.data).unwrap();
    }
    w.finish().unwrap();
    g.into_reports().remove(0)
}

fn config(dir: &Path, interface: &str) -> PathBuf {
    let out = dir.join("rec");
    let cfg = dir.join("recorder.toml");
    std::fs::write(
        &cfg,
        format!(
            "[recording]\nout = \"{}\"\nflush_interval_ms = 300\n\n[capture]\ninterface = \"{interface}\"\nfilter = \"\"\nbuffer_mb = 16\n",
            out.display()
        ),
    )
    .unwrap();
    cfg
}

fn start_daemon(net: &Netns, cfg: &Path) -> Child {
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &net.ns,
            env!("CARGO_BIN_EXE_recorder"),
            "run",
            "--config",
        ])
        .arg(cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start recorder run");
    // the capture is open once the daemon logs that it runs; give it a moment
    std::thread::sleep(Duration::from_millis(1500));
    child
}

fn replay_realtime(net: &Netns, pcap: &Path) -> Child {
    Command::new("tcpreplay")
        .args(["-q", "-i", &net.outer])
        .arg(pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpreplay is installed (scripts/ensure-deps --test)")
}

fn files_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    // `ip netns exec` execs the recorder, so the pid is the recorder's
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "recorder did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wav_left(path: &Path) -> Vec<i16> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], b"RIFF");
    let data = u32::from_le_bytes(b[40..44].try_into().unwrap()) as usize;
    let riff = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff, b.len() - 8, "WAV sizes describe the file");
    // after the samples: nothing, or the call's LIST/INFO tags (written when the call ended)
    let tail = &b[44 + data..];
    assert!(
        tail.is_empty() || &tail[..4] == b"LIST",
        "WAV sizes describe the file"
    );
    b[44..44 + data]
        .chunks_exact(4)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

#[test]
fn live_call_is_recorded_while_it_runs_and_survives_kill_9() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        effective_uid(),
        0,
        "this end-to-end test needs root (network namespaces, capture)"
    );
    let dir = tempfile::tempdir().unwrap();
    let net = Netns::new("e2e");
    let inner = net.inner.clone();
    let pcap = dir.path().join("call.pcap");
    let gen = write_call(&pcap, 8);
    let cfg = config(dir.path(), &inner);
    let out = dir.path().join("rec");

    // --- 1. a whole call
    let mut daemon = start_daemon(&net, &cfg);
    let mut player = replay_realtime(&net, &pcap);
    std::thread::sleep(Duration::from_secs(6));
    let parts = files_with(&out, ".wav.part");
    assert_eq!(
        parts.len(),
        1,
        "the recording exists while the call runs: {parts:?}"
    );
    let size1 = std::fs::metadata(&parts[0]).unwrap().len();
    std::thread::sleep(Duration::from_secs(1));
    let size2 = std::fs::metadata(&parts[0]).unwrap().len();
    assert!(
        size2 > size1 && size1 > 44,
        "the file grows while the call runs ({size1} → {size2})"
    );
    // playable so far: the header describes what is on disk (up to the last flush)
    let b = std::fs::read(&parts[0]).unwrap();
    let data = u32::from_le_bytes(b[40..44].try_into().unwrap()) as usize;
    assert!(
        data + 44 <= b.len() && data > 8000 * 4,
        "header patched while running: {data} of {}",
        b.len()
    );
    assert!(player.wait().unwrap().success());
    std::thread::sleep(Duration::from_secs(2));
    let status = sigterm(&mut daemon);
    assert!(status.success(), "clean stop: {status:?}");
    assert!(files_with(&out, ".part").is_empty());
    let cat = Catalog::open_read_only(out.join("catalog.sqlite")).unwrap();
    let rows = cat
        .query(&Query {
            call_id: Some(gen.call_id.clone()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, CallStatus::Complete, "{:?}", rows[0]);
    let file = PathBuf::from(rows[0].file.as_ref().unwrap());
    let left = wav_left(&file);
    // Live timing comes from tcpreplay sharing two vCPUs with the daemon (and, in CI, with the other test of
    // this file): its pacing can stall and burst, which shifts audio against the source by more than a
    // network's jitter. So each 0.5 s window of seconds 1–6 is aligned on its own (±100 ms), and most of them
    // must be the caller's signal; the callee's signal or garbage would correlate below 0.2 everywhere.
    let scores = caller_window_scores(&left, 2..12);
    let good = scores.iter().filter(|&&c| c > 0.99).count();
    assert!(
        good >= 7,
        "the live recording holds the caller's signal: {good} of 10 windows above 0.99 ({scores:.3?})"
    );

    // --- 2. kill -9 in the middle of a call, then restart
    let pcap2 = dir.path().join("call2.pcap");
    let mut cfg2 = GenConfig {
        seed: 2,
        ..GenConfig::default()
    };
    cfg2.call.duration_ms = 8000;
    {
        let mut w = PcapWriter::new(std::io::BufWriter::new(
            std::fs::File::create(&pcap2).unwrap(),
        ))
        .unwrap();
        for f in Generator::new(cfg2) {
            w.write_frame(f.at_us, &f.data).unwrap();
        }
        w.finish().unwrap();
    }
    let mut daemon = start_daemon(&net, &cfg);
    let mut player = replay_realtime(&net, &pcap2);
    std::thread::sleep(Duration::from_secs(5));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let _ = player.wait();
    let parts = files_with(&out, ".wav.part");
    assert_eq!(parts.len(), 1, "the killed call's file is still a .part");
    let mut daemon = start_daemon(&net, &cfg);
    assert!(files_with(&out, ".part").is_empty(), "recovered at start");
    let recovered = PathBuf::from(parts[0].to_string_lossy().trim_end_matches(".part"));
    let samples = wav_left(&recovered);
    assert!(
        samples.len() > 8000,
        "the partial recording is playable: {} frames",
        samples.len()
    );
    let status = sigterm(&mut daemon);
    assert!(status.success());
    let cat = Catalog::open_read_only(out.join("catalog.sqlite")).unwrap();
    let all = cat.query(&Query::default()).unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let killed = all.iter().find(|r| r.call_id != gen.call_id).unwrap();
    assert_eq!(killed.status, CallStatus::Interrupted);
    assert_eq!(killed.file.as_deref(), Some(recovered.to_str().unwrap()));

    // --- 3. SIGTERM in the middle of a call: the open call is finalised (file complete, row partial)
    let mut daemon = start_daemon(&net, &cfg);
    let mut player = replay_realtime(&net, &pcap2);
    std::thread::sleep(Duration::from_secs(5));
    assert!(sigterm(&mut daemon).success());
    let _ = player.wait();
    assert!(
        files_with(&out, ".part").is_empty(),
        "no .part after a clean stop"
    );
    let cat = Catalog::open_read_only(out.join("catalog.sqlite")).unwrap();
    let all = cat.query(&Query::default()).unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    let last = all.iter().max_by_key(|r| r.id).unwrap();
    assert_eq!(last.status, CallStatus::Partial, "{last:?}");
    assert!(
        last.end_reason
            .as_deref()
            .unwrap_or("")
            .contains("input ended"),
        "{last:?}"
    );
    let frames = wav_left(Path::new(last.file.as_ref().unwrap())).len();
    assert!(
        frames > 8000 * 2,
        "the finalised recording holds the call so far ({frames} frames)"
    );
}

/// The effective user id, read from /proc.
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[path = "../../mirror/tests/support/mod.rs"]
mod mirror_support;

/// Runs a command inside the namespace and returns (exit code, stdout).
fn in_ns(net: &Netns, program: &str, args: &[&str]) -> (i32, String) {
    let o = Command::new("ip")
        .args(["netns", "exec", &net.ns, program])
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

#[test]
fn mirrored_signaling_is_recorded_journaled_and_served_by_the_admin_api() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        effective_uid(),
        0,
        "this end-to-end test needs root (network namespaces, capture)"
    );
    let dir = tempfile::tempdir().unwrap();
    let net = Netns::new("m2");
    let pki = mirror_support::Setup::new();

    // the call: SIP goes through the mirror (before the media: INVITE … ACK; after: BYE, 200), media on the wire
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = 5000;
    cfg.call.signaling = rec_gen::SignalingMode::InlineUdp;
    let mut g = Generator::new(cfg);
    let frames: Vec<rec_gen::Frame> = g.by_ref().collect();
    let gen = g.into_reports().remove(0);
    let media_start = frames
        .iter()
        .find(|f| f.kind == rec_gen::FrameKind::Media)
        .unwrap()
        .at_us;
    let paths = ["sig_before.pcap", "media.pcap", "sig_after.pcap"].map(|n| dir.path().join(n));
    let mut writers: Vec<_> = paths
        .iter()
        .map(|p| {
            PcapWriter::new(std::io::BufWriter::new(std::fs::File::create(p).unwrap())).unwrap()
        })
        .collect();
    for f in &frames {
        let i = match f.kind {
            rec_gen::FrameKind::Signaling if f.at_us < media_start => 0,
            rec_gen::FrameKind::Signaling => 2,
            _ => 1,
        };
        writers[i].write_frame(f.at_us, &f.data).unwrap();
    }
    for w in writers {
        w.finish().unwrap();
    }

    let out = dir.path().join("rec");
    let token = "e2e-s3cret-token";
    let conf = dir.path().join("recorder.toml");
    std::fs::write(
        &conf,
        format!(
            r#"[recording]
out = "{out}"
flush_interval_ms = 300

[capture]
interface = "{iface}"
filter = ""
buffer_mb = 16

[mirror]
enabled = true
listen = "127.0.0.1:5070"
cert = "{cert}"
key = "{key}"
client_ca = "{ca}"

[admin]
enabled = true
listen = "127.0.0.1:8443"
cert = "{cert}"
key = "{key}"
tokens = [{{ name = "ops", sha256 = "{hash}" }}]
"#,
            out = out.display(),
            iface = net.inner,
            cert = pki.server.cert.display(),
            key = pki.server.key.display(),
            ca = pki.ca.pem.display(),
            hash = rec_admin::token_sha256_hex(token),
        ),
    )
    .unwrap();
    let mut daemon = start_daemon(&net, &conf);
    let mirror = |pcap: &Path| {
        in_ns(
            &net,
            env!("CARGO_BIN_EXE_recorder"),
            &[
                "mirror",
                "--to",
                "127.0.0.1:5070",
                "--server-name",
                "localhost",
                "--cert",
                pki.filter.cert.to_str().unwrap(),
                "--key",
                pki.filter.key.to_str().unwrap(),
                "--ca",
                pki.ca.pem.to_str().unwrap(),
                pcap.to_str().unwrap(),
            ],
        )
    };
    let (code, text) = mirror(&paths[0]);
    assert_eq!(code, 0, "{text}");
    let mut player = replay_realtime(&net, &paths[1]);
    assert!(player.wait().unwrap().success());
    let (code, text) = mirror(&paths[2]);
    assert_eq!(code, 0, "{text}");
    std::thread::sleep(Duration::from_millis(1500));

    // the admin API finds it by Call-ID, only with the token; audio with Range
    let curl = |extra: &[&str], url: &str| {
        let mut args = vec!["-s", "--cacert", pki.ca.pem.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(url);
        in_ns(&net, "curl", &args)
    };
    let bearer = format!("Authorization: Bearer {token}");
    let url = format!(
        "https://localhost:8443/api/recordings?call_id={}",
        gen.call_id
    );
    let (_, body) = curl(&["-H", &bearer], &url);
    let rows: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(rows[0]["status"], "complete", "{body}");
    assert_eq!(rows[0]["streams"].as_array().unwrap().len(), 2);
    let (_, code) = curl(&["-o", "/dev/null", "-w", "%{http_code}"], &url);
    assert_eq!(code.trim(), "401");
    let id = rows[0]["id"].as_i64().expect("row id");
    let (_, head) = curl(
        &["-H", &bearer, "-r", "0-3"],
        &format!("https://localhost:8443/api/recordings/{id}/audio"),
    );
    assert_eq!(head, "RIFF");
    let (_, metrics) = curl(&["-H", &bearer], "https://localhost:8443/metrics");
    assert!(metrics.contains("recorder_calls_total 1"), "{metrics}");
    assert!(
        metrics.contains("recorder_rewrite_latency_seconds_count"),
        "{metrics}"
    );

    assert!(sigterm(&mut daemon).success());

    // the journal holds every mirrored message with its own time (the mirror timestamp) and addresses:
    // replayed, it gives the call again (without media: the journal is signaling only)
    let journal = files_with(&out.join("journal"), ".pcapng");
    assert_eq!(journal.len(), 1, "{journal:?}");
    let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["replay", journal[0].to_str().unwrap(), "--out"])
        .arg(dir.path().join("again"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("call {} [no_media]", gen.call_id)),
        "{err}"
    );
    assert!(
        err.contains(&format!("SIP messages {} (unparsable 0)", gen.sip_messages)),
        "{err}"
    );
}

/// The best correlation of each 0.5 s window `k` in `windows` of `left` with the caller's source, each window
/// aligned on its own (±100 ms): live timing through tcpreplay on shared vCPUs can stall and burst.
fn caller_window_scores(left: &[i16], windows: std::ops::Range<usize>) -> Vec<f64> {
    let src = rec_gen::source_signal(rec_gen::Direction::CallerToCallee, 8000, left.len() + 800);
    let window = 4000usize;
    windows
        .map(|k| {
            let at = k * window;
            (-800i64..=800)
                .filter_map(|lag| {
                    let s = at as i64 + lag;
                    (s >= 0 && s as usize + window <= left.len()).then(|| {
                        rec_gen::correlation(
                            &left[s as usize..s as usize + window],
                            &src[at..at + window],
                        )
                    })
                })
                .fold(f64::MIN, f64::max)
        })
        .collect()
}

#[test]
fn encrypted_live_call_survives_kill_9_and_decrypts_to_its_source() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        effective_uid(),
        0,
        "this end-to-end test needs root (network namespaces, capture)"
    );
    let dir = tempfile::tempdir().unwrap();
    let net = Netns::new("enc");
    let pcap = dir.path().join("call.pcap");
    let gen = write_call(&pcap, 8);
    let kek = dir.path().join("kek");
    std::fs::write(&kek, "5a".repeat(32)).unwrap();
    let cfg = config(dir.path(), &net.inner);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "\n[encryption]\nenabled = true\nkey_id = \"k1\"\nkek_file = \"{}\"\n",
        kek.display()
    ));
    std::fs::write(&cfg, text).unwrap();
    let out = dir.path().join("rec");

    // kill -9 five seconds into an eight-second call
    let mut daemon = start_daemon(&net, &cfg);
    let mut player = replay_realtime(&net, &pcap);
    std::thread::sleep(Duration::from_secs(5));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let _ = player.wait();
    let parts = files_with(&out, ".wav.part");
    assert_eq!(parts.len(), 1, "the killed call's file is still a .part");
    let raw = std::fs::read(&parts[0]).unwrap();
    assert!(
        raw.len() > 8000,
        "chunks reached the disk: {} bytes",
        raw.len()
    );
    assert_ne!(&raw[..4], b"RIFF", "the .part is encrypted, not a WAV");

    // the next start finalises it; the row is interrupted
    let mut daemon = start_daemon(&net, &cfg);
    assert!(files_with(&out, ".part").is_empty(), "recovered at start");
    assert!(sigterm(&mut daemon).success());
    let cat = Catalog::open_read_only(out.join("catalog.sqlite")).unwrap();
    let rows = cat
        .query(&Query {
            call_id: Some(gen.call_id.clone()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, CallStatus::Interrupted, "{:?}", rows[0]);

    // an authorised user's decrypted copy holds the caller's audio up to the kill
    let copy = dir.path().join("copy.wav");
    let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["export", "--call-id", &gen.call_id, "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let left = wav_left(&copy);
    assert!(
        left.len() > 8000 * 2,
        "{} frames before the kill",
        left.len()
    );
    // every whole window from second 1 that fits with its ±100 ms alignment
    let scores = caller_window_scores(&left, 2..(left.len() - 800) / 4000);
    let good = scores.iter().filter(|&&c| c > 0.99).count();
    assert!(
        !scores.is_empty() && good * 2 >= scores.len(),
        "the decrypted recording holds the caller's signal: {good} of {} windows above 0.99 ({scores:.3?})",
        scores.len()
    );
}
