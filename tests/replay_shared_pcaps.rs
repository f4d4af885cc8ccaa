//! Scenario: every capture of the shared test material (`../shared/testdata/pcaps`, real-world pcap and
//! pcapng files from heplify, nDPI and SIPp) replayed through the engine the way `recorder replay` does it
//! (timers every 100 ms of capture time, one timer run over gaps longer than 10 s, `finish` at the end).
//! None may panic. Where a capture holds SIP calls with RTP, the engine's per-SSRC packet counts are
//! compared with Wireshark's RTP stream analysis (`tshark -z rtp,streams`, every UDP port ≥ 1024 decoded as
//! RTP), an independent implementation; for the bare RTP stream of `sipp/g711a.pcap` the recorded audio is
//! compared with an independent A-law decoding of the payload bytes tshark exports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rec_engine::{CallReport, CallStatus, CaptureTimers, Engine, EngineConfig, Input, Output};
use rec_packet::capture::OfflineCapture;
use recorder_tests::replay::parse_wav;

/// What replaying one capture produced.
#[derive(Default)]
struct Run {
    reports: Vec<CallReport>,
    files: BTreeMap<u64, Vec<u8>>,
    frames: u64,
}

fn replay_capture(path: &Path, cfg: EngineConfig) -> Run {
    let mut cap = OfflineCapture::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut engine = Engine::new(cfg).expect("engine");
    let mut run = Run::default();
    let mut timers = CaptureTimers::new();
    let mut last = 0;
    while let Some(f) = cap
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        let at = f.at_micros as i64;
        timers.before(&mut engine, at);
        engine.handle_input(Input::Packet {
            at_us: at,
            link: f.link,
            frame: f.data,
        });
        run.frames += 1;
        last = last.max(at);
        drain(&mut engine, &mut run);
    }
    engine.finish(last);
    drain(&mut engine, &mut run);
    assert_eq!(engine.active_calls(), 0);
    run
}

fn drain(engine: &mut Engine, run: &mut Run) {
    while let Some(o) = engine.poll_output() {
        match o {
            Output::Audio { call, chunk } => {
                let file = run.files.entry(call).or_default();
                file.extend_from_slice(&chunk.bytes);
                if let Some((off, patch)) = &chunk.header_patch {
                    let off = *off as usize;
                    file[off..off + patch.len()].copy_from_slice(patch);
                }
            }
            Output::CallEnded { report, .. } => run.reports.push(*report),
            _ => {}
        }
    }
}

fn pcaps() -> PathBuf {
    recorder_tests::shared_dir().join("testdata").join("pcaps")
}

/// Runs tshark on `file` with `args`, every UDP port ≥ 1024 decoded as RTP. UDPTL / T.38 are turned off:
/// after the T.38 re-INVITE of the FAX capture Wireshark's SDP-driven conversation dissector takes 6 RTP
/// packets of the gateway's stream (v2, PT 8, SSRC 0x0EAF0EAF, seq 0x0728…) for UDPTL, over the Decode-As.
fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-d",
            "udp.port==1024-65535,rtp",
            "--disable-protocol",
            "udptl",
            "--disable-protocol",
            "t38",
        ])
        .args(args)
        .output()
        .expect("tshark runs (scripts/ensure-deps --test installs it)");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// tshark's RTP stream table: packets per SSRC.
fn tshark_streams(file: &Path) -> BTreeMap<u32, u64> {
    let text = tshark(file, &["-q", "-z", "rtp,streams"]);
    let mut streams = BTreeMap::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        // start end src port dst port SSRC payload… pkts lost (pct) …
        let Some(ssrc) = t.get(6).and_then(|s| s.strip_prefix("0x")) else {
            continue;
        };
        let Ok(ssrc) = u32::from_str_radix(ssrc, 16) else {
            continue;
        };
        let pct = t
            .iter()
            .position(|s| s.starts_with('(') && s.ends_with("%)"))
            .expect("lost percentage column");
        let pkts: u64 = t[pct - 2].parse().expect("packet count");
        *streams.entry(ssrc).or_default() += pkts;
    }
    streams
}

/// Capture times (µs) of the RTP packets of each SSRC, as tshark decodes them.
fn tshark_rtp_times(file: &Path) -> BTreeMap<u32, Vec<i64>> {
    let text = tshark(
        file,
        &[
            "-Y",
            "rtp.ssrc",
            "-T",
            "fields",
            "-e",
            "rtp.ssrc",
            "-e",
            "frame.time_epoch",
        ],
    );
    let mut m: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for line in text.lines() {
        let mut f = line.split('\t');
        let (Some(ssrc), Some(t)) = (f.next(), f.next()) else {
            continue;
        };
        let ssrc = u32::from_str_radix(ssrc.trim_start_matches("0x"), 16).expect("ssrc");
        let t: f64 = t.parse().expect("time");
        m.entry(ssrc).or_default().push((t * 1e6).round() as i64);
    }
    m
}

