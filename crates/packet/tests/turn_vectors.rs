//! TURN / STUN views against published vectors (RFC 5769, pion/turn ChannelData) and hand-built
//! messages laid out from the RFC 5766 / MS-TURN wire formats.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::SocketAddr;

use rec_packet::demux::{classify, PacketKind, StunDialect, StunError, StunMessage};
use rec_packet::turn::{
    decode_address, split_ms_turn_tcp, split_turn_stream, unwrap_turn, ChannelData, Direction,
    Encapsulation, Learned, MsTcpFrameKind, TurnError, TurnTracker,
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/stun_turn/"
);

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{VECTORS}{name}")).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn turn_rfc5769_sample_request_attributes() {
    // RFC 5769 §2.1: Binding request, transaction id b7 e7 a7 01 bc 34 d6 86 fa 87 df ae,
    // attributes SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT.
    let b = read("rfc5769/2.1_sample_request.bin");
    let m = StunMessage::parse(&b).unwrap();
    assert_eq!(m.msg_type(), 0x0001);
    assert_eq!(usize::from(m.length()) + 20, b.len());
    assert_eq!(m.dialect(), StunDialect::Rfc5389);
    assert_eq!(m.transaction_id(), hex("b7e7a701bc34d686fa87dfae"));
    let types: Vec<u16> = m.attributes().map(|a| a.unwrap().attr_type).collect();
    assert_eq!(types, vec![0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028]);
    assert_eq!(m.attribute(0x8022), Some(&b"STUN test client"[..]));
    assert_eq!(m.attribute(0x0006), Some(&b"evtj:h6vY"[..]));
    assert_eq!(classify(&b), PacketKind::Stun);
}

#[test]
fn turn_rfc5769_xor_mapped_addresses() {
    // RFC 5769 §2.2 / §2.3: XOR-MAPPED-ADDRESS 192.0.2.1:32853 and
    // [2001:db8:1234:5678:11:2233:4455:6677]:32853.
    for (file, want) in [
        ("rfc5769/2.2_sample_ipv4_response.bin", "192.0.2.1:32853"),
        (
            "rfc5769/2.3_sample_ipv6_response.bin",
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
        ),
    ] {
        let b = read(file);
        let m = StunMessage::parse(&b).unwrap();
        assert_eq!(m.msg_type(), 0x0101);
        let v = m.attribute(0x0020).unwrap();
        let got = decode_address(0x0020, v, Some(m.transaction_id_128())).unwrap();
        assert_eq!(got, sa(want), "{file}");
    }
}

#[test]
fn turn_rfc5769_long_term_request_parses() {
    // RFC 5769 §2.4: attributes USERNAME, NONCE, REALM, MESSAGE-INTEGRITY; REALM "example.org".
    let b = read("rfc5769/2.4_request_long_term.bin");
    let m = StunMessage::parse(&b).unwrap();
    let types: Vec<u16> = m.attributes().map(|a| a.unwrap().attr_type).collect();
    assert_eq!(types, vec![0x0006, 0x0015, 0x0014, 0x0008]);
    assert_eq!(m.attribute(0x0014), Some(&b"example.org"[..]));
}

#[test]
fn turn_pion_chrome_channeldata() {
    // pion/turn internal/proto/testdata/02_chandata.hex: two Chrome ChannelData frames on channel
    // 0x4000 (MinChannelNumber); the first carries a STUN Binding request, the second DTLS.
    let text = String::from_utf8(read("pion-turn/02_chandata.hex")).unwrap();
    let frames: Vec<Vec<u8>> = text.lines().map(|l| hex(l.trim())).collect();
    assert_eq!(frames.len(), 2);
    let kinds: Vec<PacketKind> = frames
        .iter()
        .map(|f| {
            assert_eq!(classify(f), PacketKind::TurnChannel);
            let cd = ChannelData::parse(f).unwrap();
            assert_eq!(cd.channel, 0x4000);
            assert_eq!(cd.data.len() + 4, f.len());
            assert_eq!(
                split_turn_stream(f).unwrap(),
                Some((f.len() + 3) & !3).filter(|&n| n <= f.len())
            );
            classify(cd.data)
        })
        .collect();
    assert_eq!(kinds, vec![PacketKind::Stun, PacketKind::Dtls]);
    // pion's TestChannelData_Decode error cases: bad channel number, length beyond the buffer.
    assert!(ChannelData::parse(&[63, 255, 0, 0, 0, 4, 0, 0, 1, 2, 3, 4]).is_err());
    assert!(matches!(
        ChannelData::parse(&[0x40, 0x40, 0x02, 0x23, 0x16, 0, 0, 0, 0, 0, 0, 0]),
        Err(TurnError::Truncated {
            need: 0x227,
            have: 12,
            ..
        })
    ));
    assert!(ChannelData::parse(&[1, 2, 3]).is_err());
}

