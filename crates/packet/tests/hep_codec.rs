//! HEPv3 encode/decode: the worked example of the HEP3 specification (rev. 37) byte for byte,
//! round trips of every standard chunk over real SIP messages from shared/testdata, vendor
//! chunks, stream framing, and malformed input.
//!
//! Wireshark 4.0 (the tshark here) has no HEP dissector (`-d udp.port==9060,hep` answers
//! "Unknown protocol"), so the independent reference is the specification's example packet.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::{IpAddr, Ipv4Addr};

use rec_packet::capture::OfflineCapture;
use rec_packet::hep::{self, Chunk, HepError, HepFields, HepPacket, PROTO_SIP};
use rec_packet::link::{decode_frame, Transport};

/// The example packet of the HEP3 specification: IPv4/UDP 212.202.0.1:12010 → 82.116.0.211:5060,
/// time 1313440459.123456 (0x4e4982cb / 0x0001e240), proto type 1 (SIP), capture id 228, payload
/// "INVITE sip:bob" (cut short in the document too). Octets transcribed from the document.
#[rustfmt::skip]
const SPEC_EXAMPLE: [u8; 113] = [
    0x48, 0x45, 0x50, 0x33, 0x00, 0x71,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x0a, 0xd4, 0xca, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x0a, 0x52, 0x74, 0x00, 0xd3,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x2e, 0xea,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x13, 0xc4,
    0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x4e, 0x49, 0x82, 0xcb,
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x01, 0xe2, 0x40,
    0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x01,
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0xe4,
    0x00, 0x00, 0x00, 0x0f, 0x00, 0x14,
    b'I', b'N', b'V', b'I', b'T', b'E', b' ', b's', b'i', b'p', b':', b'b', b'o', b'b',
];

fn spec_fields() -> HepFields<'static> {
    HepFields {
        ip_family: Some(2),
        ip_proto: Some(17),
        src_ip: Some(IpAddr::V4(Ipv4Addr::new(212, 202, 0, 1))),
        dst_ip: Some(IpAddr::V4(Ipv4Addr::new(82, 116, 0, 211))),
        src_port: Some(12010),
        dst_port: Some(5060),
        ts_sec: Some(1_313_440_459),
        ts_usec: Some(123_456),
        proto_type: Some(1),
        capture_id: Some(228),
        payload: Some(b"INVITE sip:bob"),
        ..HepFields::default()
    }
}

#[test]
fn hep_decodes_spec_example() {
    let (p, used) = HepPacket::decode(&SPEC_EXAMPLE).unwrap();
    assert_eq!(used, 113);
    assert_eq!(p.fields, spec_fields());
    assert_eq!(p.fields.src().unwrap().to_string(), "212.202.0.1:12010");
    assert_eq!(p.fields.dst().unwrap().to_string(), "82.116.0.211:5060");
    assert_eq!(p.fields.timestamp_micros(), Some(1_313_440_459_123_456));
    assert_eq!(p.chunks().count(), 11);
    assert_eq!(p.unknown_chunks().count(), 0);
}

#[test]
fn hep_encodes_spec_example_byte_for_byte() {
    let mut out = vec![0xaa]; // encode appends
    hep::encode(&spec_fields(), &[], &mut out).unwrap();
    assert_eq!(out[0], 0xaa);
    assert_eq!(&out[1..], &SPEC_EXAMPLE[..]);
    // Without an explicit family the encoder derives 2 from the IPv4 addresses.
    let mut f = spec_fields();
    f.ip_family = None;
    let mut out2 = Vec::new();
    hep::encode(&f, &[], &mut out2).unwrap();
    assert_eq!(out2, SPEC_EXAMPLE);
}

