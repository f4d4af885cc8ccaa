//! Property tests: the parser never panics and always round-trips; `force_relay` never
//! panics, returns sorted, non-overlapping, in-bounds edits and is idempotent — on arbitrary
//! bytes, on mutated corpus SDPs and on generated SDPs built from Lync-like lines.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::sync::OnceLock;

use proptest::prelude::*;
use rec_sdp::{force_relay, force_relay_append, RelayPolicy, Sdp};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/sdp/sdp-transform/test"
);
const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/domain/examples"
);

/// Corpus SDPs and the SDP bodies of the Lync examples (everything after the first blank
/// line of the SIP message; for the multipart example that includes MIME framing, which the
/// lenient parser keeps as lines).
fn corpus() -> &'static [Vec<u8>] {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let mut v: Vec<Vec<u8>> = std::fs::read_dir(CORPUS)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sdp"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        for name in [
            "example_a_lync2013_invite_multipart.sip",
            "example_b_200ok_answer.sip",
            "example_c_sfb_single_part_invite.sip",
        ] {
            let msg = std::fs::read(format!("{EXAMPLES}/{name}")).unwrap();
            let text = String::from_utf8(msg).unwrap();
            let body = text.split_once("\r\n\r\n").unwrap().1;
            // Each `v=0` starts an SDP; cut before the next MIME delimiter.
            for part in body
                .split("\r\nv=0")
                .skip(usize::from(!body.starts_with("v=0")))
            {
                let part = part.strip_prefix("v=0").unwrap_or(part);
                let end = part.find("\r\n------=").map_or(part.len(), |e| e + 2);
                v.push(format!("v=0{}", &part[..end]).into_bytes());
            }
        }
        v.sort();
        v
    })
}

const EDGES: &[&str] = &["198.51.100.20", "2001:db8::20"];

fn policy(video: bool, invalid_port: u16, drop: bool) -> RelayPolicy<'static> {
    RelayPolicy {
        edge_addresses: EDGES,
        invalid_port,
        video,
        drop_codecs: if drop {
            &["x-msrta", "PCMU", "SILK"]
        } else {
            &[]
        },
    }
}

/// Round trip for anything that parses; rewrite invariants and idempotence.
fn check(input: &[u8], p: &RelayPolicy<'_>) -> Result<(), TestCaseError> {
    let mut appended = b"before".to_vec();
    let Ok(sdp) = Sdp::parse(input) else {
        prop_assert!(force_relay(input, p).is_err());
        prop_assert!(force_relay_append(input, p, &mut appended).is_err());
        prop_assert_eq!(appended, b"before");
        return Ok(());
    };
    prop_assert_eq!(sdp.to_bytes(), input);
    // Views never panic on whatever parsed.
    for m in sdp.media() {
        let _ = (m.connection(), m.rtcp(), m.ssrc_range(), m.direction());
        for c in m.candidates().flatten() {
            // The range holds the port digits (leading zeros allowed).
            let digits = std::str::from_utf8(&input[c.port_range.clone()]).unwrap();
            prop_assert_eq!(digits.parse::<u16>().ok(), Some(c.port));
            prop_assert_eq!(&input[c.address_range.clone()], c.address.as_bytes());
        }
        for c in m.cryptos().flatten() {
            let _ = c.keys().count();
        }
        let _ = (
            m.rtpmaps().count(),
            m.fmtps().count(),
            m.remote_candidates().count(),
        );
    }
    let rw = force_relay(input, p).expect("parsed input must rewrite");
    let mut end = 0;
    for e in &rw.edits {
        prop_assert!(e.range.start >= end, "unsorted/overlapping {:?}", rw.edits);
        prop_assert!(e.range.start <= e.range.end && e.range.end <= input.len());
        end = e.range.end;
    }
    prop_assert_eq!(rw.report.len(), sdp.media_count());
    let out = rw.apply(input);
    if rw.is_unchanged() {
        prop_assert_eq!(&out, input);
    }
    // The one-step rewrite appends exactly what `apply` returns, and reports the same.
    let applied = force_relay_append(input, p, &mut appended).expect("parsed input must rewrite");
    prop_assert_eq!(applied.changed, !rw.is_unchanged());
    prop_assert_eq!(&applied.report, &rw.report);
    let expected: Vec<u8> = if applied.changed {
        [&b"before"[..], &out].concat()
    } else {
        b"before".to_vec()
    };
    prop_assert_eq!(appended, expected);
    let again = force_relay(&out, p).expect("rewritten SDP parses");
    prop_assert!(
        again.is_unchanged(),
        "not idempotent: second edits {:?}\ninput:\n{}\noutput:\n{}",
        again.edits,
        String::from_utf8_lossy(input),
        String::from_utf8_lossy(&out)
    );
    Ok(())
}

