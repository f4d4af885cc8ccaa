#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! Property tests: no panic on arbitrary or mutated input; identity replacement is byte-exact.

use proptest::prelude::*;
use rec_sip::{replace_bodies, Message, NameAddr, StreamFramer, Uri};

fn examples() -> Vec<Vec<u8>> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/domain/examples/"
    );
    [
        "example_a_lync2013_invite_multipart.sip",
        "example_b_200ok_answer.sip",
        "example_c_sfb_single_part_invite.sip",
    ]
    .iter()
    .map(|n| std::fs::read(format!("{p}{n}")).unwrap())
    .collect()
}

/// Exercises every accessor; returns nothing, must not panic.
fn exercise(bytes: &[u8]) {
    for m in [Message::parse(bytes), Message::parse_lenient(bytes)]
        .into_iter()
        .flatten()
    {
        let _ = m.start_line();
        let _ = m.method();
        let _ = (m.call_id(), m.from(), m.to(), m.cseq(), m.content_type());
        let _ = m.p_asserted_identities().count();
        let _ = m.header_values("via").count();
        for h in m.headers() {
            let _ = h.value();
            let _ = NameAddr::parse(h.raw_value);
            let _ = Uri::parse(h.raw_value);
            assert_eq!(&bytes[h.value_range.clone()], h.raw_value.as_bytes());
        }
        let parts = m.bodies();
        for p in &parts {
            assert_eq!(&bytes[p.body_range.clone()], p.body);
            let _ = p.headers().count();
        }
        // Replacing every part with its own bytes changes nothing (the lenient parse may fix a
        // wrong Content-Length, so only check messages that parse strictly).
        if Message::parse(bytes).is_ok() {
            let reps: Vec<_> = parts
                .iter()
                .map(|p| (p.body_range.clone(), p.body))
                .collect();
            assert_eq!(replace_bodies(bytes, &reps).unwrap(), bytes);
        }
    }
    let _ = Message::parse_first(bytes);
    let mut fr = StreamFramer::new(2048);
    for chunk in bytes.chunks(61) {
        fr.push(chunk);
        while let Some(r) = fr.next_frame() {
            if let Ok(frame) = r {
                assert!(Message::parse(frame).is_ok());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn sip_like_text_never_panics(s in "(INVITE sip:a@b SIP/2.0|SIP/2.0 200 OK)\r\n([A-Za-z-]{1,12} ?: ?[ -~]{0,30}\r\n( [ -~]{0,10}\r\n)?){0,8}\r\n[ -~\r\n]{0,80}") {
        exercise(s.as_bytes());
    }

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>(), prefix in "(SIP/|INVITE |f: |\\$\\$begin_record)") {
        let text = format!("{prefix}{s}");
        exercise(text.as_bytes());
        let _ = rec_sip::trace_log::Reader::new(text.as_bytes()).count();
        let _ = rec_sip::MediaType::parse(&text);
    }

    #[test]
    fn mutated_trace_log_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..6),
    ) {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/domain/examples/");
        let mut text = std::fs::read_to_string(format!("{p}example_d_sfb_trace_log.txt")).unwrap();
        for (at, c) in edits {
            let mut i = at.index(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.insert(i, c);
        }
        for rec in rec_sip::trace_log::Reader::new(text.as_bytes()).flatten() {
            let _ = rec.time.unix_micros();
            exercise(&rec.message);
        }
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = examples()[which].clone();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        exercise(&bytes);
    }
}
