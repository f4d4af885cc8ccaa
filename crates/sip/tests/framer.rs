#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! StreamFramer: the Lync examples concatenated with keep-alives, fed in many chunkings.

use rec_sip::trace_log::Reader;
use rec_sip::{FrameError, Message, StreamFramer};

fn example(name: &str) -> Vec<u8> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/domain/examples/"
    );
    std::fs::read(format!("{p}{name}")).unwrap()
}

/// Example messages a, b, c and the two trace-log messages of d.
fn messages() -> Vec<Vec<u8>> {
    let mut v = vec![
        example("example_a_lync2013_invite_multipart.sip"),
        example("example_b_200ok_answer.sip"),
        example("example_c_sfb_single_part_invite.sip"),
    ];
    let log = example("example_d_sfb_trace_log.txt");
    v.extend(Reader::new(&log).map(|r| r.unwrap().message));
    for m in &v {
        Message::parse(m).unwrap();
    }
    v
}

const KEEPALIVES: [&[u8]; 3] = [b"\r\n\r\n", b"\r\n", b""];

/// Messages joined with keep-alives; returns the stream and each message's offset.
fn stream(msgs: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut s = b"\r\n\r\n".to_vec();
    let mut offsets = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        offsets.push(s.len());
        s.extend_from_slice(m);
        s.extend_from_slice(KEEPALIVES[i % 3]);
    }
    (s, offsets)
}

type Out = Vec<Result<Vec<u8>, FrameError>>;

/// Short description of framer output for assertion messages (no byte dumps).
fn summary(out: &Out) -> Vec<String> {
    out.iter()
        .map(|r| match r {
            Ok(b) => {
                let first = b.split(|&c| c == b'\r').next().unwrap_or_default();
                format!("ok {} bytes: {}", b.len(), String::from_utf8_lossy(first))
            }
            Err(e) => e.to_string(),
        })
        .collect()
}

fn assert_out(got: &Out, want: &Out, what: &str) {
    assert_eq!(summary(got), summary(want), "{what}");
    assert!(got == want, "{what}");
}

fn run(fr: &mut StreamFramer, data: &[u8], cuts: &[usize]) -> Out {
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cuts.iter().chain(std::iter::once(&data.len())) {
        fr.push(&data[prev..c]);
        prev = c;
        while let Some(r) = fr.next_frame() {
            out.push(r.map(<[u8]>::to_vec));
        }
    }
    out
}

/// Fixed-step, fixed-size and pseudo-random (LCG, fixed seed) chunkings.
fn chunkings(len: usize) -> Vec<Vec<usize>> {
    let mut all = vec![
        Vec::new(),
        (1..len).collect(),
        (7..len).step_by(7).collect(),
    ];
    let mut seed: u64 = 0x5eed_1234;
    for _ in 0..5 {
        let mut cuts = Vec::new();
        let mut pos = 0;
        loop {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            pos += 1 + (seed >> 33) as usize % 1500;
            if pos >= len {
                break;
            }
            cuts.push(pos);
        }
        all.push(cuts);
    }
    all
}

#[test]
fn every_chunking_yields_the_same_messages() {
    let msgs = messages();
    let (s, _) = stream(&msgs);
    let expected: Out = msgs.iter().cloned().map(Ok).collect();
    for cuts in chunkings(s.len()) {
        let mut fr = StreamFramer::default();
        assert_out(
            &run(&mut fr, &s, &cuts),
            &expected,
            &format!("{} cuts", cuts.len()),
        );
        assert_eq!(fr.buffered(), 0);
        assert!(fr.keep_alives() >= 3);
    }
    // One push: each keep-alive run counts once (leading, after a, b, d1 and d2; none after c).
    let mut fr = StreamFramer::default();
    run(&mut fr, &s, &[]);
    assert_eq!(fr.keep_alives(), 5);
}

fn with_content_length(m: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(m.to_vec()).unwrap();
    assert!(s.contains(from));
    s.replacen(from, to, 1).into_bytes()
}

#[test]
fn lying_content_length_gives_one_error_then_resyncs() {
    let msgs = messages();
    // Example c declares 2267; lie both ways.
    for lie in ["Content-Length: 2277", "Content-Length: 2257"] {
        let mut bad = msgs.clone();
        bad[2] = with_content_length(&msgs[2], "Content-Length: 2267", lie);
        let (s, offsets) = stream(&bad);
        for cuts in chunkings(s.len()) {
            let mut fr = StreamFramer::default();
            let out = run(&mut fr, &s, &cuts);
            let declared = lie[16..].parse().unwrap();
            let mut want: Out = msgs.iter().cloned().map(Ok).collect();
            want[2] = Err(FrameError::LyingContentLength {
                offset: offsets[2] as u64,
                declared,
            });
            assert_out(&out, &want, &format!("{lie}, {} cuts", cuts.len()));
        }
    }
}

#[test]
fn missing_content_length_is_an_error_for_that_message() {
    let msgs = messages();
    let mut bad = msgs.clone();
    bad[0] = with_content_length(&msgs[0], "Content-Length: 4206\r\n", "");
    let (s, offsets) = stream(&bad);
    for cuts in chunkings(s.len()) {
        let mut fr = StreamFramer::default();
        let out = run(&mut fr, &s, &cuts);
        let mut want: Out = msgs.iter().cloned().map(Ok).collect();
        want[0] = Err(FrameError::MissingContentLength {
            offset: offsets[0] as u64,
        });
        assert_out(&out, &want, &format!("{} cuts", cuts.len()));
    }
}

#[test]
fn oversize_message_is_dropped_and_the_stream_continues() {
    let msgs = messages();
    let (s, offsets) = stream(&msgs);
    // a = 5618 bytes, the others are below 3400 (`wc -c`).
    for cuts in chunkings(s.len()) {
        let mut fr = StreamFramer::new(4000);
        let out = run(&mut fr, &s, &cuts);
        let mut want: Out = msgs.iter().cloned().map(Ok).collect();
        want[0] = Err(FrameError::Oversize {
            offset: offsets[0] as u64,
            limit: 4000,
        });
        assert_out(&out, &want, &format!("{} cuts", cuts.len()));
        assert!(fr.buffered() <= 4000);
    }
    // A header block that never ends within the limit.
    let mut s = b"OPTIONS sip:x@example.com SIP/2.0\r\n".to_vec();
    for i in 0..200 {
        s.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "y".repeat(40)).as_bytes());
    }
    s.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    s.extend_from_slice(&msgs[1]);
    let mut fr = StreamFramer::new(4000);
    let out = run(
        &mut fr,
        &s,
        &(512..s.len()).step_by(512).collect::<Vec<_>>(),
    );
    let want: Out = vec![
        Err(FrameError::Oversize {
            offset: 0,
            limit: 4000,
        }),
        Ok(msgs[1].clone()),
    ];
    assert_out(&out, &want, "long head");
}

#[test]
fn garbage_before_a_message_is_one_error() {
    let msgs = messages();
    let mut s = b"\x16\x03\x01 not sip at all\r\nmore junk\r\n".to_vec();
    s.extend_from_slice(&msgs[1]);
    let mut fr = StreamFramer::default();
    let out = run(&mut fr, &s, &[]);
    assert_eq!(out.len(), 2, "{:?}", summary(&out));
    assert!(matches!(
        out[0],
        Err(FrameError::Malformed { offset: 0, .. })
    ));
    assert!(out[1].as_ref().unwrap() == &msgs[1]);
}
