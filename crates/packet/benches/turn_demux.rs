//! Unwrapping an MS-TURN Send request carrying a 172-byte SRTP packet, and the RTP header view.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rec_packet::demux::classify;
use rec_packet::rtp::{header_len, RtpPacket};
use rec_packet::turn::{unwrap_turn, TurnTracker};

/// A 172-byte SRTP packet: 12-byte header, 150 bytes of payload, 10-byte auth tag.
fn srtp() -> Vec<u8> {
    let mut p = vec![
        0x80, 0x08, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef,
    ];
    p.extend((0..160u32).map(|i| (i * 7) as u8));
    assert_eq!(p.len(), 172);
    p
}

/// MS-TURN Send request: MAGIC-COOKIE, MS-VERSION, DESTINATION-ADDRESS, DATA (layout as in teams.pcap).
fn ms_send(data: &[u8]) -> Vec<u8> {
    let attrs: [(u16, &[u8]); 4] = [
        (0x000F, &[0x72, 0xC6, 0x4B, 0xC6]),
        (0x8008, &[0, 0, 0, 6]),
        (0x0011, &[0, 1, 0x3f, 0xcc, 93, 71, 110, 205]),
        (0x0013, data),
    ];
    let mut body = Vec::new();
    for (t, v) in attrs {
        body.extend_from_slice(&t.to_be_bytes());
        body.extend_from_slice(&(v.len() as u16).to_be_bytes());
        body.extend_from_slice(v);
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let mut m = vec![0x00, 0x04];
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
    m.extend_from_slice(&[7; 12]);
    m.extend_from_slice(&body);
    m
}

fn bench(c: &mut Criterion) {
    let inner = srtp();
    let msg = ms_send(&inner);
    let src: SocketAddr = "192.168.1.6:50016".parse().unwrap();
    let dst: SocketAddr = "52.114.250.141:3478".parse().unwrap();
    let tracker = TurnTracker::default();
    let mut g = c.benchmark_group("turn_demux");
    g.throughput(Throughput::Elements(1));
    g.bench_function("unwrap_ms_turn_send_172B_srtp", |b| {
        b.iter(|| {
            let u = unwrap_turn(black_box(&msg), src, dst, Some(&tracker))
                .unwrap()
                .unwrap();
            black_box((u.data.len(), u.peer))
        })
    });
    g.bench_function("classify_rfc7983", |b| {
        b.iter(|| classify(black_box(&inner)))
    });
    g.bench_function("rtp_header_len", |b| {
        b.iter(|| header_len(black_box(&inner)))
    });
    g.bench_function("rtp_view_fields", |b| {
        b.iter(|| {
            let r = RtpPacket::parse(black_box(&inner[..168])).unwrap();
            black_box((r.ssrc(), r.sequence(), r.timestamp(), r.payload().len()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
