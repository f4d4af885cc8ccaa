//! Unit-level cases of the relay-forcing rewrite that the top-level scenario tests
//! (`tests/rewrite_*.rs`) do not cover, plus two checks run over every SDP we have:
//! idempotence and "only port/address tokens of candidate/default lines differ".
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rec_sdp::{
    force_relay, ConnectionChange, MediaKind, RelayPolicy, RelayRewrite, Sdp, SkipReason,
};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/sdp/sdp-transform/test"
);
const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/domain/examples"
);

const EDGE: &str = "198.51.100.20";

fn policy<'p>(edge: &'p [&'p str], video: bool, drop: &'p [&'p str]) -> RelayPolicy<'p> {
    RelayPolicy {
        edge_addresses: edge,
        invalid_port: 1,
        video,
        drop_codecs: drop,
    }
}

/// `\n` → CRLF, as Lync sends.
fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

/// Edits sorted, non-overlapping, in bounds; the rewrite is idempotent.
fn check_invariants(input: &[u8], rw: &RelayRewrite, p: &RelayPolicy<'_>) -> Vec<u8> {
    let mut prev_end = 0;
    for e in &rw.edits {
        assert!(
            e.range.start <= e.range.end && e.range.end <= input.len(),
            "{e:?}"
        );
        assert!(
            e.range.start >= prev_end,
            "overlapping/unsorted edits {:?}",
            rw.edits
        );
        prev_end = e.range.end;
    }
    let out = rw.apply(input);
    if rw.is_unchanged() {
        assert_eq!(out, input);
    }
    let again = force_relay(&out, p).expect("rewritten SDP parses");
    assert!(
        again.is_unchanged(),
        "not idempotent: {:?}\n{}",
        again.edits,
        String::from_utf8_lossy(&out)
    );
    // The output is an SDP of the same shape.
    let a = Sdp::parse(input).unwrap();
    let b = Sdp::parse(&out).unwrap();
    assert_eq!(a.media_count(), b.media_count());
    out
}

fn run(input: &str, p: &RelayPolicy<'_>) -> (RelayRewrite, String) {
    let rw = force_relay(input.as_bytes(), p).expect("parses");
    let out = check_invariants(input.as_bytes(), &rw, p);
    (rw, String::from_utf8(out).unwrap())
}

/// Lines that differ between `a` and `b` (same line count required), as `(index, old, new)`.
fn diff_lines<'x>(a: &'x str, b: &'x str) -> Vec<(usize, &'x str, &'x str)> {
    let la: Vec<_> = a.split('\n').collect();
    let lb: Vec<_> = b.split('\n').collect();
    assert_eq!(la.len(), lb.len(), "line count changed");
    la.iter()
        .zip(&lb)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i, *x, *y))
        .collect()
}

