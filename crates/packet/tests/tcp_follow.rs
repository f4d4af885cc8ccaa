//! TCP reassembly of heplify's SIP-over-TCP captures (segmentation, retransmissions) compared with
//! Wireshark's "follow TCP stream": when tshark is installed the test runs
//! `tshark -r F -q -z follow,tcp,raw,N ...` for every stream N and demands byte equality per
//! direction; otherwise it compares the per-direction byte totals stored below.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;

use rec_packet::capture::OfflineCapture;
use rec_packet::link::{decode_frame, Transport};
use rec_packet::link::{TcpFlags, TcpSegment};
use rec_packet::tcp::{StreamKey, TcpConfig, TcpEvent, TcpReassembler, TcpStats};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/pcaps/heplify/"
);

struct Result {
    data: HashMap<StreamKey, Vec<u8>>,
    gaps: usize,
    closed: usize,
    stats: TcpStats,
}

/// An owned copy of a decoded TCP segment.
#[derive(Clone)]
struct Seg {
    at: u64,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: Vec<u8>,
}

fn segments(file: &str) -> Vec<Seg> {
    let mut cap = OfflineCapture::open(format!("{DIR}{file}")).unwrap();
    let mut out = Vec::new();
    while let Some(f) = cap.next_frame().unwrap() {
        if let Ok(d) = decode_frame(f.link, f.data) {
            if let Transport::Tcp(t) = d.transport {
                out.push(Seg {
                    at: f.at_micros,
                    src: t.src,
                    dst: t.dst,
                    seq: t.seq,
                    ack: t.ack,
                    flags: t.flags,
                    payload: t.payload.to_vec(),
                });
            }
        }
    }
    out
}

fn reassemble_segments(segs: &[Seg], cfg: TcpConfig) -> Result {
    let mut r = TcpReassembler::new(cfg);
    let mut out = Result {
        data: HashMap::new(),
        gaps: 0,
        closed: 0,
        stats: TcpStats::default(),
    };
    for s in segs {
        let seg = TcpSegment {
            src: s.src,
            dst: s.dst,
            seq: s.seq,
            ack: s.ack,
            flags: s.flags,
            payload: &s.payload,
        };
        r.push(s.at, &seg, |ev| match ev {
            TcpEvent::Data { stream, bytes } => {
                out.data.entry(stream).or_default().extend_from_slice(bytes)
            }
            TcpEvent::Gap { .. } => out.gaps += 1,
            TcpEvent::Closed { .. } => out.closed += 1,
        });
    }
    out.stats = r.stats();
    out
}

fn reassemble(file: &str, cfg: TcpConfig) -> Result {
    reassemble_segments(&segments(file), cfg)
}

