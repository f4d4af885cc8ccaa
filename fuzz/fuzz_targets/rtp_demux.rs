//! Any bytes as one UDP payload: RFC 7983 classification against an independent table, the RTP view and the
//! RTCP compound walk. No panic; RTP header + payload + padding add up to the packet, every view lies inside
//! the input, the RTCP packets of a compound follow each other without gap or overlap.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rec_packet::demux::{classify, PacketKind};
use rec_packet::rtp::{self, RtcpCompound, RtpPacket};

fn inside(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

/// RFC 7983 §7 first-byte ranges (with RFC 5761 for RTP vs RTCP and the MS-TURN 0xFF10 prefix), written out
/// independently of the crate.
fn reference(p: &[u8]) -> PacketKind {
    match (p.first().copied(), p.get(1).copied()) {
        (None, _) => PacketKind::Unknown,
        (Some(b), _) if b <= 3 => PacketKind::Stun,
        (Some(b), _) if (16..=19).contains(&b) => PacketKind::Zrtp,
        (Some(b), _) if (20..=63).contains(&b) => PacketKind::Dtls,
        (Some(b), _) if (64..=79).contains(&b) => PacketKind::TurnChannel,
        (Some(b), None) if (128..=191).contains(&b) => PacketKind::Unknown,
        (Some(b), Some(pt)) if (128..=191).contains(&b) && (192..=223).contains(&pt) => {
            PacketKind::Rtcp
        }
        (Some(b), Some(_)) if (128..=191).contains(&b) => PacketKind::Rtp,
        (Some(0xFF), Some(0x10)) => PacketKind::MsTurnMux,
        _ => PacketKind::Unknown,
    }
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(classify(data), reference(data), "RFC 7983 demultiplexing");

    let header = rtp::header_len(data);
    if let Ok(p) = RtpPacket::parse(data) {
        assert_eq!(header, Ok(p.header_len()));
        assert_eq!(p.version(), 2);
        assert_eq!(
            p.header_len() + p.payload().len() + p.padding_len(),
            data.len()
        );
        assert!(inside(p.payload(), data));
        assert_eq!(p.csrcs().len(), usize::from(p.csrc_count()));
        if let Some(ext) = p.extension() {
            assert!(
                inside(ext.data, &data[..p.header_len()]),
                "extension inside the header"
            );
            assert_eq!(ext.data.len() % 4, 0);
        }
        assert_eq!(p.has_extension(), p.extension().is_some());
        let _ = (
            p.marker(),
            p.payload_type(),
            p.sequence(),
            p.timestamp(),
            p.ssrc(),
        );
    }

    let mut at = 0;
    for packet in RtcpCompound::new(data) {
        let Ok(packet) = packet else { break };
        let bytes = packet.as_bytes();
        assert_eq!(
            bytes.as_ptr() as usize,
            data.as_ptr() as usize + at,
            "no gap, no overlap"
        );
        assert_eq!(bytes.len(), 4 * (usize::from(packet.length_words()) + 1));
        at += bytes.len();
        assert!(at <= data.len());
        assert!(inside(packet.body(), bytes));
        let _ = (
            packet.packet_type(),
            packet.count(),
            packet.ssrc(),
            packet.sender_info(),
        );
    }
});