/// Asserts that in every changed line only port/address tokens changed: candidate port
/// (to `invalid`), `m=` port, `c=` address (and address type), `a=rtcp:` port and address.
/// Returns the number of changed lines.
fn assert_only_port_address_tokens(a: &str, b: &str, invalid: u16) -> usize {
    let d = diff_lines(a, b);
    for (i, x, y) in &d {
        let tx: Vec<_> = x.split(' ').collect();
        let ty: Vec<_> = y.split(' ').collect();
        assert_eq!(
            tx.len(),
            ty.len(),
            "token count changed on line {i}: {x:?} -> {y:?}"
        );
        let changed: Vec<usize> = (0..tx.len()).filter(|&k| tx[k] != ty[k]).collect();
        let allowed: Vec<usize> =
            if x.starts_with("a=candidate:") || x.starts_with("a=x-candidate-ipv6:") {
                // ICE: port is token 5 (token 6 is `typ`); draft-6: port is token 6.
                let port = if tx.get(6).is_some_and(|t| *t == "typ") {
                    5
                } else {
                    6
                };
                assert_eq!(
                    ty[port],
                    invalid.to_string(),
                    "candidate port not invalid: {y:?}"
                );
                vec![port]
            } else if x.starts_with("m=") {
                vec![1]
            } else if x.starts_with("c=") {
                vec![1, 2]
            } else if x.starts_with("a=rtcp:") {
                vec![0, 3]
            } else {
                panic!("unexpected line changed {i}: {x:?} -> {y:?}");
            };
        assert!(
            changed.iter().all(|k| allowed.contains(k)),
            "line {i}: tokens {changed:?} changed, allowed {allowed:?}: {x:?} -> {y:?}"
        );
    }
    d.len()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The SDP parts of example a (multipart): draft-6 part, ICE part.
fn example_a_parts() -> (String, String) {
    let msg = String::from_utf8(read(&format!(
        "{EXAMPLES}/example_a_lync2013_invite_multipart.sip"
    )))
    .unwrap();
    let delim = "\r\n------=_NextPart_000_01A7_01D3C2B5.4F1E6A90";
    let parts: Vec<String> = msg
        .split(delim)
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|p| p.split_once("\r\n\r\n").unwrap().1.to_string())
        .collect();
    assert_eq!(parts.len(), 2);
    (parts[0].clone(), parts[1].clone())
}

fn single_body(name: &str) -> String {
    let msg = String::from_utf8(read(&format!("{EXAMPLES}/{name}"))).unwrap();
    msg.split_once("\r\n\r\n").unwrap().1.to_string()
}

const SESSION: &str = "v=0\no=- 0 1 IN IP4 192.0.2.10\ns=session\nc=IN IP4 192.0.2.10\nt=0 0\n";

#[test]
fn x_candidate_ipv6_ports_are_invalidated_too() {
    let sdp = crlf(&format!(
        "{SESSION}m=audio 20062 RTP/SAVP 0\n\
         a=candidate:1 1 UDP 2130706431 192.0.2.10 20062 typ host \n\
         a=x-candidate-ipv6:7 1 UDP 2130705919 2001:db8::10 20064 typ host \n\
         a=x-candidate-ipv6:7 2 UDP 2130705918 2001:db8::10 20065 typ host \n\
         a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 20066 \n\
         a=rtpmap:0 PCMU/8000\n"
    ));
    let parsed = Sdp::parse(sdp.as_bytes()).unwrap();
    let v6: Vec<_> = parsed
        .media_section(0)
        .unwrap()
        .candidates()
        .map(Result::unwrap)
        .filter(|c| c.ipv6_attribute)
        .collect();
    assert_eq!(v6.len(), 2);
    assert_eq!(v6[0].address, "2001:db8::10");

    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    let ch = &rw.report[0].changed;
    assert_eq!(
        ch.iter()
            .map(|c| (c.address.as_str(), c.component, c.old_port))
            .collect::<Vec<_>>(),
        [
            ("192.0.2.10", 1, 20062),
            ("2001:db8::10", 1, 20064),
            ("2001:db8::10", 2, 20065)
        ]
    );
    assert!(out.contains("a=x-candidate-ipv6:7 1 UDP 2130705919 2001:db8::10 1 typ host \r\n"));
    assert!(out.contains("a=x-candidate-ipv6:7 2 UDP 2130705918 2001:db8::10 1 typ host \r\n"));
    assert!(out.contains("m=audio 55188 RTP/SAVP 0\r\n"));
    assert_eq!(assert_only_port_address_tokens(&sdp, &out, 1), 5);
}

