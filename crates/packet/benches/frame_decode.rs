//! Criterion benches of the link/IP/UDP decode path and of HEPv3 encode/decode.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rec_packet::hep::{self, HepFields, HepPacket};
use rec_packet::link::{decode_frame, LinkType, TcpFlags, TcpSegment, Transport};
use rec_packet::tcp::{TcpConfig, TcpEvent, TcpReassembler};

/// Ethernet / IPv4 / UDP / RTP (12-byte header + 160-byte PCMA payload), 214 bytes.
fn rtp_frame(vlan: bool) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    if vlan {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let udp_len = 8 + 12 + 160;
    let total = 20 + udp_len;
    f.extend_from_slice(&[
        0x45,
        0xb8,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 1, 1, 1, 10, 2, 2, 2]);
    f.extend_from_slice(&[
        0x27,
        0x10,
        0x27,
        0x10,
        (udp_len >> 8) as u8,
        udp_len as u8,
        0,
        0,
    ]);
    f.extend_from_slice(&[0x80, 8, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef]);
    f.extend_from_slice(&[0xd5; 160]);
    f
}

/// Linux SLL2 / IPv6 / UDP / RTP (general etherparse path), 240 bytes.
fn sll2_ipv6_frame() -> Vec<u8> {
    let mut f = vec![
        0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
    ];
    let udp_len: u16 = 8 + 12 + 160;
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[17, 64]);
    f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    f.extend_from_slice(&[0x27, 0x10, 0x27, 0x10]);
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x80, 8, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef]);
    f.extend_from_slice(&[0xd5; 160]);
    f
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_decode");
    g.throughput(Throughput::Elements(1));
    for (name, link, frame) in [
        ("eth_ipv4_udp_rtp", LinkType::Ethernet, rtp_frame(false)),
        ("eth_vlan_ipv4_udp_rtp", LinkType::Ethernet, rtp_frame(true)),
        ("sll2_ipv6_udp_rtp", LinkType::LinuxSll2, sll2_ipv6_frame()),
    ] {
        assert!(matches!(
            decode_frame(link, &frame).unwrap().transport,
            Transport::Udp(_)
        ));
        g.bench_function(name, |b| {
            b.iter(|| {
                let d = decode_frame(link, black_box(&frame)).unwrap();
                match d.transport {
                    Transport::Udp(u) => u.payload.len(),
                    _ => 0,
                }
            })
        });
    }
    g.finish();

    let sip =
        b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:5061\r\n\r\n".repeat(12);
    let fields = HepFields {
        ip_proto: Some(6),
        src_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
        dst_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))),
        src_port: Some(5061),
        dst_port: Some(5061),
        ts_sec: Some(1_700_000_000),
        ts_usec: Some(1),
        proto_type: Some(hep::PROTO_SIP),
        capture_id: Some(1),
        payload: Some(&sip),
        ..HepFields::default()
    };
    let mut g = c.benchmark_group("hep");
    g.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(2048);
    g.bench_function("encode_sip_1kb", |b| {
        b.iter(|| {
            out.clear();
            hep::encode(black_box(&fields), &[], &mut out).unwrap();
            out.len()
        })
    });
    let mut packet = Vec::new();
    hep::encode(&fields, &[], &mut packet).unwrap();
    g.bench_function("decode_sip_1kb", |b| {
        b.iter(|| HepPacket::decode(black_box(&packet)).unwrap().1)
    });
    g.finish();

    // In-order TCP reassembly: 1400-byte segments of one stream, delivered without copying.
    let mut g = c.benchmark_group("tcp");
    let payload = vec![b'x'; 1400];
    g.throughput(Throughput::Bytes(payload.len() as u64));
    let mut r = TcpReassembler::new(TcpConfig::default());
    let mut seq = 1u32;
    let src = "192.0.2.1:5061".parse().unwrap();
    let dst = "192.0.2.2:40000".parse().unwrap();
    g.bench_function("in_order_1400b", |b| {
        b.iter(|| {
            let seg = TcpSegment {
                src,
                dst,
                seq,
                ack: 0,
                flags: TcpFlags {
                    ack: true,
                    ..TcpFlags::default()
                },
                payload: &payload,
            };
            let mut n = 0;
            r.push(0, black_box(&seg), |ev| {
                if let TcpEvent::Data { bytes, .. } = ev {
                    n += bytes.len()
                }
            });
            seq = seq.wrapping_add(1400);
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
