//! Inputs the `mirror_frame` fuzz target (fuzz/) found mishandled, kept as regression tests.

use rec_mirror::protocol::{self, FrameError, Message};

/// HEPv3 with seconds 0xFFFFFFFF, microseconds 0xFFFFFFFF (out of range, but what a hostile agent may send)
/// and a one-byte payload.
const TS_OVERFLOW: &[u8] = &[
    b'H', b'E', b'P', b'3', 0, 33, //
    0, 0, 0, 9, 0, 10, 0xff, 0xff, 0xff, 0xff, // ts_sec
    0, 0, 0, 10, 0, 10, 0xff, 0xff, 0xff, 0xff, // ts_usec
    0, 0, 0, 15, 0, 7, b'x', // payload
];

#[test]
fn a_timestamp_beyond_32_bit_seconds_is_refused_not_wrapped() {
    let (frame, used) = protocol::decode(TS_OVERFLOW).unwrap();
    assert_eq!(used, TS_OVERFLOW.len());
    let message = frame.message.unwrap();
    let at_us = u64::from(u32::MAX) * 1_000_000 + u64::from(u32::MAX);
    assert_eq!(message.at_us, Some(at_us));
    // Before the fix the seconds were cast with `as u32` and wrapped to a time in 1970.
    let mut out = b"kept".to_vec();
    assert_eq!(
        protocol::encode_message(&message, &mut out),
        Err(FrameError::TimestampOutOfRange(at_us))
    );
    assert_eq!(out, b"kept", "a refused message leaves the output alone");
}

#[test]
fn the_last_encodable_timestamp_round_trips() {
    let at_us = u64::from(u32::MAX) * 1_000_000 + 999_999;
    let message = Message {
        id: Some(1),
        reply_within_ms: None,
        src: None,
        dst: None,
        ip_proto: None,
        at_us: Some(at_us),
        payload: b"x",
    };
    let mut out = Vec::new();
    protocol::encode_message(&message, &mut out).unwrap();
    assert_eq!(protocol::decode(&out).unwrap().0.message, Some(message));
    let one_more = Message {
        at_us: Some(at_us + 1),
        ..message
    };
    assert_eq!(
        protocol::encode_message(&one_more, &mut out),
        Err(FrameError::TimestampOutOfRange(at_us + 1))
    );
}