#[test]
fn port_zero_application_and_video_sections_are_skipped() {
    let host_relay = |port: u16| {
        format!(
            "a=candidate:1 1 UDP 2130706431 192.0.2.10 {port} typ host \n\
             a=candidate:3 1 UDP 184548351 198.51.100.20 5{port} typ relay raddr 192.0.2.10 rport {port} \n"
        )
    };
    let sdp = crlf(&format!(
        "{SESSION}m=audio 0 RTP/SAVP 0\n{}\
         m=application 5000 TCP/RTP/SAVP 127\n{}\
         m=applicationsharing 6000 TCP/RTP/SAVP 127\n{}\
         m=video 7000 RTP/SAVP 122\n{}",
        host_relay(1000),
        host_relay(5000),
        host_relay(6000),
        host_relay(7000)
    ));
    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    assert!(rw.is_unchanged());
    assert_eq!(out, sdp);
    let skipped: Vec<_> = rw.report.iter().map(|r| (r.kind, r.skipped)).collect();
    assert_eq!(
        skipped,
        [
            (MediaKind::Audio, Some(SkipReason::PortZero)),
            (MediaKind::Application, Some(SkipReason::NotAudioVideo)),
            (MediaKind::Other, Some(SkipReason::NotAudioVideo)),
            (MediaKind::Video, Some(SkipReason::VideoNotConfigured)),
        ]
    );
    assert_eq!(
        rw.report[0].to_string(),
        "section 0 (audio): skipped: port 0 (disabled)"
    );
    assert_eq!(
        rw.report[3].to_string(),
        "section 3 (video): skipped: video not configured"
    );

    // With video on, only the video section changes (it uses the shared session c=, so a
    // media-level c= is inserted and the other sections keep the session address).
    let (rw, out) = run(&sdp, &policy(&[], true, &[]));
    assert!(rw.report[..3].iter().all(|r| r.changed.is_empty()));
    let v = &rw.report[3];
    assert_eq!(v.skipped, None);
    assert_eq!(v.changed.len(), 1);
    let mv = v.default_moved.as_ref().unwrap();
    assert_eq!(mv.rtp_port, Some((7000, 57000)));
    assert_eq!(mv.connection, ConnectionChange::Inserted);
    assert!(out.contains("m=video 57000 RTP/SAVP 122\r\nc=IN IP4 198.51.100.20\r\n"));
    assert!(out.contains("\r\nc=IN IP4 192.0.2.10\r\n"));
    let parsed = Sdp::parse(out.as_bytes()).unwrap();
    let addr = |i| {
        parsed
            .media_section(i)
            .unwrap()
            .connection()
            .unwrap()
            .unwrap()
            .address
            .to_string()
    };
    assert_eq!(addr(1), "192.0.2.10");
    assert_eq!(addr(3), EDGE);
}

#[test]
fn ipv6_connection_moves_to_ipv4_relay_with_its_address_type() {
    // c= written in another textual form than the candidate: compared as IP addresses.
    let sdp = crlf(
        "v=0\no=- 0 1 IN IP6 2001:db8::10\ns=session\nc=IN IP6 2001:DB8:0::10\nt=0 0\n\
         m=audio 20062 RTP/AVP 0\n\
         a=candidate:1 1 UDP 2130706431 2001:db8::10 20062 typ host\n\
         a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 2001:db8::10 rport 20066\n",
    );
    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    let mv = rw.report[0].default_moved.as_ref().unwrap();
    assert_eq!(mv.connection, ConnectionChange::SessionLevel);
    assert_eq!(
        mv.address,
        Some(("2001:DB8:0::10".to_string(), EDGE.to_string()))
    );
    assert!(out.contains("\r\nc=IN IP4 198.51.100.20\r\n"), "{out}");
    assert!(
        out.contains("o=- 0 1 IN IP6 2001:db8::10\r\n"),
        "o= untouched"
    );
    assert_eq!(assert_only_port_address_tokens(&sdp, &out, 1), 3);
}