#[test]
fn turn_pion_chrome_allocate_is_control() {
    // 01_chromeallocreq.hex: Allocate request (0x0003) then an error response (0x0113) etc.:
    // control traffic, nothing to unwrap.
    let text = String::from_utf8(read("pion-turn/01_chromeallocreq.hex")).unwrap();
    let (a, b) = (sa("10.0.0.1:5000"), sa("10.0.0.2:3478"));
    let mut n = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let f = hex(l.trim());
        let m = StunMessage::parse(&f).unwrap();
        assert!(m.attributes().all(|a| a.is_ok()));
        assert_eq!(unwrap_turn(&f, a, b, None).unwrap(), None);
        n += 1;
    }
    assert_eq!(n, 4);
}

/// Builds a STUN-like message: type, 16-byte id, attributes (padded to 4).
fn build(msg_type: u16, id: &[u8; 16], attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (t, v) in attrs {
        body.extend_from_slice(&t.to_be_bytes());
        body.extend_from_slice(&(v.len() as u16).to_be_bytes());
        body.extend_from_slice(v);
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let mut m = Vec::new();
    m.extend_from_slice(&msg_type.to_be_bytes());
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(id);
    m.extend_from_slice(&body);
    m
}

const MS_COOKIE: &[u8] = &[0x72, 0xC6, 0x4B, 0xC6];
const RFC_ID: [u8; 16] = [
    0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
];

/// Plain (MS-TURN) IPv4 address attribute value.
fn plain_v4(ip: [u8; 4], port: u16) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&ip);
    v
}

/// XOR-PEER-ADDRESS value computed by hand from RFC 5389 §15.2.
fn xor_v4(ip: [u8; 4], port: u16) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend_from_slice(&(port ^ 0x2112).to_be_bytes());
    for (i, b) in ip.iter().enumerate() {
        v.push(b ^ RFC_ID[i]);
    }
    v
}

#[test]
fn turn_ms_data_indication_and_legacy_cookie() {
    // MS-TURN Data Indication with a legacy (non-RFC 5389) 16-byte transaction id.
    let srtp = [
        0x80u8, 0x00, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5,
    ];
    let id = [7u8; 16];
    let peer_attr = plain_v4([198, 51, 100, 7], 50_000);
    let m = build(
        0x0115,
        &id,
        &[(0x000F, MS_COOKIE), (0x0012, &peer_attr), (0x0013, &srtp)],
    );
    let (server, client) = (sa("203.0.113.1:3478"), sa("10.1.1.1:50123"));
    let u = unwrap_turn(&m, server, client, None).unwrap().unwrap();
    assert_eq!(u.data, &srtp[..]);
    assert_eq!(u.peer, Some(sa("198.51.100.7:50000")));
    assert_eq!(u.encapsulation, Encapsulation::MsDataIndication);
    assert_eq!(
        (u.direction, u.client, u.server),
        (Direction::ServerToClient, Some(client), Some(server))
    );
    assert_eq!(classify(u.data), PacketKind::Rtp);
    // Same bytes with an RFC 5389 header and no MS cookie: type 0x0115 means nothing there.
    let m2 = build(0x0115, &RFC_ID, &[(0x0012, &peer_attr), (0x0013, &srtp)]);
    assert_eq!(unwrap_turn(&m2, server, client, None).unwrap(), None);
    // A Send request missing its DATA attribute is an error naming both.
    let m3 = build(0x0004, &id, &[(0x000F, MS_COOKIE), (0x0011, &peer_attr)]);
    assert_eq!(
        unwrap_turn(&m3, client, server, None),
        Err(TurnError::MissingAttribute {
            msg_type: 0x0004,
            attr_type: 0x0013
        })
    );
}

#[test]
fn turn_rfc_send_indication_xor_peer_ipv4() {
    let data = [0x17u8, 0xfe, 0xfd, 0, 0];
    let m = build(
        0x0016,
        &RFC_ID,
        &[(0x0012, &xor_v4([192, 0, 2, 55], 40_000)), (0x0013, &data)],
    );
    let u = unwrap_turn(&m, sa("10.0.0.1:1000"), sa("10.0.0.2:3478"), None)
        .unwrap()
        .unwrap();
    assert_eq!(u.peer, Some(sa("192.0.2.55:40000")));
    assert_eq!(u.data, &data[..]);
    assert_eq!(classify(u.data), PacketKind::Dtls);
}