#[test]
fn hep_round_trips_every_chunk_and_vendor_chunks() {
    let f = HepFields {
        ip_family: Some(10),
        ip_proto: Some(6),
        src_ip: Some("2001:db8::1".parse().unwrap()),
        dst_ip: Some("2001:db8::2".parse().unwrap()),
        src_port: Some(5061),
        dst_port: Some(40123),
        ts_sec: Some(1_700_000_000),
        ts_usec: Some(999_999),
        proto_type: Some(PROTO_SIP),
        capture_id: Some(0xdead_beef),
        keep_alive: Some(30),
        auth_key: Some(b"s3cret-token"),
        payload: Some(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n"),
        compressed_payload: Some(&[0x1f, 0x8b, 0x08]),
        correlation_id: Some(b"call-id@host"),
        vlan: Some(1611),
        node_name: Some(b"fe01"),
    };
    let extra = [
        Chunk {
            vendor: 0x7a11,
            kind: 1,
            data: &[0, 0, 0, 0, 0, 0, 0, 42],
        },
        Chunk {
            vendor: 0x7a11,
            kind: 2,
            data: b"",
        },
        Chunk {
            vendor: 0,
            kind: 0x99,
            data: b"unknown standard type",
        },
    ];
    let mut out = Vec::new();
    hep::encode(&f, &extra, &mut out).unwrap();
    // A second packet behind it: decode must stop at the first one's length.
    hep::encode(&spec_fields(), &[], &mut out).unwrap();
    let (p, used) = HepPacket::decode(&out).unwrap();
    assert_eq!(p.fields, f);
    let unknown: Vec<Chunk<'_>> = p.unknown_chunks().collect();
    assert_eq!(unknown, extra);
    assert_eq!(hep::frame_len(&out).unwrap(), Some(used));
    let (p2, used2) = HepPacket::decode(&out[used..]).unwrap();
    assert_eq!(p2.fields, spec_fields());
    assert_eq!(used + used2, out.len());
    // Keys never show in Debug output.
    let dbg = format!("{:?}", p.fields);
    assert!(!dbg.contains("s3cret"), "{dbg}");
    assert!(dbg.contains("redacted"));
}

#[test]
fn hep_round_trips_real_sip_messages() {
    // Every SIP/UDP message of ndpi/sip.pcap, wrapped in HEP with its addresses and time.
    // tshark -r ndpi/sip.pcap -Y 'sip && udp' | wc -l  ->  81
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/pcaps/ndpi/sip.pcap"
    );
    let mut cap = OfflineCapture::open(path).unwrap();
    let mut buf = Vec::new();
    let mut n = 0;
    while let Some(fr) = cap.next_frame().unwrap() {
        let Ok(d) = decode_frame(fr.link, fr.data) else {
            continue;
        };
        let Transport::Udp(u) = d.transport else {
            continue;
        };
        let p = u.payload;
        let line_end = p.windows(2).position(|w| w == b"\r\n").unwrap_or(p.len());
        let line = &p[..line_end];
        if !(line.starts_with(b"SIP/2.0 ") || line.ends_with(b" SIP/2.0")) {
            continue;
        }
        let f = HepFields {
            ip_proto: Some(17),
            src_ip: Some(u.src.ip()),
            dst_ip: Some(u.dst.ip()),
            src_port: Some(u.src.port()),
            dst_port: Some(u.dst.port()),
            ts_sec: Some((fr.at_micros / 1_000_000) as u32),
            ts_usec: Some((fr.at_micros % 1_000_000) as u32),
            proto_type: Some(PROTO_SIP),
            payload: Some(p),
            ..HepFields::default()
        };
        buf.clear();
        hep::encode(&f, &[], &mut buf).unwrap();
        let (back, used) = HepPacket::decode(&buf).unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(back.fields.src(), Some(u.src));
        assert_eq!(back.fields.dst(), Some(u.dst));
        assert_eq!(back.fields.timestamp_micros(), Some(fr.at_micros));
        assert_eq!(back.fields.payload, Some(p));
        assert_eq!(back.fields.ip_family, Some(hep::FAMILY_IPV4));
        n += 1;
    }
    assert_eq!(n, 81);
}

#[test]
fn hep_rejects_malformed_input_without_panic() {
    // Every prefix of the example is an error (truncated), never a panic.
    for cut in 0..SPEC_EXAMPLE.len() {
        let e = HepPacket::decode(&SPEC_EXAMPLE[..cut]).unwrap_err();
        assert!(
            matches!(e, HepError::Truncated { .. } | HepError::BadMagic),
            "{cut}: {e}"
        );
    }
    let mut bad = SPEC_EXAMPLE;
    bad[0] = b'X';
    assert_eq!(HepPacket::decode(&bad).unwrap_err(), HepError::BadMagic);
    // Total length 5 (< header).
    let mut bad = SPEC_EXAMPLE;
    bad[5] = 5;
    assert_eq!(HepPacket::decode(&bad).unwrap_err(), HepError::BadLength(5));
    // First chunk length 5 (< chunk header).
    let mut bad = SPEC_EXAMPLE;
    bad[11] = 5;
    assert!(matches!(
        HepPacket::decode(&bad),
        Err(HepError::BadChunkLength { len: 5, .. })
    ));
    // Source port chunk with 3 data bytes: length 9 eats into the next chunk -> wrong size.
    let mut bad = SPEC_EXAMPLE;
    bad[45] = 9;
    assert!(HepPacket::decode(&bad).is_err());
    // Flip every byte of the example: no panic.
    for i in 0..SPEC_EXAMPLE.len() {
        let mut b = SPEC_EXAMPLE;
        b[i] ^= 0xff;
        let _ = HepPacket::decode(&b);
        let _ = hep::frame_len(&b);
    }
    // Encoding refuses mixed families and oversize payloads, leaving the buffer unchanged.
    let mut out = vec![1, 2, 3];
    let mixed = HepFields {
        src_ip: Some("192.0.2.1".parse().unwrap()),
        dst_ip: Some("2001:db8::1".parse().unwrap()),
        ..HepFields::default()
    };
    assert_eq!(
        hep::encode(&mixed, &[], &mut out),
        Err(HepError::MixedFamilies)
    );
    let big = vec![0u8; 70_000];
    let huge = HepFields {
        payload: Some(&big),
        ..HepFields::default()
    };
    assert!(matches!(
        hep::encode(&huge, &[], &mut out),
        Err(HepError::TooLarge(_))
    ));
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn hep_random_chunk_soup_never_panics() {
    // xorshift64 bytes behind a valid header: decode either fails cleanly or yields chunks that
    // tile the packet exactly.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ok = 0;
    for _ in 0..5_000 {
        let len = 6 + (next() % 120) as usize;
        let mut b = b"HEP3".to_vec();
        b.extend_from_slice(&(len as u16).to_be_bytes());
        while b.len() < len {
            // Mostly plausible chunk headers with small lengths, sometimes garbage.
            let r = next();
            if r % 4 == 0 {
                b.push(r as u8);
            } else {
                let clen = 6 + (r >> 8) % 12;
                b.extend_from_slice(&[0, 0, 0, ((r >> 16) % 0x16) as u8, 0, clen as u8]);
                b.extend((0..clen - 6).map(|i| (r >> i) as u8));
            }
        }
        b.truncate(len);
        if let Ok((p, used)) = HepPacket::decode(&b) {
            ok += 1;
            assert_eq!(used, len);
            let tiled: usize = p.chunks().map(|c| c.data.len() + 6).sum();
            assert_eq!(tiled + 6, len);
        }
    }
    // Both branches must have been exercised.
    assert!(ok > 10 && ok < 5_000, "{ok}");
}