#[test]
fn media_level_connection_is_rewritten_and_session_level_kept() {
    let sdp = crlf(&format!(
        "{SESSION}m=audio 20062 RTP/AVP 0\n\
         c=IN IP4 192.0.2.11\n\
         a=candidate:1 1 UDP 2130706431 192.0.2.11 20062 typ host\n\
         a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.11 rport 20066\n\
         m=video 0 RTP/AVP 122\n"
    ));
    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    let mv = rw.report[0].default_moved.as_ref().unwrap();
    assert_eq!(mv.connection, ConnectionChange::MediaLevel);
    assert!(out.contains("m=audio 55188 RTP/AVP 0\r\nc=IN IP4 198.51.100.20\r\n"));
    assert!(out.contains("t=0 0") && out.contains("\r\nc=IN IP4 192.0.2.10\r\n"));
    assert_eq!(assert_only_port_address_tokens(&sdp, &out, 1), 3);

    // A media-level c= that does not match the host candidate: the host is not the
    // default, so only its port changes.
    let other = sdp.replace("c=IN IP4 192.0.2.11", "c=IN IP4 192.0.2.99");
    let (rw, out) = run(&other, &policy(&[], false, &[]));
    assert!(rw.report[0].default_moved.is_none());
    assert_eq!(assert_only_port_address_tokens(&other, &out, 1), 1);
}

#[test]
fn draft6_part_needs_edge_addresses() {
    let (d6, _) = example_a_parts();
    // Without edge addresses nothing in the draft-6 part is a relay candidate.
    let (rw, out) = run(&d6, &policy(&[], false, &[]));
    assert!(rw.is_unchanged());
    assert_eq!(out, d6);
    assert_eq!(
        rw.report[0].skipped,
        Some(SkipReason::Draft6NeedsEdgeAddresses)
    );
    // An unrelated edge address changes nothing either (never guessed from q-values).
    let (rw, _) = run(&d6, &policy(&["203.0.113.1"], false, &[]));
    assert!(rw.is_unchanged());
    assert_eq!(rw.report[0].skipped, Some(SkipReason::NoRelayCandidates));

    // With the Edge's address (written with spaces around it): host ports invalid, default
    // m=/c=/a=rtcp moved to the Edge candidates (values read from the file).
    let (rw, out) = run(&d6, &policy(&[" 198.51.100.20 "], false, &[]));
    let r = &rw.report[0];
    assert_eq!(
        r.changed
            .iter()
            .map(|c| (c.component, c.old_port, c.new_port))
            .collect::<Vec<_>>(),
        [(1, 20040, 1), (2, 20041, 1)]
    );
    let mv = r.default_moved.as_ref().unwrap();
    assert_eq!(mv.rtp_port, Some((20040, 52516)));
    assert_eq!(mv.rtcp_port, Some((20041, 57309)));
    assert_eq!(mv.address, Some(("192.0.2.10".into(), EDGE.into())));
    assert_eq!(mv.connection, ConnectionChange::SessionLevel);
    assert!(out.contains(
        "a=candidate:0T8Eji45CG5WsfPcArOsihr+fTQ2TSJn2J3OAqH+VpA 1 4zlFE5sH7+6iR4WuRBqsAg UDP 0.830 192.0.2.10 1 \r\n"
    ));
    assert!(out.contains("m=audio 52516 RTP/SAVP 117 "));
    assert!(out.contains("\r\nc=IN IP4 198.51.100.20\r\n"));
    assert!(out.contains("\r\na=rtcp:57309\r\n"));
    assert_eq!(assert_only_port_address_tokens(&d6, &out, 1), 5);
    let text = r.to_string();
    assert!(text.contains("2 candidate port(s) -> invalid 1"), "{text}");
    assert!(text.contains("m= 20040->52516"), "{text}");
}