#[test]
fn turn_tracker_channel_bind_and_error_withdraws() {
    let (client, server) = (sa("10.0.0.1:1000"), sa("10.0.0.2:3478"));
    let mut t = TurnTracker::new(4);
    let bind = build(
        0x0009,
        &RFC_ID,
        &[
            (0x000C, &[0x40, 0x05, 0, 0]),
            (0x0012, &xor_v4([192, 0, 2, 9], 9999)),
        ],
    );
    let learned = t.observe(&bind, client, server);
    assert_eq!(
        learned,
        Some(Learned::Channel {
            client,
            server,
            channel: 0x4005,
            peer: sa("192.0.2.9:9999")
        })
    );
    // ChannelData both ways now has the peer and the direction.
    let cd = [0x40u8, 0x05, 0x00, 0x03, 0x80, 0x00, 0x01, 0x00];
    let up = unwrap_turn(&cd, client, server, Some(&t)).unwrap().unwrap();
    assert_eq!(
        (up.peer, up.direction, up.data),
        (
            Some(sa("192.0.2.9:9999")),
            Direction::ClientToServer,
            &cd[4..7]
        )
    );
    let down = unwrap_turn(&cd, server, client, Some(&t)).unwrap().unwrap();
    assert_eq!(
        (down.direction, down.client),
        (Direction::ServerToClient, Some(client))
    );
    // Another channel is unknown.
    let other = [0x40u8, 0x06, 0x00, 0x00];
    assert_eq!(
        unwrap_turn(&other, client, server, Some(&t))
            .unwrap()
            .unwrap()
            .peer,
        None
    );
    // Error response with the same transaction id withdraws the binding.
    let err = build(0x0119, &RFC_ID, &[(0x0009, &[0, 0, 4, 3])]);
    assert_eq!(t.observe(&err, server, client), Some(Learned::Withdrawn));
    assert_eq!(t.channel_peer(client, server, 0x4005), None);
    // Bounded: a tracker of 4 refuses the fifth binding.
    for ch in 0..5u16 {
        let mut id = RFC_ID;
        id[15] = ch as u8;
        let b = build(
            0x0009,
            &id,
            &[
                (0x000C, &(0x4000 + ch).to_be_bytes()),
                (0x0012, &xor_v4([1, 2, 3, 4], 5)),
            ],
        );
        t.observe(&b, client, server);
    }
    assert_eq!((t.channel_count(), t.refused()), (4, 1));
}

#[test]
fn turn_ms_set_active_destination_gives_mux_peer() {
    let (client, server) = (sa("10.0.0.1:50016"), sa("52.0.0.1:3479"));
    let id = [9u8; 16];
    let dest = plain_v4([93, 71, 110, 205], 16332);
    let req = build(0x0006, &id, &[(0x000F, MS_COOKIE), (0x0011, &dest)]);
    let mut t = TurnTracker::default();
    assert_eq!(
        t.observe(&req, client, server),
        Some(Learned::ActiveDestination {
            client,
            server,
            peer: sa("93.71.110.205:16332")
        })
    );
    let mut mux = vec![0xFF, 0x10, 0x00, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8];
    mux.extend_from_slice(&[0x80, 0xC8, 0, 0]);
    let u = unwrap_turn(&mux, server, client, Some(&t))
        .unwrap()
        .unwrap();
    assert_eq!(
        u.encapsulation,
        Encapsulation::MsMultiplexed([1, 2, 3, 4, 5, 6, 7, 8])
    );
    assert_eq!(
        (u.peer, u.direction),
        (Some(sa("93.71.110.205:16332")), Direction::ServerToClient)
    );
    assert_eq!(classify(u.data), PacketKind::Rtcp);
    // Length field shorter than the session id, or longer than the buffer: errors.
    assert!(unwrap_turn(
        &[0xFF, 0x10, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8],
        client,
        server,
        None
    )
    .is_err());
    assert!(unwrap_turn(&mux[..15], client, server, None).is_err());
}