/// One line of a Lync-like SDP, from small value sets so ports and addresses collide.
fn line() -> impl Strategy<Value = String> {
    let addr = prop::sample::select(vec![
        "192.0.2.10",
        "198.51.100.20",
        "2001:db8::10",
        "2001:db8::20",
        "0.0.0.0",
    ]);
    let port = prop::sample::select(vec![0u16, 1, 5000, 5001, 55188, 65535]);
    let comp = 1u32..=2;
    let transport = prop::sample::select(vec!["UDP", "TCP-PASS", "TCP-ACT", "tcp"]);
    let typ = prop::sample::select(vec!["host", "srflx", "relay", "prflx"]);
    let media = prop::sample::select(vec!["audio", "video", "application", "applicationsharing"]);
    let trail = prop::sample::select(vec!["", " "]);
    prop_oneof![
        (addr.clone(), any::<bool>())
            .prop_map(|(a, v6)| format!("c=IN {} {a}", if v6 { "IP6" } else { "IP4" })),
        (
            media,
            port.clone(),
            prop::sample::select(vec!["0", "114 0 101", "8 0"])
        )
            .prop_map(|(m, p, f)| format!("m={m} {p} RTP/SAVP {f}")),
        (
            1u8..4,
            comp.clone(),
            transport.clone(),
            addr.clone(),
            port.clone(),
            typ.clone(),
            trail.clone()
        )
            .prop_map(|(f, c, t, a, p, ty, tr)| {
                format!("a=candidate:{f} {c} {t} 2130706431 {a} {p} typ {ty}{tr}")
            }),
        (1u8..4, comp.clone(), addr.clone(), port.clone(), typ).prop_map(
            |(f, c, a, p, ty)| format!(
                "a=x-candidate-ipv6:{f} {c} UDP 1 {a} {p} typ {ty} raddr {a} rport {p}"
            )
        ),
        (1u8..4, comp, addr.clone(), port.clone(), trail).prop_map(|(u, c, a, p, tr)| {
            format!("a=candidate:user{u} {c} pass{u} UDP 0.{u}30 {a} {p}{tr}")
        }),
        port.clone().prop_map(|p| format!("a=rtcp:{p}")),
        (port, addr).prop_map(|(p, a)| format!("a=rtcp:{p} IN IP4 {a}")),
        Just("a=rtcp-mux".to_string()),
        Just("a=rtpmap:114 x-msrta/16000".to_string()),
        Just("a=fmtp:114 bitrate=29000".to_string()),
        Just("a=rtpmap:101 telephone-event/8000".to_string()),
        Just("a=remote-candidates:1 192.0.2.10 5000".to_string()),
        "[ -~]{0,20}",
    ]
}

fn generated_sdp() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((line(), prop::sample::select(vec!["\r\n", "\n"])), 0..24),
        any::<bool>(),
    )
        .prop_map(|(lines, last_eol)| {
            let mut s = String::from("v=0\r\n");
            let n = lines.len();
            for (i, (l, eol)) in lines.into_iter().enumerate() {
                s.push_str(&l);
                if i + 1 < n || last_eol {
                    s.push_str(eol);
                }
            }
            s.into_bytes()
        })
}