/// Packets per SSRC over all reports, and which report holds each SSRC.
fn engine_streams(run: &Run) -> BTreeMap<u32, (u64, usize)> {
    let mut m = BTreeMap::new();
    for (i, r) in run.reports.iter().enumerate() {
        for s in &r.streams {
            let e = m.entry(s.ssrc).or_insert((0, i));
            e.0 += s.packets;
        }
    }
    m
}

#[test]
fn every_shared_capture_replays_without_panic() {
    let mut files = Vec::new();
    for sub in std::fs::read_dir(pcaps()).expect("pcaps dir") {
        let sub = sub.expect("entry").path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).expect("dir") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                files.push(f);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 20, "shared captures found: {files:?}");
    for f in &files {
        for unmatched in [false, true] {
            let run = replay_capture(
                f,
                EngineConfig {
                    record_unmatched_rtp: unmatched,
                    ..EngineConfig::default()
                },
            );
            assert!(run.frames > 0, "{}", f.display());
            for r in &run.reports {
                assert_ne!(
                    r.status,
                    CallStatus::Recording,
                    "{}: a finished call",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn heplify_sip_over_tcp_call_counts_match_tshark() {
    let file = pcaps().join("heplify/sip_ipv4_tcp.pcap");
    let run = replay_capture(&file, EngineConfig::default());
    let want = tshark_streams(&file);
    assert_eq!(want.len(), 2, "tshark: {want:?}");
    let got = engine_streams(&run);
    assert_eq!(run.reports.len(), 1);
    assert_eq!(
        run.reports[0].status,
        CallStatus::Complete,
        "{:?}",
        run.reports[0].notes
    );
    let got: BTreeMap<u32, u64> = got.into_iter().map(|(s, (n, _))| (s, n)).collect();
    assert_eq!(got, want);
}

#[test]
fn fax_call_counts_match_tshark() {
    let file = pcaps().join("heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
    let run = replay_capture(&file, EngineConfig::default());
    let want = tshark_streams(&file);
    assert_eq!(want.len(), 2, "tshark: {want:?}");
    let got = engine_streams(&run);
    let times = tshark_rtp_times(&file);
    let mut after_bye = 0;
    for (ssrc, n) in &want {
        let (packets, i) = *got
            .get(ssrc)
            .unwrap_or_else(|| panic!("engine has no stream {ssrc:#x}: {got:?}"));
        let report = &run.reports[i];
        assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
        assert_eq!(report.meta.end_reason.as_deref(), Some("BYE from caller"));
        assert_eq!(packets, *n, "{ssrc:#x}");
        let bye = report.meta.ended_at_us.expect("ended");
        after_bye += times[ssrc].iter().filter(|&&t| t > bye).count();
    }
    assert_eq!(got.len(), 2, "no other stream: {got:?}");
    // the gateways' last packets (1 of the caller's, 3 of the callee's, up to 40 ms) come after the BYE:
    // counted above because the engine keeps a call open for media a little after its BYE
    assert_eq!(after_bye, 4);
}

#[test]
fn ndpi_sip_capture_rtp_after_the_failed_call_is_not_attributed() {
    let file = pcaps().join("ndpi/sip.pcap");
    let run = replay_capture(&file, EngineConfig::default());
    let want = tshark_streams(&file);
    assert_eq!(want.len(), 1, "tshark: {want:?}");
    let (&ssrc, &n) = want.iter().next().expect("one stream");
    assert_eq!(n, 9);
    // The only RTP (caller → 212.242.33.36:40392, 9 packets) starts 1 s after that call's INVITE was
    // answered `480 Error`: the call is over, so the stream belongs to no call and is not counted; the call
    // itself ends failed without media. Checked from the times: the failure precedes the first packet.
    let first = tshark_rtp_times(&file)[&ssrc][0];
    let call = run
        .reports
        .iter()
        .find(|r| {
            r.meta.call_id == "11894297-4432a9f8@192.168.1.2"
                && r.meta.end_reason.as_deref() == Some("480 Error")
        })
        .expect("the call of the RTP");
    assert_eq!(call.status, CallStatus::Failed);
    assert!(call.meta.ended_at_us.expect("ended") < first);
    assert!(engine_streams(&run).is_empty(), "no stream in any report");
    assert_eq!(
        run.reports.len(),
        7,
        "calls: {:?}",
        run.reports
            .iter()
            .map(|r| (&r.meta.call_id, &r.meta.end_reason))
            .collect::<Vec<_>>()
    );
}

/// G.711 A-law expansion (ITU-T G.711 Table 1a/2a): even bits inverted (XOR 0x55), 3-bit segment, 4-bit
/// step; segment 0 decodes to `step·16 + 8`, segment s ≥ 1 to `(step·16 + 264) · 2^(s−1)`; bit 7 set is
/// positive.
fn alaw(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let seg = (a >> 4) & 7;
    let step = i32::from(a & 0x0f) << 4;
    let mag = if seg == 0 {
        step + 8
    } else {
        (step + 0x108) << (seg - 1)
    };
    (if a & 0x80 != 0 { mag } else { -mag }) as i16
}

#[test]
fn alaw_table_reference_values() {
    // G.711 Table 2a: 0xD5/0x55 the smallest magnitudes, 0xAA/0x2A the largest
    assert_eq!((alaw(0xD5), alaw(0x55)), (8, -8));
    assert_eq!((alaw(0xAA), alaw(0x2A)), (32256, -32256));
    assert_eq!(alaw(0xC5), 264); // segment 1, step 0 (0xC5 ^ 0x55 = 0x90)
}

/// The recording of `sipp/g711a.pcap` (bare RTP, recorded with `record_unmatched_rtp`) after checking its
/// counts against tshark, and the independent decoding of the payloads tshark exports.
fn sipp_recording_and_reference() -> (Vec<i16>, Vec<i16>) {
    let file = pcaps().join("sipp/g711a.pcap");
    let run = replay_capture(
        &file,
        EngineConfig {
            record_unmatched_rtp: true,
            ..EngineConfig::default()
        },
    );
    let want = tshark_streams(&file);
    assert_eq!(want.len(), 1);
    let (&ssrc, &n) = want.iter().next().expect("stream");
    assert_eq!(run.reports.len(), 1);
    let report = &run.reports[0];
    assert_eq!(report.streams.len(), 1);
    assert_eq!(report.streams[0].ssrc, ssrc);
    assert_eq!(report.streams[0].packets, n, "tshark counts {n}");
    assert_eq!(report.streams[0].lost, 0);
    // independent reference: the payload bytes as tshark dissects them, in sequence order, A-law decoded
    let text = tshark(
        &file,
        &[
            "-Y",
            "rtp",
            "-T",
            "fields",
            "-e",
            "rtp.seq",
            "-e",
            "rtp.payload",
        ],
    );
    let mut packets: Vec<(u16, Vec<u8>)> = text
        .lines()
        .map(|l| {
            let (seq, hex) = l.split_once('\t').expect("two fields");
            let hex: String = hex.chars().filter(|c| *c != ':').collect();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (seq.parse().expect("seq"), bytes)
        })
        .collect();
    assert_eq!(packets.len() as u64, n);
    packets.sort_by_key(|p| p.0);
    assert!(
        packets.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "no packet missing"
    );
    let reference: Vec<i16> = packets
        .iter()
        .flat_map(|(_, p)| p.iter().map(|&b| alaw(b)))
        .collect();
    let (rate, chans) = parse_wav(run.files.values().next().expect("a recording"));
    assert_eq!(rate, 8000);
    (chans[0].clone(), reference)
}

#[test]
fn sipp_bare_rtp_stream_is_decoded_sample_exact() {
    let (ch, reference) = sipp_recording_and_reference();
    // The stream starts with 20 packets (4800 samples) of A-law silence; from its first non-silent sample on,
    // the recording must be the reference sample for sample at one offset (no packet is missing, so no
    // concealment, no slip, no gap). The offset is searched within ±1 ms.
    let start = reference.iter().position(|&v| v != 8).expect("some sound");
    assert_eq!(start, 4800);
    let end = reference.len() - 8;
    let offsets: Vec<i64> = (-8..=8i64)
        .filter(|&d| (start..end).all(|i| ch.get((i as i64 - d) as usize) == Some(&reference[i])))
        .collect();
    eprintln!(
        "recorded {} samples, reference {}, sample-exact at offsets {offsets:?}",
        ch.len(),
        reference.len()
    );
    assert_eq!(
        offsets.len(),
        1,
        "the recording is the reference at exactly one offset"
    );
    // the recording is as long as the stream (one sample short at that offset)
    assert!(
        ch.len().abs_diff(reference.len()) <= 8,
        "recording {} samples for {}",
        ch.len(),
        reference.len()
    );
}

#[test]
// was an engine bug (the mixer dropped a first sample placed before the origin): fixed in rec-audio's mixer
fn sipp_bare_rtp_stream_starts_with_its_first_sample() {
    let (ch, reference) = sipp_recording_and_reference();
    let differing = (0..ch.len().min(reference.len()))
        .filter(|&i| ch[i] != reference[i])
        .count();
    assert_eq!((differing, ch.len()), (0, reference.len()));
}
