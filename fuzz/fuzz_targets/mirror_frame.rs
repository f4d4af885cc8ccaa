//! Any bytes as mirror-protocol frames (HEPv3 with the recorder's vendor chunks), both one frame decoded
//! directly and the whole input fed in pieces to the stream reader. No panic; every decoded message, reply
//! and ack re-encodes to a frame that decodes to the same value; the reader hands out exactly the frames a
//! direct walk over the stream finds, in order, and stays failed after an error.
//!
//! The protocol module is compiled from its source file (it depends only on `rec-packet` and `thiserror`), so
//! the fuzz build does not pull in the mirror crate's tokio/rustls server side.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/mirror/src/protocol.rs"]
#[allow(dead_code)]
mod protocol;

use protocol::{FrameError, FrameReader, Message};
use rec_packet::hep::{self, HepError};

/// Encode errors a decoded (hence ≤ 64 KiB, possibly odd) frame may legitimately meet when re-encoded.
fn tolerated(e: &FrameError) -> bool {
    matches!(
        e,
        FrameError::Hep(HepError::MixedFamilies | HepError::TooLarge(_))
            | FrameError::TimestampOutOfRange(_)
    )
}

fn round_trip(data: &[u8]) {
    let Ok((frame, used)) = protocol::decode(data) else {
        return;
    };
    assert!(used <= data.len());
    if let Some(m) = frame.message {
        let mut out = Vec::new();
        match protocol::encode_message(&m, &mut out) {
            Ok(()) => {
                let (f, _) = protocol::decode(&out).expect("encoded message decodes");
                assert_eq!(f.message, Some(m), "message round trip");
            }
            Err(e) => assert!(tolerated(&e), "encode_message of a decoded message: {e}"),
        }
    }
    if let Some(r) = frame.reply {
        let ids: Vec<u64> = frame.ack.map(|a| a.ids().collect()).unwrap_or_default();
        let mut out = Vec::new();
        match protocol::encode_reply(&r, &ids, &mut out) {
            Ok(()) => {
                let (f, _) = protocol::decode(&out).expect("encoded reply decodes");
                assert_eq!(f.reply, Some(r), "reply round trip");
                let back: Vec<u64> = f.ack.map(|a| a.ids().collect()).unwrap_or_default();
                assert_eq!(back, ids, "acks ride along");
            }
            Err(e) => assert!(tolerated(&e), "encode_reply of a decoded reply: {e}"),
        }
    } else if let Some(a) = frame.ack {
        let ids: Vec<u64> = a.ids().collect();
        assert_eq!(ids.len(), a.len());
        let mut out = Vec::new();
        protocol::encode_ack(&ids, &mut out).expect("encode_ack");
        let mut back = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let (f, n) = protocol::decode(rest).expect("encoded ack decodes");
            back.extend(f.ack.expect("ack frame").ids());
            rest = &rest[n..];
        }
        assert_eq!(back, ids, "ack round trip");
    }
    let _: Option<Message<'_>> = frame.message;
}

fn stream(data: &[u8]) {
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1) * 97;
    let mut reader = FrameReader::new();
    let mut fed = 0;
    let mut expect_at = 0;
    let mut failed = false;
    while fed < stream.len() && !failed {
        let room = reader.buffer();
        assert!(!room.is_empty(), "reader always has room before failing");
        let n = room.len().min(piece).min(stream.len() - fed);
        room[..n].copy_from_slice(&stream[fed..fed + n]);
        reader.filled(n);
        fed += n;
        loop {
            match reader.next_raw() {
                Ok(Some(raw)) => {
                    let len = hep::frame_len(&stream[expect_at..]).unwrap().unwrap();
                    assert_eq!(raw, &stream[expect_at..expect_at + len], "frames in order");
                    expect_at += len;
                }
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    assert!(reader.next_raw().is_err(), "a failed reader stays failed");
                    break;
                }
            }
        }
        assert_eq!(
            reader.buffered(),
            fed - expect_at,
            "nothing lost, nothing invented"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    stream(data);
});