#[test]
fn ice_part_of_example_a_changes_only_expected_tokens() {
    let (_, ice) = example_a_parts();
    let (rw, out) = run(&ice, &policy(&[], false, &[]));
    let r = &rw.report[0];
    // host UDP 20062/20063 and srflx TCP-ACT 20070 (both components) → invalid.
    assert_eq!(
        r.changed
            .iter()
            .map(|c| (c.transport.as_str(), c.component, c.old_port))
            .collect::<Vec<_>>(),
        [
            ("UDP", 1, 20062),
            ("UDP", 2, 20063),
            ("TCP-ACT", 1, 20070),
            ("TCP-ACT", 2, 20070)
        ]
    );
    let mv = r.default_moved.as_ref().unwrap();
    // UDP relay preferred over the TCP ones listed before it.
    assert_eq!(mv.rtp_port, Some((20062, 55188)));
    assert_eq!(mv.rtcp_port, Some((20063, 50627)));
    // m=, c=, a=rtcp and four candidate lines.
    assert_eq!(assert_only_port_address_tokens(&ice, &out, 1), 7);
    // A different invalid port is used verbatim.
    let mut p = policy(&[], false, &[]);
    p.invalid_port = 9;
    let (_, out9) = run(&ice, &p);
    assert_eq!(assert_only_port_address_tokens(&ice, &out9, 9), 7);
}

#[test]
fn rtcp_line_with_address_moves_port_and_address() {
    let sdp = crlf(&format!(
        "{SESSION}m=audio 5000 RTP/AVP 0\n\
         a=rtcp:5001 IN IP4 192.0.2.10\n\
         a=candidate:1 1 UDP 2130706431 192.0.2.10 5000 typ host\n\
         a=candidate:1 2 UDP 2130706430 192.0.2.10 5001 typ host\n\
         a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 5000\n\
         a=candidate:3 2 UDP 184548350 198.51.100.20 55189 typ relay raddr 192.0.2.10 rport 5001\n"
    ));
    let parsed = Sdp::parse(sdp.as_bytes()).unwrap();
    let rtcp = parsed.media_section(0).unwrap().rtcp().unwrap().unwrap();
    assert_eq!(&sdp.as_bytes()[rtcp.address_range.unwrap()], b"192.0.2.10");
    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    assert!(
        out.contains("\r\na=rtcp:55189 IN IP4 198.51.100.20\r\n"),
        "{out}"
    );
    let mv = rw.report[0].default_moved.as_ref().unwrap();
    assert_eq!(mv.rtcp_port, Some((5001, 55189)));
    assert_eq!(assert_only_port_address_tokens(&sdp, &out, 1), 5);
}

#[test]
fn rtcp_mux_without_component_2_relay_uses_the_rtp_relay() {
    let sdp = crlf(&format!(
        "{SESSION}m=audio 5000 RTP/AVP 0\n\
         a=rtcp:5000\n\
         a=rtcp-mux\n\
         a=candidate:1 1 UDP 2130706431 192.0.2.10 5000 typ host\n\
         a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 5000\n"
    ));
    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    let mv = rw.report[0].default_moved.as_ref().unwrap();
    assert_eq!(mv.rtp_port, Some((5000, 55188)));
    assert_eq!(mv.rtcp_port, Some((5000, 55188)));
    assert!(out.contains("m=audio 55188 RTP/AVP 0\r\n"));
    assert!(out.contains("\r\na=rtcp:55188\r\na=rtcp-mux\r\n"));
    assert_eq!(assert_only_port_address_tokens(&sdp, &out, 1), 4);

    // Without rtcp-mux and without a component-2 relay, a=rtcp on a separate host port
    // has nowhere to go: it stays (the host port itself is invalidated).
    let no_mux = sdp
        .replace("a=rtcp:5000\r\na=rtcp-mux\r\n", "a=rtcp:5001\r\n")
        .replace(
            "a=candidate:1 1 UDP 2130706431 192.0.2.10 5000 typ host\r\n",
            "a=candidate:1 1 UDP 2130706431 192.0.2.10 5000 typ host\r\n\
             a=candidate:1 2 UDP 2130706430 192.0.2.10 5001 typ host\r\n",
        );
    let (rw, out) = run(&no_mux, &policy(&[], false, &[]));
    assert_eq!(rw.report[0].default_moved.as_ref().unwrap().rtcp_port, None);
    assert!(out.contains("\r\na=rtcp:5001\r\n"));
}