/// Splits every data segment into two overlapping halves, duplicates every 7th piece and
/// reverses the order within blocks of 5, keeping the first data of each direction first
/// (a capture that starts mid-stream cannot know about earlier bytes).
fn scramble(segs: &[Seg]) -> Vec<Seg> {
    let mut pieces = Vec::new();
    for s in segs {
        let n = s.payload.len();
        if n >= 8 && !s.flags.syn && !s.flags.fin && !s.flags.rst {
            let (a, b) = (n * 2 / 3, n / 3);
            let mut p1 = s.clone();
            p1.payload.truncate(a);
            let mut p2 = s.clone();
            p2.seq = s.seq.wrapping_add(b as u32);
            p2.payload.drain(..b);
            pieces.push(p1);
            pieces.push(p2);
        } else {
            pieces.push(s.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut block = Vec::new();
    for (i, p) in pieces.into_iter().enumerate() {
        let opens = p.flags.syn || !p.payload.is_empty();
        if (opens && seen.insert((p.src, p.dst))) || p.flags.rst {
            // The first data of a direction stays first; a RST is a barrier (data behind a
            // reordered RST is lost on purpose).
            out.extend(block.drain(..).rev());
            out.push(p);
            continue;
        }
        if i % 7 == 0 {
            block.push(p.clone());
        }
        block.push(p);
        if block.len() >= 5 {
            out.extend(block.drain(..).rev());
        }
    }
    out.extend(block.into_iter().rev());
    out
}

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Per direction (from, to) → bytes, as tshark's follow,tcp,raw reports them.
fn tshark_follow(file: &str) -> HashMap<StreamKey, Vec<u8>> {
    let path = format!("{DIR}{file}");
    let ids = Command::new("tshark")
        .args(["-r", &path, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream"])
        .output()
        .unwrap();
    let mut ids: Vec<u32> = String::from_utf8_lossy(&ids.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut cmd = Command::new("tshark");
    cmd.args(["-r", &path, "-q"]);
    for id in &ids {
        cmd.args(["-z", &format!("follow,tcp,raw,{id}")]);
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    let mut out: HashMap<StreamKey, Vec<u8>> = HashMap::new();
    let (mut n0, mut n1): (Option<SocketAddr>, Option<SocketAddr>) = (None, None);
    for line in text.lines() {
        if let Some(a) = line.strip_prefix("Node 0: ") {
            n0 = Some(a.parse().unwrap());
        } else if let Some(a) = line.strip_prefix("Node 1: ") {
            n1 = Some(a.parse().unwrap());
        } else if let Some(h) = line.strip_prefix('\t') {
            let key = StreamKey {
                src: n1.unwrap(),
                dst: n0.unwrap(),
            };
            out.entry(key).or_default().extend(hex(h));
        } else if !line.is_empty() && line.bytes().all(|b| b.is_ascii_hexdigit()) {
            let key = StreamKey {
                src: n0.unwrap(),
                dst: n1.unwrap(),
            };
            out.entry(key).or_default().extend(hex(line));
        }
    }
    assert_eq!(text.matches("Node 0: ").count(), ids.len());
    out
}

/// Total bytes of both directions, from
/// `tshark -r F -q $(tshark -r F -Y tcp -T fields -e tcp.stream | sort -un | sed 's/^/-z follow,tcp,raw,/')`
/// counting hex digits / 2 of the lines without (node 0 → 1) and with (node 1 → 0) a leading tab.
const TOTALS: &[(&str, usize, usize, usize)] = &[
    // file, streams, node0→node1 bytes, node1→node0 bytes
    ("sip_ipv4_tcp.pcap", 1, 1801, 2234),
    ("sip_ipv4_tcp_retrans.pcap", 13, 25612, 3173),
    ("sip_ipv4_tcp_fragmented.pcap", 4, 143527, 138333),
    ("sip_tcp_websocket.pcap", 1, 7396, 6989),
];

#[test]
fn tcp_follow_matches_tshark() {
    let tshark = tshark_available();
    if !tshark {
        println!("note: tshark not installed; comparing stored byte totals only");
    }
    for (file, streams, a, b) in TOTALS {
        let segs = segments(file);
        let want = tshark.then(|| tshark_follow(file));
        if let Some(w) = &want {
            // Each stream has data in at least one direction.
            assert!(w.len() >= *streams, "{file}: tshark streams");
        }
        for (variant, got) in [
            (
                "as captured",
                reassemble_segments(&segs, TcpConfig::default()),
            ),
            (
                "scrambled",
                reassemble_segments(&scramble(&segs), TcpConfig::default()),
            ),
        ] {
            let label = format!("{file} ({variant})");
            let file = &label;
            assert_eq!(got.gaps, 0, "{file}: unexpected gaps");
            let total: usize = got.data.values().map(Vec::len).sum();
            assert_eq!(total, a + b, "{file}: total bytes");
            if let Some(want) = &want {
                let mut keys: Vec<_> = want.keys().collect();
                keys.sort_by_key(|k| (k.src, k.dst));
                for k in keys {
                    let w = &want[k];
                    let g = got.data.get(k).map(Vec::as_slice).unwrap_or_default();
                    assert!(
                        g == w.as_slice(),
                        "{file} {k:?}: {} bytes reassembled, tshark {}; first difference at {:?}",
                        g.len(),
                        w.len(),
                        g.iter().zip(w.iter()).position(|(x, y)| x != y)
                    );
                }
                let nonempty = got.data.values().filter(|v| !v.is_empty()).count();
                assert_eq!(
                    nonempty,
                    want.len(),
                    "{file}: number of directions with data"
                );
            }
        }
    }
}

#[test]
fn tcp_follow_small_budget_skips_holes_and_accounts_for_them() {
    // With a 64-byte reordering budget the scrambled segments force skips: the reassembler must
    // report gaps, keep delivering, and delivered + skipped bytes must equal the full streams.
    let segs = scramble(&segments("sip_ipv4_tcp_fragmented.pcap"));
    let full = reassemble_segments(&segs, TcpConfig::default());
    let cfg = TcpConfig {
        max_buffered_per_stream: 64,
        ..TcpConfig::default()
    };
    let small = reassemble_segments(&segs, cfg);
    assert!(small.gaps > 0);
    assert_eq!(small.stats.gaps as usize, small.gaps);
    assert_eq!(
        small.stats.bytes_delivered + small.stats.gap_bytes,
        full.stats.bytes_delivered
    );
    // TOTALS: 143527 + 138333 bytes in this capture (tshark follow).
    assert_eq!(full.stats.bytes_delivered, 143_527 + 138_333);
}

#[test]
fn tcp_follow_counts_retransmitted_bytes() {
    // tshark -r sip_ipv4_tcp_retrans.pcap -Y 'tcp.analysis.retransmission' -T fields -e tcp.len  ->  592 (one segment)
    // tshark -r F -Y tcp.analysis.out_of_order  ->  none in any of the four captures
    let r = reassemble("sip_ipv4_tcp_retrans.pcap", TcpConfig::default());
    assert_eq!(r.stats.duplicate_bytes, 592);
    assert_eq!(r.stats.out_of_order_segments, 0);
    let segs = segments("sip_ipv4_tcp_fragmented.pcap");
    let s = reassemble_segments(&scramble(&segs), TcpConfig::default());
    assert!(s.stats.out_of_order_segments > 100, "{:?}", s.stats);
}

/// Frames a reassembled SIP byte stream with the product's framer (`rec_sip::StreamFramer`), pushing it in
/// 1460-byte pieces as a socket would deliver it. Returns the messages' start lines; framing errors fail.
fn sip_start_lines(stream: &[u8]) -> Vec<String> {
    let mut framer = rec_sip::StreamFramer::default();
    let mut lines = Vec::new();
    for piece in stream.chunks(1460) {
        framer.push(piece);
        while let Some(frame) = framer.next_frame() {
            let message = frame.expect("a well-formed SIP message");
            let end = message
                .windows(2)
                .position(|w| w == b"\r\n")
                .unwrap_or(message.len());
            let start = String::from_utf8_lossy(&message[..end]).into_owned();
            assert!(
                start.starts_with("SIP/2.0 ") || start.ends_with(" SIP/2.0"),
                "not a SIP start line: {start:?}"
            );
            lines.push(start);
        }
    }
    assert_eq!(
        framer.buffered(),
        0,
        "bytes left over after the last message"
    );
    lines
}

#[test]
fn tcp_follow_streams_frame_into_sip_messages() {
    // Number of SIP messages tshark finds (each frame holds at most one here; the CSeq count
    // equals the frame count):
    //   tshark -r sip_ipv4_tcp.pcap -Y 'sip && tcp' | wc -l                                   -> 7
    //   tshark -r sip_ipv4_tcp_retrans.pcap -Y 'sip && tcp' | wc -l                           -> 4
    //   tshark -r sip_ipv4_tcp_fragmented.pcap -d tcp.port==6060,sip -Y sip | wc -l           -> 406
    //   (-T fields -e sip.CSeq -E occurrence=a -E aggregator=, | tr , '\n' gives the same counts)
    for (file, sip_port, want) in [
        ("sip_ipv4_tcp.pcap", 5060, 7),
        ("sip_ipv4_tcp_retrans.pcap", 5060, 4),
        ("sip_ipv4_tcp_fragmented.pcap", 6060, 406),
    ] {
        let got = reassemble(file, TcpConfig::default());
        let mut n = 0;
        for (k, bytes) in &got.data {
            if k.src.port() == sip_port || k.dst.port() == sip_port {
                n += sip_start_lines(bytes).len();
            }
        }
        assert_eq!(n, want, "{file}");
    }
}
