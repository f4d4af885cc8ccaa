//! Wireshark's tshark (an independent implementation) reads the generated pcap files: protocols,
//! SIP messages, MS-TURN addresses, RTP headers and checksums agree with the manifest.
//! tshark comes from `scripts/ensure-deps --test`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use rec_gen::{
    CallOptions, CallReport, GenConfig, Generator, Impairments, PcapWriter, SignalingMode,
};

fn write_pcap(name: &str, cfg: GenConfig) -> (PathBuf, Vec<CallReport>) {
    let dir = std::env::temp_dir().join(format!("rec-gen-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut w = PcapWriter::new(BufWriter::new(File::create(&path).unwrap())).unwrap();
    let mut g = Generator::new(cfg);
    for f in g.by_ref() {
        w.write_frame(f.at_us, &f.data).unwrap();
    }
    w.finish().unwrap();
    (path, g.into_reports())
}

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("tshark not found: run scripts/ensure-deps --test");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `protocol -> frames` from `-q -z io,phs` (protocol names as tshark prints them, by indentation path).
fn phs(file: &Path) -> HashMap<String, u64> {
    let text = tshark(file, &["-q", "-z", "io,phs"]);
    let mut m = HashMap::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if let (Some(proto), Some(frames)) = (it.next(), it.next()) {
            if let Some(n) = frames.strip_prefix("frames:") {
                *m.entry(proto.to_string()).or_insert(0) += n.parse::<u64>().unwrap();
            }
        }
    }
    m
}

fn lines(s: &str) -> Vec<Vec<String>> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn tshark_reads_an_edge_call_with_impairments() {
    let cfg = GenConfig {
        call: CallOptions {
            duration_ms: 10_000,
            signaling: SignalingMode::InlineUdp,
            impairments: Impairments {
                loss_pct: 10.0,
                duplicate_pct: 3.0,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let (file, reports) = write_pcap("edge.pcap", cfg);
    let r = &reports[0];
    let [c2c, c2r] = [&r.streams[0], &r.streams[1]];
    let p = phs(&file);
    // MS-TURN: the Send requests dissect as STUN, the Data Indications as classic STUN, unmalformed.
    assert_eq!(p["stun"], c2c.stats.frames / 2);
    assert_eq!(p["classicstun"], c2r.stats.frames / 2);
    assert_eq!(p.get("_ws.malformed"), None);
    assert_eq!(p["sip"], r.sip_messages);

    let sip = lines(&tshark(
        &file,
        &[
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Call-ID",
            "-e",
            "sip.CSeq.method",
            "-e",
            "sip.Status-Code",
        ],
    ));
    assert_eq!(sip.len() as u64, r.sip_messages);
    assert!(sip.iter().all(|l| l[0] == r.call_id));
    let shape: Vec<String> = sip.iter().map(|l| format!("{}{}", l[1], l[2])).collect();
    assert_eq!(
        shape,
        [
            "INVITE",
            "INVITE100",
            "INVITE183",
            "INVITE200",
            "ACK",
            "INVITE",
            "INVITE200",
            "ACK",
            "BYE",
            "BYE200"
        ]
    );
    // The multipart INVITE: two SDP parts, the second with relay candidates (tshark's SDP dissector).
    let sdp = tshark(
        &file,
        &[
            "-Y",
            "sip.Method == \"INVITE\" && sip.CSeq.seq == 1",
            "-T",
            "fields",
            "-e",
            "sdp.owner.version",
        ],
    );
    assert_eq!(sdp.trim(), "0,1");

    // Every MS-TURN message names the remote peer.
    let peer = &r.callee_media;
    let stun = lines(&tshark(
        &file,
        &[
            "-Y",
            "stun || classicstun",
            "-T",
            "fields",
            "-e",
            "stun.att.ipv4",
            "-e",
            "stun.att.port",
            "-e",
            "classicstun.att.ipv4",
            "-e",
            "classicstun.att.port",
        ],
    ));
    assert_eq!(stun.len() as u64, (c2c.stats.frames + c2r.stats.frames) / 2);
    for l in &stun {
        let addr = if l[0].is_empty() {
            format!("{}:{}", l[2], l[3])
        } else {
            format!("{}:{}", l[0], l[1])
        };
        assert_eq!(&addr, peer);
    }
    // The external leg, decoded as RTP: SSRCs, payload type, and the captured counts per direction.
    let port = peer.rsplit(':').next().unwrap();
    let rtp = lines(&tshark(
        &file,
        &[
            "-d",
            &format!("udp.port=={port},rtp"),
            "-Y",
            "rtp",
            "-T",
            "fields",
            "-e",
            "rtp.ssrc",
            "-e",
            "rtp.p_type",
        ],
    ));
    for s in [c2c, c2r] {
        let ssrc = format!("{:#010x}", s.ssrcs[0]);
        let n = rtp.iter().filter(|l| l[0] == ssrc && l[1] == "8").count() as u64;
        assert_eq!(n, s.stats.packets_captured + s.stats.packets_duplicated);
        let lost = s.stats.packets_lost as f64 / s.stats.packets_sent as f64;
        assert!((0.06..0.14).contains(&lost));
    }
    // Checksums verified by tshark.
    let bad = tshark(
        &file,
        &[
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-Y",
            "ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"",
        ],
    );
    assert_eq!(bad.trim(), "");
    let good = tshark(
        &file,
        &[
            "-o",
            "udp.check_checksum:TRUE",
            "-Y",
            "udp.checksum.status == \"Good\"",
        ],
    )
    .lines()
    .count();
    assert!(good > 1000);
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn tshark_follows_sip_over_tcp_for_several_calls() {
    let cfg = GenConfig {
        calls: 5,
        stagger_us: 300_000,
        call: CallOptions {
            duration_ms: 5_000,
            signaling: SignalingMode::InlineTcp,
            ..Default::default()
        },
        ..Default::default()
    };
    let (file, reports) = write_pcap("tcp.pcap", cfg);
    let sip = lines(&tshark(
        &file,
        &[
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Call-ID",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
        ],
    ));
    assert_eq!(
        sip.len() as u64,
        reports.iter().map(|r| r.sip_messages).sum::<u64>()
    );
    for r in &reports {
        let caller_ip = r.caller_sip.split(':').next().unwrap();
        let mine: Vec<_> = sip.iter().filter(|l| l[0] == r.call_id).collect();
        assert_eq!(mine.len() as u64, r.sip_messages);
        assert!(mine
            .iter()
            .all(|l| (l[1] == caller_ip && l[2] == "10.0.0.2")
                || (l[2] == caller_ip && l[1] == "10.0.0.2")));
    }
    // No TCP anomalies (retransmission, out-of-order, lost segment) and valid TCP checksums.
    let anomalies = tshark(
        &file,
        &["-Y", "tcp.analysis.flags && !tcp.analysis.window_update"],
    );
    assert_eq!(anomalies.trim(), "");
    let bad = tshark(
        &file,
        &[
            "-o",
            "tcp.check_checksum:TRUE",
            "-Y",
            "tcp.checksum.status == \"Bad\"",
        ],
    );
    assert_eq!(bad.trim(), "");
    let frames = tshark(&file, &["-T", "fields", "-e", "frame.number"])
        .lines()
        .count() as u64;
    let expected: u64 = reports
        .iter()
        .map(|r| r.signaling_frames + r.streams.iter().map(|s| s.stats.frames).sum::<u64>())
        .sum();
    assert_eq!(frames, expected);
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn tshark_validates_the_ice_check_fingerprints() {
    let cfg = GenConfig {
        call: CallOptions {
            duration_ms: 2_000,
            ice_checks: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let (file, reports) = write_pcap("ice.pcap", cfg);
    let port = reports[0]
        .callee_media
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let rows = lines(&tshark(
        &file,
        &[
            "-d",
            &format!("udp.port=={port},stun"),
            "-Y",
            "stun.type == 0x0001 || stun.type == 0x0101",
            "-T",
            "fields",
            "-e",
            "stun.type",
            "-e",
            "stun.att.crc32.status",
        ],
    ));
    // External leg: 2 requests + 2 responses, each FINGERPRINT verified (status 1 = good).
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r[1] == "1"), "{rows:?}");
    std::fs::remove_file(&file).unwrap();
}
