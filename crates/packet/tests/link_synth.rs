//! Hand-built frames for the link types the corpus lacks (SLL2, DLT_NULL in both byte orders,
//! DLT_LOOP, QinQ, raw IP, IPv6 with a fragment header), checked field by field. The bytes are
//! laid out here from the format descriptions (tcpdump.org link-layer header types, RFC 791,
//! RFC 8200, RFC 768, RFC 9293), not produced by the code under test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rec_packet::link::{decode_frame, DecodeError, IpVersion, LinkType, Transport};

/// IPv4 header (no options) + UDP header + payload. Checksums are left zero (not verified).
fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut v = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ];
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    let ulen = 8 + payload.len();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[(ulen >> 8) as u8, ulen as u8, 0, 0]);
    v.extend_from_slice(payload);
    v
}

/// IPv6 header + TCP header (20 bytes, flags given) + payload.
fn ipv6_tcp(src: Ipv6Addr, dst: Ipv6Addr, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let plen = 20 + payload.len();
    let mut v = vec![0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 6, 64];
    v.extend_from_slice(&src.octets());
    v.extend_from_slice(&dst.octets());
    v.extend_from_slice(&5061u16.to_be_bytes());
    v.extend_from_slice(&40000u16.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&7u32.to_be_bytes()); // ack
    v.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    v.extend_from_slice(payload);
    v
}

const SRC4: [u8; 4] = [192, 0, 2, 1];
const DST4: [u8; 4] = [198, 51, 100, 20];

fn check_udp4(link: LinkType, frame: &[u8], vlans: &[u16]) {
    let d = decode_frame(link, frame).unwrap_or_else(|e| panic!("{link:?}: {e}"));
    assert_eq!(d.vlans.ids(), vlans);
    assert_eq!(d.ip.version, IpVersion::V4);
    assert_eq!(d.ip.src, IpAddr::V4(Ipv4Addr::from(SRC4)));
    assert_eq!(d.ip.dst, IpAddr::V4(Ipv4Addr::from(DST4)));
    assert_eq!(d.ip.protocol, 17);
    let Transport::Udp(u) = d.transport else {
        panic!("not UDP")
    };
    assert_eq!(u.src, SocketAddr::new(Ipv4Addr::from(SRC4).into(), 50000));
    assert_eq!(u.dst, SocketAddr::new(Ipv4Addr::from(DST4).into(), 3478));
    assert_eq!(u.payload, b"hello rtp");
}

fn udp_packet() -> Vec<u8> {
    ipv4_udp(SRC4, DST4, 50000, 3478, b"hello rtp")
}

#[test]
fn link_sll2_ipv4_udp() {
    // SLL2: protocol 0x0800, reserved, ifindex 3, ARPHRD_ETHER 1, PACKET_HOST 0, addr len 6, addr (8)
    let mut f = vec![0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6];
    f.extend_from_slice(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]);
    f.extend(udp_packet());
    check_udp4(LinkType::from_dlt(276).unwrap(), &f, &[]);
    // Cut inside the SLL2 header.
    assert!(matches!(
        decode_frame(LinkType::LinuxSll2, &f[..19]),
        Err(DecodeError::Truncated {
            need: 20,
            have: 19,
            ..
        })
    ));
    // SLL2 carrying ARP (0x0806) is not IP.
    f[0..2].copy_from_slice(&[0x08, 0x06]);
    assert!(matches!(
        decode_frame(LinkType::LinuxSll2, &f),
        Err(DecodeError::NotIp {
            protocol: 0x0806,
            ..
        })
    ));
}

#[test]
fn link_sll1_ipv4_udp() {
    // SLL: packet type 0 (host), ARPHRD 1, addr len 6, addr (8), protocol 0x0800
    let mut f = vec![
        0, 0, 0, 1, 0, 6, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0x08, 0x00,
    ];
    f.extend(udp_packet());
    check_udp4(LinkType::from_dlt(113).unwrap(), &f, &[]);
}

#[test]
fn link_null_both_byte_orders_and_loop() {
    let pkt = udp_packet();
    // DLT_NULL written by a little-endian host: AF_INET = 2 as 02 00 00 00.
    let mut le = vec![2, 0, 0, 0];
    le.extend_from_slice(&pkt);
    check_udp4(LinkType::from_dlt(0).unwrap(), &le, &[]);
    // ... by a big-endian host: 00 00 00 02.
    let mut be = vec![0, 0, 0, 2];
    be.extend_from_slice(&pkt);
    check_udp4(LinkType::Null, &be, &[]);
    // DLT_LOOP is always network order.
    check_udp4(LinkType::from_dlt(108).unwrap(), &be, &[]);
    // AF_INET6 on macOS (30) carrying IPv6.
    let v6 = ipv6_tcp(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, 1, 0x18, b"x");
    let mut f = vec![30, 0, 0, 0];
    f.extend_from_slice(&v6);
    assert_eq!(
        decode_frame(LinkType::Null, &f).unwrap().ip.version,
        IpVersion::V6
    );
    // Unknown family.
    let mut f = vec![7, 0, 0, 0];
    f.extend_from_slice(&pkt);
    assert!(matches!(
        decode_frame(LinkType::Null, &f),
        Err(DecodeError::NotIp { protocol: 7, .. })
    ));
}