#[test]
fn remote_candidates_are_left_alone() {
    let sdp = crlf(&format!(
        "{SESSION}m=audio 20062 RTP/AVP 0\n\
         a=candidate:1 1 UDP 2130706431 192.0.2.10 20062 typ host\n\
         a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 20066\n\
         a=remote-candidates:1 203.0.113.10 50010 2 203.0.113.10 50011\n\
         a=remote-candidate:eCsCz+3jQ5xMrV6wV0FuX6jPpwb7nzsbFcpj+ZYTdAM\n"
    ));
    let parsed = Sdp::parse(sdp.as_bytes()).unwrap();
    let rc: Vec<_> = parsed
        .media_section(0)
        .unwrap()
        .remote_candidates()
        .collect();
    assert_eq!(rc.len(), 2);
    assert_eq!(
        rc[0].entries().collect::<Vec<_>>(),
        [(1, "203.0.113.10", 50010), (2, "203.0.113.10", 50011)]
    );
    let (_, out) = run(&sdp, &policy(&[], false, &[]));
    assert!(out.contains("\r\na=remote-candidates:1 203.0.113.10 50010 2 203.0.113.10 50011\r\n"));
    assert_eq!(assert_only_port_address_tokens(&sdp, &out, 1), 3);
}

#[test]
fn codec_dropping_never_removes_the_last_codec() {
    let base = |formats: &str, maps: &str| {
        crlf(&format!(
            "{SESSION}m=audio 20062 RTP/AVP {formats}\n\
             a=candidate:3 1 UDP 184548351 198.51.100.20 20062 typ relay raddr 192.0.2.10 rport 20066\n\
             {maps}a=ptime:20\n"
        ))
    };
    let maps = "a=rtpmap:114 x-msrta/16000\na=fmtp:114 bitrate=29000\na=rtpmap:0 PCMU/8000\n\
                a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n";
    let sdp = base("114 0 101", maps);

    // One codec dropped: m= list, rtpmap and fmtp lines go; everything else stays.
    let (rw, out) = run(&sdp, &policy(&[], false, &["X-MSRTA"]));
    assert_eq!(rw.report[0].dropped_codecs, ["114 x-msrta"]);
    assert_eq!(
        out,
        sdp.replace("RTP/AVP 114 0 101", "RTP/AVP 0 101").replace(
            "a=rtpmap:114 x-msrta/16000\r\na=fmtp:114 bitrate=29000\r\n",
            ""
        )
    );

    // Every real codec dropped: the first one is kept (telephone-event is not a codec).
    let (rw, out) = run(&sdp, &policy(&[], false, &["x-msrta", "PCMU"]));
    assert_eq!(rw.report[0].dropped_codecs, ["0 PCMU"]);
    assert!(out.contains("RTP/AVP 114 101\r\n") && out.contains("a=rtpmap:114 x-msrta/16000"));
    assert!(!out.contains("PCMU"));

    // Everything dropped: still one format left.
    let (rw, out) = run(
        &sdp,
        &policy(&[], false, &["x-msrta", "PCMU", "telephone-event"]),
    );
    assert_eq!(
        rw.report[0].dropped_codecs,
        ["0 PCMU", "101 telephone-event"]
    );
    assert!(out.contains("RTP/AVP 114\r\n"));
    assert!(!out.contains("a=fmtp:101"));

    // A static payload type without rtpmap, alone: never removed.
    let single = base("0", "");
    let (rw, out) = run(&single, &policy(&[], false, &["PCMU"]));
    assert!(rw.report[0].dropped_codecs.is_empty());
    assert_eq!(out, single);

    // Static payload type without rtpmap among others: recognised by its RFC 3551 name.
    let two = base("8 0", "a=rtpmap:8 PCMA/8000\n");
    let (_, out) = run(&two, &policy(&[], false, &["pcmu"]));
    assert!(out.contains("RTP/AVP 8\r\n"));
}

