//! Any bytes cut into UDP payloads between a few fixed addresses, shown to a small TurnTracker and then
//! unwrapped (TURN ChannelData, Send/Data indications, MS-TURN Send/Data, multiplexed data), plus the
//! stream splitters and STUN attribute walk on each payload. No panic; every unwrapped or split range lies
//! inside its input; the direction agrees with the addresses reported; the tracker never holds more
//! bindings than its cap.
#![no_main]
use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use rec_packet::demux::{classify, PacketKind, StunMessage};
use rec_packet::turn::{
    split_ms_turn_tcp, split_turn_stream, ChannelData, Direction, MsMultiplexed, TurnTracker,
};
use rec_packet::unwrap_turn;

const CAP: usize = 4;

fn inside(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fn addresses() -> [SocketAddr; 4] {
    [
        "192.0.2.10:50000".parse().unwrap(),
        "198.51.100.20:3478".parse().unwrap(),
        "[2001:db8::1]:50002".parse().unwrap(),
        "203.0.113.5:443".parse().unwrap(),
    ]
}

fn check_payload(payload: &[u8], src: SocketAddr, dst: SocketAddr, tracker: &mut TurnTracker) {
    let _ = tracker.observe(payload, src, dst);
    assert!(tracker.channel_count() <= CAP, "tracker over its cap");
    match unwrap_turn(payload, src, dst, Some(tracker)) {
        Ok(Some(u)) => {
            assert!(
                inside(u.data, payload),
                "unwrapped data lies inside the payload"
            );
            match u.direction {
                Direction::ClientToServer => {
                    assert_eq!((u.client, u.server), (Some(src), Some(dst)))
                }
                Direction::ServerToClient => {
                    assert_eq!((u.client, u.server), (Some(dst), Some(src)))
                }
                Direction::Unknown => {}
            }
        }
        Ok(None) | Err(_) => {}
    }
    let _ = unwrap_turn(payload, src, dst, None);
    if let Ok(c) = ChannelData::parse(payload) {
        assert!(inside(c.data, payload) && (0x4000..=0x7FFF).contains(&c.channel));
    }
    if let Ok(m) = MsMultiplexed::parse(payload) {
        assert!(inside(m.data, payload));
    }
    if let Ok(Some(n)) = split_turn_stream(payload) {
        assert!(n <= payload.len() && n >= 4);
    }
    if let Ok(Some(f)) = split_ms_turn_tcp(payload) {
        assert!(inside(f.payload, payload) && f.wire_len <= payload.len());
    }
    let kind = classify(payload);
    if let Ok(msg) = StunMessage::parse(payload) {
        assert!(msg.wire_len() <= payload.len());
        assert!(inside(msg.body(), payload) && inside(msg.transaction_id(), payload));
        for attr in msg.attributes().flatten() {
            assert!(
                inside(attr.value, payload),
                "attribute value lies inside the message"
            );
        }
        let _ = (msg.dialect(), kind == PacketKind::Stun);
    }
}

fuzz_target!(|data: &[u8]| {
    let addrs = addresses();
    let mut tracker = TurnTracker::new(CAP);
    let mut rest = data;
    while rest.len() >= 3 {
        let pick = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let payload = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let src = addrs[usize::from(pick & 3)];
        let dst = addrs[usize::from((pick >> 2) & 3)];
        check_payload(payload, src, dst, &mut tracker);
    }
});