#[test]
fn turn_ms_tcp_framing() {
    // Control frame carrying a Send request, then a data frame, back to back, split at every byte.
    let id = [3u8; 16];
    let inner = [0x80u8, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    let send = build(
        0x0004,
        &id,
        &[
            (0x000F, MS_COOKIE),
            (0x0011, &plain_v4([1, 1, 1, 1], 1)),
            (0x0013, &inner),
        ],
    );
    let mut stream = vec![0x02, 0x00];
    stream.extend_from_slice(&(send.len() as u16).to_be_bytes());
    stream.extend_from_slice(&send);
    stream.extend_from_slice(&[0x03, 0x00, 0x00, inner.len() as u8]);
    stream.extend_from_slice(&inner);
    let f1 = split_ms_turn_tcp(&stream).unwrap().unwrap();
    assert_eq!(
        (f1.kind, f1.payload, f1.wire_len),
        (MsTcpFrameKind::Control, &send[..], send.len() + 4)
    );
    let u = unwrap_turn(f1.payload, sa("10.0.0.1:1"), sa("10.0.0.2:443"), None)
        .unwrap()
        .unwrap();
    assert_eq!(u.data, &inner[..]);
    let f2 = split_ms_turn_tcp(&stream[f1.wire_len..]).unwrap().unwrap();
    assert_eq!((f2.kind, f2.payload), (MsTcpFrameKind::Data, &inner[..]));
    assert_eq!(f1.wire_len + f2.wire_len, stream.len());
    for cut in 0..f1.wire_len {
        assert_eq!(
            split_ms_turn_tcp(&stream[..cut]).unwrap(),
            None,
            "cut {cut}"
        );
    }
    assert_eq!(
        split_ms_turn_tcp(&[0x16, 0x03, 0x01, 0x00]),
        Err(TurnError::BadMsTcpFrame { b0: 0x16, b1: 0x03 })
    );
    // The RFC 5766 splitter refuses a byte that is neither STUN nor ChannelData.
    assert_eq!(
        split_turn_stream(&[0x80, 0, 0, 0]),
        Err(TurnError::BadStreamByte { first: 0x80 })
    );
    // ChannelData over TCP is padded to 4: 3 data bytes take 8.
    assert_eq!(
        split_turn_stream(&[0x40, 0, 0, 3, 1, 2, 3, 0]).unwrap(),
        Some(8)
    );
    assert_eq!(split_turn_stream(&[0x40, 0, 0, 3, 1, 2, 3]).unwrap(), None);
}

#[test]
fn turn_stun_bad_lengths_are_errors() {
    // Attribute length beyond the message.
    let mut m = build(0x0001, &RFC_ID, &[(0x8022, b"abcd")]);
    m[23] = 200;
    let msg = StunMessage::parse(&m).unwrap();
    let items: Vec<_> = msg.attributes().collect();
    assert!(matches!(
        items[..],
        [Err(StunError::AttributeOverrun {
            attr_type: 0x8022,
            len: 200,
            ..
        })]
    ));
    // Header length beyond the buffer; top bits set.
    let mut m2 = build(0x0001, &RFC_ID, &[]);
    m2[3] = 4;
    assert_eq!(
        StunMessage::parse(&m2),
        Err(StunError::Truncated { need: 24, have: 20 })
    );
    assert_eq!(
        StunMessage::parse(&[0xC0; 20]),
        Err(StunError::NotStun { first: 0xC0 })
    );
    // Bad address families.
    assert!(decode_address(0x0012, &[0, 3, 0, 1, 1, 2, 3, 4], None).is_err());
    assert!(decode_address(0x0012, &[0, 1, 0, 1, 1, 2, 3], None).is_err());
    // A 2-byte stray tail after the last attribute.
    let mut m3 = build(0x0001, &RFC_ID, &[(0x0024, &[0, 0, 0, 1])]);
    m3.extend_from_slice(&[0, 0, 0, 0]);
    m3[3] += 4;
    let n = m3.len();
    m3[n - 4..].copy_from_slice(&[0x80, 0x22, 0, 0]);
    assert_eq!(StunMessage::parse(&m3).unwrap().attributes().count(), 2);
}

#[test]
fn turn_synthetic_truncation_sweep_never_panics() {
    let id = [5u8; 16];
    let inner = [0x80u8; 40];
    let msgs = [
        build(
            0x0004,
            &id,
            &[
                (0x000F, MS_COOKIE),
                (0x0011, &plain_v4([1, 2, 3, 4], 5)),
                (0x0013, &inner),
            ],
        ),
        build(
            0x0016,
            &RFC_ID,
            &[(0x0012, &xor_v4([1, 2, 3, 4], 5)), (0x0013, &inner)],
        ),
        build(
            0x0009,
            &RFC_ID,
            &[
                (0x000C, &[0x40, 0, 0, 0]),
                (0x0012, &xor_v4([1, 2, 3, 4], 5)),
            ],
        ),
    ];
    let (a, b) = (sa("10.0.0.1:1"), sa("10.0.0.2:2"));
    let mut t = TurnTracker::default();
    for m in &msgs {
        // Also corrupt each byte in turn: must still never panic.
        for i in 0..m.len() {
            let mut c = m.clone();
            c[i] ^= 0xFF;
            let _ = unwrap_turn(&c, a, b, Some(&t));
            let _ = t.observe(&c, a, b);
            for cut in 0..=m.len() {
                let _ = unwrap_turn(&m[..cut], a, b, Some(&t));
                let _ = split_ms_turn_tcp(&m[..cut]);
            }
        }
    }
}