/// A structured SDP: session `c=`, then sections whose `m=`/`a=rtcp` ports and `c=` are
/// drawn from the same small sets as the candidates, so defaults sit on candidates often.
fn structured_sdp() -> impl Strategy<Value = Vec<u8>> {
    let addr = || {
        prop::sample::select(vec![
            "192.0.2.10",
            "198.51.100.20",
            "2001:db8::10",
            "2001:DB8:0::20",
        ])
    };
    let port = || prop::sample::select(vec![1u16, 5000, 5001, 55188, 55189]);
    let cand = (
        0u8..3,
        1u32..=2,
        prop::sample::select(vec!["UDP", "TCP-PASS", "TCP-ACT"]),
        addr(),
        port(),
        prop::sample::select(vec!["host", "srflx", "relay"]),
    )
        .prop_map(|(fmt, c, t, a, p, ty)| match fmt {
            0 => format!("a=candidate:{ty} {c} {t} 2130706431 {a} {p} typ {ty} \r\n"),
            1 => format!("a=x-candidate-ipv6:{ty} {c} {t} 9 {a} {p} typ {ty}\r\n"),
            _ => format!("a=candidate:u{ty} {c} p{ty} UDP 0.830 {a} {p} \r\n"),
        });
    let section = (
        prop::sample::select(vec!["audio", "audio", "video", "application"]),
        port(),
        prop::option::of(addr()),
        prop::option::of((port(), prop::option::of(addr()))),
        any::<bool>(),
        prop::collection::vec(cand, 0..7),
    )
        .prop_map(|(kind, p, c, rtcp, mux, cands)| {
            let mut s = format!("m={kind} {p} RTP/SAVP 114 0\r\n");
            if let Some(c) = c {
                s += &format!("c=IN IP4 {c}\r\n");
            }
            match rtcp {
                Some((rp, Some(ra))) => s += &format!("a=rtcp:{rp} IN IP4 {ra}\r\n"),
                Some((rp, None)) => s += &format!("a=rtcp:{rp}\r\n"),
                None => {}
            }
            if mux {
                s += "a=rtcp-mux\r\n";
            }
            s.extend(cands);
            s += "a=rtpmap:114 x-msrta/16000\r\na=rtpmap:0 PCMU/8000\r\n";
            s
        });
    (
        prop::option::of(addr()),
        prop::collection::vec(section, 1..4),
    )
        .prop_map(|(c, secs)| {
            let mut s = String::from("v=0\r\no=- 0 1 IN IP4 192.0.2.10\r\ns=session\r\n");
            if let Some(c) = c {
                s += &format!("c=IN IP4 {c}\r\n");
            }
            s += "t=0 0\r\n";
            s.extend(secs);
            s.into_bytes()
        })
}

/// A corpus SDP with a few byte-level mutations (replace, insert, delete).
fn mutated_corpus() -> impl Strategy<Value = Vec<u8>> {
    let n = corpus().len();
    (
        0..n,
        prop::collection::vec((any::<usize>(), 0u8..3, any::<u8>()), 1..8),
    )
        .prop_map(|(i, muts)| {
            let mut v = corpus()[i].clone();
            for (pos, op, b) in muts {
                let len = v.len();
                match op {
                    0 if len > 0 => v[pos % len] = b,
                    1 => v.insert(pos % (len + 1), b),
                    _ if len > 0 => {
                        v.remove(pos % len);
                    }
                    _ => {}
                }
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..400), video: bool) {
        check(&input, &policy(video, 1, false))?;
    }

    #[test]
    fn arbitrary_bytes_after_v0_never_panic(tail in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut input = b"v=0\r\n".to_vec();
        input.extend_from_slice(&tail);
        check(&input, &policy(true, 1, true))?;
    }

    #[test]
    fn mutated_corpus_never_panics_and_round_trips(input in mutated_corpus(), video: bool, drop: bool) {
        check(&input, &policy(video, 1, drop))?;
    }

    #[test]
    fn generated_lync_like_sdps_rewrite_idempotently(
        input in generated_sdp(),
        video: bool,
        drop: bool,
        invalid in prop::sample::select(vec![1u16, 9, 5000]),
    ) {
        check(&input, &policy(video, invalid, drop))?;
    }

    #[test]
    fn structured_sdps_rewrite_idempotently(
        input in structured_sdp(),
        video: bool,
        drop: bool,
        invalid in prop::sample::select(vec![1u16, 9]),
    ) {
        check(&input, &policy(video, invalid, drop))?;
    }
}

#[test]
fn force_relay_is_idempotent_on_the_corpus() {
    assert!(corpus().len() >= 28, "corpus has {} SDPs", corpus().len());
    for input in corpus() {
        for video in [false, true] {
            for drop in [false, true] {
                for invalid in [1, 9] {
                    check(input, &policy(video, invalid, drop)).unwrap();
                }
            }
        }
    }
}