#[test]
fn link_ethernet_qinq_and_padding() {
    let mut f = vec![0u8; 12]; // dst + src MAC
    f.extend_from_slice(&[0x88, 0xa8, 0x20, 0x64]); // 802.1ad S-tag, PCP 1, VID 100
    f.extend_from_slice(&[0x81, 0x00, 0x00, 0xc8]); // 802.1Q C-tag, VID 200
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend(udp_packet());
    f.extend_from_slice(&[0; 6]); // Ethernet padding after the IP packet
    check_udp4(LinkType::Ethernet, &f, &[100, 200]);
    // Truncated inside the second tag.
    assert!(matches!(
        decode_frame(LinkType::Ethernet, &f[..20]),
        Err(DecodeError::Truncated { layer: "vlan", .. })
    ));
    // IP total length beyond the frame: truncated, not a panic.
    let cut = f.len() - 10;
    assert!(matches!(
        decode_frame(LinkType::Ethernet, &f[..cut]),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn link_raw_ipv6_tcp_fields() {
    let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
    // flags 0x19 = FIN | PSH | ACK
    let f = ipv6_tcp(a, b, 0xfffffff0, 0x19, b"BYE sip:x SIP/2.0\r\n");
    for link in [
        LinkType::from_dlt(101).unwrap(),
        LinkType::Raw,
        LinkType::Ipv6,
    ] {
        let d = decode_frame(link, &f).unwrap();
        assert_eq!(d.ip.version, IpVersion::V6);
        let Transport::Tcp(t) = d.transport else {
            panic!("not TCP")
        };
        assert_eq!(t.src, SocketAddr::new(a.into(), 5061));
        assert_eq!(t.dst, SocketAddr::new(b.into(), 40000));
        assert_eq!(t.seq, 0xfffffff0);
        assert_eq!(t.ack, 7);
        assert!(t.flags.fin && t.flags.psh && t.flags.ack && !t.flags.syn && !t.flags.rst);
        assert_eq!(t.payload, b"BYE sip:x SIP/2.0\r\n");
    }
    // LINKTYPE_IPV4 refuses an IPv6 packet.
    assert!(matches!(
        decode_frame(LinkType::Ipv4, &f),
        Err(DecodeError::BadIp(_))
    ));
    // TCP data offset 4 (< 5) is invalid.
    let mut bad = f.clone();
    bad[40 + 12] = 0x40;
    assert!(matches!(
        decode_frame(LinkType::Raw, &bad),
        Err(DecodeError::BadTcp { data_offset: 4 })
    ));
}

#[test]
fn link_ipv4_and_ipv6_fragments() {
    // IPv4: MF set, offset 0 -> a fragment with id 0x1234.
    let mut p = udp_packet();
    p[6] = 0x20; // flags: MF
    let d = decode_frame(LinkType::Raw, &p).unwrap();
    let Transport::Fragment(fr) = d.transport else {
        panic!("not a fragment")
    };
    assert_eq!(fr.key.id, 0x1234);
    assert_eq!(fr.key.protocol, 17);
    assert_eq!((fr.offset, fr.more), (0, true));
    assert_eq!(fr.payload.len(), 8 + 9);
    // Offset 185 * 8 = 1480, last fragment.
    p[6] = 0x00;
    p[7] = 185;
    let Transport::Fragment(fr) = decode_frame(LinkType::Raw, &p).unwrap().transport else {
        panic!("not a fragment")
    };
    assert_eq!((fr.offset, fr.more), (1480, false));

    // IPv6 with a fragment header (next header 44): id 0xdeadbeef, offset 2 * 8 = 16, M = 1.
    let a: Ipv6Addr = "2001:db8::a".parse().unwrap();
    let b: Ipv6Addr = "2001:db8::b".parse().unwrap();
    let data = [0xabu8; 16];
    let plen = 8 + data.len();
    let mut f = vec![0x60, 0, 0, 0, 0, plen as u8, 44, 64];
    f.extend_from_slice(&a.octets());
    f.extend_from_slice(&b.octets());
    f.extend_from_slice(&[17, 0, 0x00, 0x11, 0xde, 0xad, 0xbe, 0xef]);
    f.extend_from_slice(&data);
    let d = decode_frame(LinkType::Ipv6, &f).unwrap();
    assert_eq!(d.ip.protocol, 17);
    let Transport::Fragment(fr) = d.transport else {
        panic!("not a fragment")
    };
    assert_eq!(fr.key.id, 0xdeadbeef);
    assert_eq!(fr.key.src, IpAddr::V6(a));
    assert_eq!((fr.offset, fr.more), (16, true));
    assert_eq!(fr.payload, &data);
}
