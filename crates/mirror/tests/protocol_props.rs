//! The frame decoders never panic on arbitrary bytes, and every frame survives any split of the stream.
#![allow(missing_docs)]

use proptest::prelude::*;
use rec_mirror::protocol::{self, FrameReader, Message};

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = protocol::decode(&bytes);
        let mut r = FrameReader::new();
        r.buffer()[..bytes.len()].copy_from_slice(&bytes);
        r.filled(bytes.len());
        for _ in 0..64 {
            match r.next_frame() { Ok(Some(_)) => {}, _ => break }
        }
    }

    #[test]
    fn hep_prefixed_random_chunks_never_panic(len in 6u16..600, body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"HEP3".to_vec();
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&body);
        let _ = protocol::decode(&bytes);
        let mut r = FrameReader::new();
        r.buffer()[..bytes.len()].copy_from_slice(&bytes);
        r.filled(bytes.len());
        while let Ok(Some(_)) = r.next_frame() {}
    }

    #[test]
    fn frames_survive_any_split(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..8),
        cuts in proptest::collection::vec(1usize..200, 1..50),
    ) {
        let mut wire = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            protocol::encode_message(&Message {
                id: Some(i as u64 + 1),
                reply_within_ms: (i % 2 == 0).then_some(100),
                src: None, dst: None, ip_proto: None, at_us: None,
                payload: p,
            }, &mut wire).unwrap();
        }
        let mut r = FrameReader::new();
        let mut got: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut at = 0;
        let mut cut = cuts.iter().cycle();
        while at < wire.len() {
            let n = (*cut.next().unwrap()).min(wire.len() - at);
            r.buffer()[..n].copy_from_slice(&wire[at..at + n]);
            r.filled(n);
            at += n;
            while let Some(f) = r.next_frame().unwrap() {
                let m = f.message.unwrap();
                got.push((m.id.unwrap(), m.payload.to_vec()));
            }
        }
        let want: Vec<(u64, Vec<u8>)> = payloads.iter().enumerate().map(|(i, p)| (i as u64 + 1, p.clone())).collect();
        prop_assert_eq!(got, want);
    }
}