/// Every SDP we have, plus corpus variants where `typ srflx` becomes `typ relay` so the
/// rewrite has something to do.
fn all_sdps() -> Vec<(String, String)> {
    let mut v = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sdp"))
        .collect();
    names.sort();
    for p in names {
        let s = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        if s.contains("typ srflx") {
            v.push((
                format!("{n} (srflx as relay)"),
                s.replace("typ srflx", "typ relay"),
            ));
        }
        v.push((n, s));
    }
    let (d6, ice) = example_a_parts();
    v.push(("example a draft-6".into(), d6));
    v.push(("example a ICE".into(), ice));
    v.push((
        "example b".into(),
        single_body("example_b_200ok_answer.sip"),
    ));
    v.push((
        "example c".into(),
        single_body("example_c_sfb_single_part_invite.sip"),
    ));
    v
}

#[test]
fn idempotent_and_token_exact_on_every_sdp() {
    let edges: &[&str] = &[EDGE, "203.0.113.200"];
    let mut changed_files = 0;
    for (name, sdp) in all_sdps() {
        for video in [false, true] {
            let p = policy(edges, video, &[]);
            let rw = force_relay(sdp.as_bytes(), &p).unwrap_or_else(|e| panic!("{name}: {e}"));
            let out = check_invariants(sdp.as_bytes(), &rw, &p);
            let out = String::from_utf8(out).unwrap();
            // Inserted c= lines change the line count; those sections are checked above.
            let inserted = rw.report.iter().any(|r| {
                r.default_moved
                    .as_ref()
                    .is_some_and(|m| m.connection == ConnectionChange::Inserted)
            });
            if !inserted {
                let n = assert_only_port_address_tokens(&sdp, &out, 1);
                assert_eq!(n == 0, rw.is_unchanged(), "{name}");
            }
            if !rw.is_unchanged() {
                changed_files += 1;
            }
            assert_eq!(
                rw.report.len(),
                Sdp::parse(sdp.as_bytes()).unwrap().media_count()
            );
        }
    }
    // The rewrite really did something on a good part of the material.
    assert!(
        changed_files >= 8,
        "only {changed_files} rewrites changed anything"
    );
}

#[test]
fn example_b_answer_already_on_relay_keeps_its_default() {
    let b = single_body("example_b_200ok_answer.sip");
    let (rw, out) = run(&b, &policy(&[], false, &[]));
    let r = &rw.report[0];
    assert!(r.default_moved.is_none(), "{r}");
    // host 50010/50011 and srflx UDP 60010/60011 + TCP-ACT 60020 x2.
    assert_eq!(r.changed.len(), 6);
    assert!(out.contains("m=audio 58110 RTP/SAVP") && out.contains("a=rtcp:51233\r\n"));
    assert_eq!(assert_only_port_address_tokens(&b, &out, 1), 6);
}

#[test]
fn default_already_at_the_invalid_port_is_not_moved() {
    // Regression (found by the corpus idempotence check on hacky.sdp): `m=` port 1 equals the
    // invalid port; the host candidate at port 0 becomes port 1 and must not then look like
    // the default on the second pass.
    let sdp = crlf(
        "v=0\no=- 0 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 1 RTP/SAVPF 0\nc=IN IP4 0.0.0.0\n\
         a=rtcp:1 IN IP4 0.0.0.0\n\
         a=candidate:1 1 tcp 1518280447 0.0.0.0 0 typ host tcptype active generation 0\n\
         a=candidate:4 1 TCP 1688207359 192.0.2.3 9 typ relay raddr 10.0.1.1 rport 9 tcptype active\n",
    );
    let (rw, out) = run(&sdp, &policy(&[], false, &[]));
    assert!(rw.report[0].default_moved.is_none());
    assert_eq!(rw.report[0].changed.len(), 1);
    assert!(out.contains("0.0.0.0 1 typ host"));
    assert!(out.contains("m=audio 1 RTP/SAVPF 0\r\n"));
}
