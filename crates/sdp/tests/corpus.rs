//! Parsing against independent material: the sdp-transform corpus (expected values from its
//! `parse.test.js`), the [MS-SDPEXT] offer excerpt and the SDP bodies of the Lync / Skype for
//! Business examples in `shared/domain/examples` (expected values read from those files).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rec_sdp::{
    Candidate, CandidateKind, CandidateType, Crypto, Direction, Lifetime, LineEnding, MediaKind,
    Mki, Sdp, SdpError,
};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/sdp/sdp-transform/test"
);
const EXCERPTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/sdp/ms_openspecs_excerpts"
);
const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/domain/examples"
);

fn read(dir: &str, name: &str) -> Vec<u8> {
    let p = format!("{dir}/{name}");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(CORPUS)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sdp"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read corpus file"))
        })
        .collect();
    v.sort();
    v
}

/// SDP bodies of a SIP message: the body after the first blank line, or, for
/// `multipart/alternative`, the body of every part (the CRLF before a delimiter belongs to
/// the delimiter, RFC 2046 5.1.1).
fn sip_sdp_bodies(msg: &[u8]) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(msg).expect("utf-8 SIP message");
    let (head, body) = text.split_once("\r\n\r\n").expect("header/body separator");
    let boundary = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))
        .and_then(|l| l.split_once("boundary="))
        .map(|(_, b)| b.trim().trim_matches('"').to_string());
    match boundary {
        None => vec![body.as_bytes().to_vec()],
        Some(b) => {
            let delim = format!("\r\n--{b}");
            // Prepend CRLF so the first delimiter (at the body start) matches too.
            let framed = format!("\r\n{body}");
            framed
                .split(delim.as_str())
                .skip(1) // preamble
                .filter(|p| !p.starts_with("--")) // close delimiter
                .map(|p| {
                    let (_, part_body) = p.split_once("\r\n\r\n").expect("part headers");
                    part_body.as_bytes().to_vec()
                })
                .collect()
        }
    }
}

fn candidates<'a>(sdp: &Sdp<'a>, media: usize) -> Vec<Candidate<'a>> {
    sdp.media_section(media)
        .expect("media section")
        .candidates()
        .collect::<Result<Vec<_>, _>>()
        .expect("all candidates parse")
}

fn cryptos<'a>(sdp: &Sdp<'a>, media: usize) -> Vec<Crypto<'a>> {
    sdp.media_section(media)
        .expect("media section")
        .cryptos()
        .collect::<Result<Vec<_>, _>>()
        .expect("all crypto lines parse")
}

/// Checks the byte ranges of a candidate against the input text.
fn check_ranges(input: &[u8], c: &Candidate<'_>) {
    assert_eq!(&input[c.port_range.clone()], c.port.to_string().as_bytes());
    assert_eq!(&input[c.address_range.clone()], c.address.as_bytes());
}

/// Expected ICE fields: (foundation, component, transport, priority, ip, port, type).
type IceExp<'e> = (&'e str, u32, &'e str, u32, &'e str, u16, &'e str);

fn check_ice(input: &[u8], c: &Candidate<'_>, e: IceExp<'_>) {
    check_ranges(input, c);
    let CandidateKind::Ice {
        foundation,
        priority,
        typ,
        ..
    } = &c.kind
    else {
        panic!("expected an ICE candidate, got {c:?}");
    };
    assert_eq!(
        (
            *foundation,
            c.component,
            c.transport,
            *priority,
            c.address,
            c.port,
            typ.as_str()
        ),
        e
    );
}

fn ice_extras<'a>(
    c: &Candidate<'a>,
) -> (Option<&'a str>, Option<u16>, Option<&'a str>, Option<u32>) {
    match &c.kind {
        CandidateKind::Ice {
            raddr,
            rport,
            tcptype,
            generation,
            ..
        } => (*raddr, *rport, *tcptype, *generation),
        CandidateKind::Draft6 { .. } => panic!("not ICE"),
    }
}

#[test]
fn every_corpus_sdp_round_trips_byte_exact() {
    let files = corpus_files();
    assert!(files.len() >= 20, "corpus has {} files", files.len());
    for (name, bytes) in &files {
        let sdp = Sdp::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&sdp.to_bytes(), bytes, "{name} does not round-trip");
        // Line ranges tile the input exactly.
        let mut pos = 0;
        for l in sdp.lines() {
            assert_eq!(l.range.start, pos, "{name} line {}", l.index);
            pos = l.full_range().end;
        }
        assert_eq!(pos, bytes.len(), "{name}");
        // Every candidate and crypto line in the corpus is well formed.
        for m in sdp.media() {
            for c in m.candidates() {
                let c = c.unwrap_or_else(|e| panic!("{name}: {e}"));
                check_ranges(bytes, &c);
            }
            for c in m.cryptos() {
                c.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
}

#[test]
fn normal_sdp_matches_parse_test_js() {
    let input = read(CORPUS, "normal.sdp");
    let sdp = Sdp::parse(&input).unwrap();
    let o = sdp.session().origin().unwrap();
    assert_eq!(
        (
            o.username,
            o.session_id,
            o.session_version,
            o.nettype,
            o.addrtype,
            o.address
        ),
        ("-", "20518", "0", "IN", "IP4", "203.0.113.1")
    );
    let c = sdp.session().connection().unwrap().unwrap();
    assert_eq!((c.addrtype, c.address), ("IP4", "203.0.113.1"));
    assert_eq!(sdp.media_count(), 2);

    let audio = sdp.media_section(0).unwrap();
    assert_eq!(audio.kind(), MediaKind::Audio);
    assert_eq!(audio.port(), 54400);
    assert_eq!(audio.proto(), "RTP/SAVPF");
    assert_eq!(audio.direction(), Direction::SendRecv);
    let maps: Vec<_> = audio.rtpmaps().map(Result::unwrap).collect();
    assert_eq!(
        (maps[0].pt, maps[0].encoding, maps[0].clock_rate),
        (0, "PCMU", 8000)
    );
    assert_eq!(
        (maps[1].pt, maps[1].encoding, maps[1].clock_rate),
        (96, "opus", 48000)
    );

    let video = sdp.media_section(1).unwrap();
    assert_eq!(
        (video.kind(), video.port(), video.proto()),
        (MediaKind::Video, 55400, "RTP/SAVPF")
    );
    let maps: Vec<_> = video.rtpmaps().map(Result::unwrap).collect();
    assert_eq!(
        (maps[0].pt, maps[0].encoding, maps[0].clock_rate),
        (97, "H264", 90000)
    );
    assert_eq!(
        (maps[1].pt, maps[1].encoding, maps[1].clock_rate),
        (98, "VP8", 90000)
    );
    let fmtps: Vec<_> = video.fmtps().collect();
    assert_eq!(fmtps[0].format, "97");
    assert!(fmtps[0]
        .params
        .contains("sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA=="));
    assert_eq!(fmtps[1].format, "98");

    // video crypto 0: id 1, suite, config with |2^20|1:32
    let cr = cryptos(&sdp, 1);
    assert_eq!(cr.len(), 1);
    assert_eq!((cr[0].tag, cr[0].suite), (1, "AES_CM_128_HMAC_SHA1_32"));
    assert_eq!(
        cr[0].key_params,
        "inline:keNcG3HezSNID7LmfDa9J4lfdUL8W1F7TNJKcbuy|2^20|1:32"
    );
    assert!(!cr[0].scale && cr[0].role.is_none() && cr[0].session_params.is_none());
    let keys: Vec<_> = cr[0].keys().map(Result::unwrap).collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].method, "inline");
    assert_eq!(
        keys[0].key_salt_base64,
        "keNcG3HezSNID7LmfDa9J4lfdUL8W1F7TNJKcbuy"
    );
    assert_eq!(keys[0].lifetime, Some(Lifetime::PowerOfTwo(20)));
    assert_eq!(keys[0].lifetime.unwrap().packets(), 1 << 20);
    assert_eq!(
        keys[0].mki,
        Some(Mki {
            value: 1,
            length: 32
        })
    );

    // ICE candidates, same for audio and video with a port offset.
    for (i, port) in [(0usize, 54400u16), (1, 55400)] {
        let cs = candidates(&sdp, i);
        assert_eq!(cs.len(), 4);
        check_ice(
            &input,
            &cs[0],
            ("0", 1, "UDP", 2113667327, "203.0.113.1", port, "host"),
        );
        check_ice(
            &input,
            &cs[1],
            ("1", 2, "UDP", 2113667326, "203.0.113.1", port + 1, "host"),
        );
        check_ice(
            &input,
            &cs[2],
            ("2", 1, "UDP", 1686052607, "203.0.113.1", port + 2, "srflx"),
        );
        check_ice(
            &input,
            &cs[3],
            ("3", 2, "UDP", 1686052606, "203.0.113.1", port + 3, "srflx"),
        );
        assert_eq!(ice_extras(&cs[0]), (None, None, None, None));
        assert_eq!(
            ice_extras(&cs[2]),
            (Some("192.168.1.145"), Some(port + 2), None, Some(0))
        );
        assert_eq!(
            ice_extras(&cs[3]),
            (Some("192.168.1.145"), Some(port + 3), None, Some(0))
        );
        // network-id / network-cost stay available as written.
        let CandidateKind::Ice { extensions, .. } = cs[2].kind else {
            unreachable!()
        };
        assert!(extensions.contains("network-id 3"));
        assert_eq!(extensions.contains("network-cost 10"), i == 0);
    }
}

#[test]
fn hacky_sdp_tcp_candidates_and_rtcp_match_parse_test_js() {
    let input = read(CORPUS, "hacky.sdp");
    let sdp = Sdp::parse(&input).unwrap();
    assert_eq!(
        sdp.session().origin().unwrap().session_id,
        "3710604898417546434"
    );
    let a = sdp.media_section(0).unwrap();
    let rtcp = a.rtcp().unwrap().unwrap();
    assert_eq!(
        (rtcp.port, rtcp.addrtype, rtcp.address),
        (1, Some("IP4"), Some("0.0.0.0"))
    );
    assert_eq!(&input[rtcp.port_range.clone()], b"1");
    assert_eq!(&input[rtcp.address_range.clone().unwrap()], b"0.0.0.0");
    let v = sdp.media_section(1).unwrap().rtcp().unwrap().unwrap();
    assert_eq!((v.port, v.addrtype, v.address), (12312, None, None));

    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 8);
    let ex: Vec<_> = cs.iter().map(ice_extras).collect();
    assert_eq!(ex[0].2, None, "no tcptype");
    assert_eq!(ex[1].2, Some("active"));
    assert_eq!(cs[1].transport, "tcp");
    assert!(cs[1].is_tcp() && !cs[1].is_udp());
    assert_eq!(ex[1].3, Some(0));
    assert_eq!(ice_kind(&cs[1]), CandidateType::Host);
    assert_eq!(ex[2].3, None, "no generation");
    assert_eq!(ice_kind(&cs[2]), CandidateType::Host);
    assert_eq!(ex[2].2, Some("active"));
    assert_eq!(ex[3].2, Some("passive"));
    assert_eq!(ex[4].2, Some("so"));
    assert_eq!(ice_kind(&cs[5]), CandidateType::Srflx);
    assert_eq!(ex[5], (Some("10.0.1.1"), Some(9), Some("active"), None));
    assert_eq!(
        ex[6],
        (Some("10.0.1.1"), Some(8998), Some("passive"), Some(5))
    );
    for c in &cs {
        check_ranges(&input, c);
    }

    assert!(a.rtcp_mux());
    let maps: Vec<_> = a.rtpmaps().map(Result::unwrap).collect();
    let last = maps.last().unwrap();
    assert_eq!((last.encoding, last.clock_rate), ("telephone-event", 8000));
    assert_eq!((maps[0].encoding, maps[0].channels), ("opus", Some(2)));
    assert_eq!(a.attribute("ptime").unwrap().value, Some("0.125"));
    assert_eq!(a.attribute("maxptime").unwrap().value, Some("60"));
    assert_eq!(
        a.attribute("ice-options").unwrap().value,
        Some("google-ice")
    );
}

fn ice_kind<'a>(c: &Candidate<'a>) -> CandidateType<'a> {
    match c.kind {
        CandidateKind::Ice { typ, .. } => typ,
        CandidateKind::Draft6 { .. } => panic!("not ICE"),
    }
}

#[test]
fn jssip_candidates_match_parse_test_js() {
    let input = read(CORPUS, "jssip.sdp");
    let sdp = Sdp::parse(&input).unwrap();
    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 6);
    check_ice(
        &input,
        &cs[0],
        (
            "1162875081",
            1,
            "udp",
            2113937151,
            "192.168.34.75",
            60017,
            "host",
        ),
    );
    assert_eq!(ice_extras(&cs[0]), (None, None, None, Some(0)));
    check_ice(
        &input,
        &cs[2],
        (
            "3289912957",
            1,
            "udp",
            1845501695,
            "193.84.77.194",
            60017,
            "srflx",
        ),
    );
    assert_eq!(
        ice_extras(&cs[2]),
        (Some("192.168.34.75"), Some(60017), None, Some(0))
    );
    check_ice(
        &input,
        &cs[4],
        (
            "198437945",
            1,
            "tcp",
            1509957375,
            "192.168.34.75",
            0,
            "host",
        ),
    );
    assert_eq!(ice_extras(&cs[4]), (None, None, None, Some(0)));
    let rtcp = sdp.media_section(0).unwrap().rtcp().unwrap().unwrap();
    assert_eq!((rtcp.port, rtcp.address), (60017, Some("193.84.77.194")));
    let cr = cryptos(&sdp, 0);
    assert_eq!(
        cr.iter().map(|c| (c.tag, c.suite)).collect::<Vec<_>>(),
        [
            (0, "AES_CM_128_HMAC_SHA1_32"),
            (1, "AES_CM_128_HMAC_SHA1_80")
        ]
    );
    assert!(cr.iter().all(|c| {
        let k: Vec<_> = c.keys().map(Result::unwrap).collect();
        k.len() == 1 && k[0].lifetime.is_none() && k[0].mki.is_none()
    }));
}

#[test]
fn icelite_and_jsep_candidates() {
    let input = read(CORPUS, "icelite.sdp");
    let sdp = Sdp::parse(&input).unwrap();
    let cs = candidates(&sdp, 0);
    check_ice(
        &input,
        &cs[0],
        ("X", 1, "UDP", 659136, "192.168.100.100", 10018, "host"),
    );
    check_ice(
        &input,
        &cs[1],
        ("X", 2, "UDP", 659134, "192.168.100.100", 10019, "host"),
    );
    assert!(sdp.session().attribute("ice-lite").is_some());

    let input = read(CORPUS, "jsep.sdp");
    let sdp = Sdp::parse(&input).unwrap();
    assert_eq!(sdp.media_count(), 2);
    let cs = candidates(&sdp, 0);
    check_ice(
        &input,
        &cs[0],
        (
            "3348148302",
            1,
            "udp",
            2113937151,
            "192.0.2.1",
            56500,
            "host",
        ),
    );
    let rtcp = sdp.media_section(0).unwrap().rtcp().unwrap().unwrap();
    assert_eq!((rtcp.port, rtcp.address), (56501, Some("192.0.2.1")));
}

#[test]
fn invalid_sdp_is_kept_verbatim_without_panic() {
    let input = read(CORPUS, "invalid.sdp");
    let sdp = Sdp::parse(&input).expect("lenient parse");
    assert_eq!(sdp.to_bytes(), input);
    let m = sdp.media_section(0).unwrap();
    // parse.test.js: rtcp port 1, ipVer 7, address X; a=goo:hithere copied verbatim.
    let rtcp = m.rtcp().unwrap().unwrap();
    assert_eq!(
        (rtcp.port, rtcp.addrtype, rtcp.address),
        (1, Some("IP7"), Some("X"))
    );
    assert_eq!(m.attribute("goo").unwrap().value, Some("hithere"));
    let f = m.lines().iter().find(|l| l.kind == Some('f')).unwrap();
    assert_eq!(f.value, "invalid:yes");
}

#[test]
fn meaningless_input_is_an_error_naming_the_line() {
    assert_eq!(Sdp::parse(b""), Err(SdpError::Empty));
    let turn = read(EXCERPTS, "MS-TURN_message_types_PARTIAL.txt");
    assert_eq!(Sdp::parse(&turn), Err(SdpError::MissingVersion { line: 1 }));
    let e = Sdp::parse(b"v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n").unwrap_err();
    assert!(matches!(e, SdpError::BadMediaLine { line: 3, .. }), "{e:?}");
    assert!(e.to_string().contains("line 3"), "{e}");
    let e = Sdp::parse(b"v=0\nm=audio\n").unwrap_err();
    assert!(matches!(e, SdpError::BadMediaLine { line: 2, .. }), "{e:?}");
    let e = Sdp::parse(b"v=0\ns=\xff\n").unwrap_err();
    assert_eq!(e, SdpError::NotUtf8 { line: 2 });
    // A malformed candidate only fails its own view, naming the line.
    let sdp = Sdp::parse(b"v=0\nm=audio 1 RTP/AVP 0\na=candidate:1 1 UDP x 1.2.3.4 5 typ host\n")
        .unwrap();
    let e = sdp
        .media_section(0)
        .unwrap()
        .candidates()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(e.to_string().contains("line 3"), "{e}");
}

#[test]
fn mixed_line_endings_and_trailing_spaces_round_trip() {
    let input = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4 \ns=x\r\n\r\ngarbage line\nm=audio 5 RTP/AVP 0\r\nx-unknown\na=x-foo:bar  ";
    let sdp = Sdp::parse(input).unwrap();
    assert_eq!(sdp.to_bytes(), input);
    let ends: Vec<_> = sdp.lines().iter().map(|l| l.ending).collect();
    assert_eq!(
        ends,
        [
            LineEnding::CrLf,
            LineEnding::Lf,
            LineEnding::CrLf,
            LineEnding::CrLf,
            LineEnding::Lf,
            LineEnding::CrLf,
            LineEnding::Lf,
            LineEnding::None
        ]
    );
    assert_eq!(sdp.lines()[3].kind, None);
    assert_eq!(sdp.lines()[4].value, "garbage line");
    let m = sdp.media_section(0).unwrap();
    assert_eq!(m.attribute("x-foo").unwrap().value, Some("bar  "));
}

#[test]
fn ms_sdpext_offer_excerpt_parses_completely() {
    let text = String::from_utf8(read(EXCERPTS, "MS-SDPEXT_offer_example_PARTIAL.txt")).unwrap();
    let start = text.find("v=0").unwrap();
    let end = text.find("[... truncated").unwrap();
    let body = &text[start..end];
    let sdp = Sdp::parse(body.as_bytes()).unwrap();
    assert_eq!(sdp.to_bytes(), body.as_bytes());
    let m = sdp.media_section(0).unwrap();
    assert_eq!(
        (m.kind(), m.port(), m.proto()),
        (MediaKind::Audio, 50005, "RTP/AVP")
    );
    assert_eq!(m.ice_ufrag(), Some("6nxO"));
    assert_eq!(m.ice_pwd(), Some("G6rUJNNaobz8IdDZrAbyFDoO"));
    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 9);
    let b = body.as_bytes();
    check_ice(
        b,
        &cs[0],
        ("1", 1, "UDP", 2130706431, "172.24.32.152", 50005, "host"),
    );
    check_ice(
        b,
        &cs[1],
        ("1", 2, "UDP", 2130705918, "172.24.32.152", 50009, "host"),
    );
    check_ice(
        b,
        &cs[2],
        (
            "2",
            1,
            "TCP-PASS",
            6556159,
            "172.29.105.171",
            53127,
            "relay",
        ),
    );
    check_ice(
        b,
        &cs[5],
        ("3", 2, "UDP", 16648702, "172.29.105.171", 59627, "relay"),
    );
    check_ice(
        b,
        &cs[7],
        ("4", 2, "TCP-ACT", 7076350, "172.29.105.171", 53127, "relay"),
    );
    check_ice(
        b,
        &cs[8],
        (
            "5",
            1,
            "TCP-ACT",
            1684797951,
            "172.24.32.152",
            50004,
            "srflx",
        ),
    );
    assert_eq!(
        ice_extras(&cs[8]),
        (Some("172.24.32.152"), Some(50004), None, None)
    );
    assert_eq!(cs.iter().filter(|c| c.is_ice_relay()).count(), 6);
    assert_eq!(
        sdp.session().attribute("x-mediabw").unwrap().value,
        Some("main-video send=585;recv=1416")
    );
}

/// Draft-6 candidate expectations: (username, component, password, transport, q, ip, port).
type D6Exp<'e> = (&'e str, u32, &'e str, &'e str, &'e str, &'e str, u16);

fn check_draft6(input: &[u8], c: &Candidate<'_>, e: D6Exp<'_>) {
    check_ranges(input, c);
    let CandidateKind::Draft6 {
        username,
        password,
        qvalue,
    } = c.kind
    else {
        panic!("expected draft-6, got {c:?}");
    };
    assert_eq!(
        (
            username,
            c.component,
            password,
            c.transport,
            qvalue,
            c.address,
            c.port
        ),
        e
    );
    assert!(!c.is_ice_relay());
    assert!(!c.ipv6_attribute);
}

fn check_lync_crypto(cr: &[Crypto<'_>], keys: [&str; 3]) {
    assert_eq!(cr.len(), 3);
    assert!(cr[0].scale);
    assert_eq!(cr[0].role, Some("client"));
    assert!(!cr[1].scale && !cr[2].scale);
    for (i, c) in cr.iter().enumerate() {
        assert_eq!(c.tag, i as u32 + 1);
        assert_eq!(c.suite, "AES_CM_128_HMAC_SHA1_80");
        assert!(c.session_params.is_none());
        let k: Vec<_> = c.keys().map(Result::unwrap).collect();
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].method, "inline");
        assert_eq!(k[0].key_salt_base64, keys[i]);
        assert_eq!(k[0].lifetime, Some(Lifetime::PowerOfTwo(31)));
        assert_eq!(k[0].lifetime.unwrap().packets(), 1 << 31);
        let mki = (i < 2).then_some(Mki {
            value: 1,
            length: 1,
        });
        assert_eq!(k[0].mki, mki);
    }
}

#[test]
fn lync_example_a_both_parts_parse_completely() {
    let msg = read(EXAMPLES, "example_a_lync2013_invite_multipart.sip");
    let bodies = sip_sdp_bodies(&msg);
    assert_eq!(bodies.len(), 2);
    // Content-Length: 4206 covers the whole multipart body; each part is a complete SDP.
    for b in &bodies {
        assert!(b.starts_with(b"v=0\r\n") && b.ends_with(b"a=ptime:20\r\n"));
    }

    // Part 1: draft-6 fallback.
    let d6 = &bodies[0];
    let sdp = Sdp::parse(d6).unwrap();
    assert_eq!(sdp.to_bytes(), *d6);
    assert_eq!(sdp.session().origin().unwrap().session_version, "0");
    assert_eq!(sdp.media_count(), 1);
    let m = sdp.media_section(0).unwrap();
    assert_eq!(
        (m.kind(), m.port(), m.proto()),
        (MediaKind::Audio, 20040, "RTP/SAVP")
    );
    let ml = m.media_line();
    assert_eq!(
        ml.format_list().collect::<Vec<_>>(),
        [
            "117", "114", "104", "9", "112", "111", "0", "8", "116", "115", "103", "97", "13",
            "118", "101"
        ]
    );
    let conn = m.connection().unwrap().unwrap();
    assert!(conn.session_level);
    assert_eq!(conn.address, "192.0.2.10");
    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 4);
    let u1 = "0T8Eji45CG5WsfPcArOsihr+fTQ2TSJn2J3OAqH+VpA";
    let p1 = "4zlFE5sH7+6iR4WuRBqsAg";
    let u2 = "eCsCz+3jQ5xMrV6wV0FuX6jPpwb7nzsbFcpj+ZYTdAM";
    let p2 = "B1xS5ArQhIbMV+lNE/rz5Q";
    check_draft6(d6, &cs[0], (u1, 1, p1, "UDP", "0.830", "192.0.2.10", 20040));
    check_draft6(d6, &cs[1], (u1, 2, p1, "UDP", "0.830", "192.0.2.10", 20041));
    check_draft6(
        d6,
        &cs[2],
        (u2, 1, p2, "UDP", "0.410", "198.51.100.20", 52516),
    );
    check_draft6(
        d6,
        &cs[3],
        (u2, 2, p2, "UDP", "0.410", "198.51.100.20", 57309),
    );
    assert!(cs[2].is_relay_with(&["198.51.100.20"]) && !cs[0].is_relay_with(&["198.51.100.20"]));
    assert!(!cs[2].is_relay_with(&[]));
    // The trailing space of Lync candidate lines is kept in the line.
    assert!(sdp.lines()[cs[0].line].value.ends_with("20040 "));
    let keys = [
        "D6vOaAbvmONs1aKnutmT+BQZfr5jbPXCorxlDub1",
        "U6ek5VXgkQUkNOLQcA48+UYNSH2QG0W3lyD3mbPp",
        "GHtTtSH+wxb9NZvIzT2dCyUe39sluyd+VeXAKyx3",
    ];
    check_lync_crypto(&cryptos(&sdp, 0), keys);
    let rtcp = m.rtcp().unwrap().unwrap();
    assert_eq!((rtcp.port, rtcp.address), (20041, None));
    assert!(!m.rtcp_mux());
    assert_eq!(m.label(), None);
    assert!(m.ice_ufrag().is_none());

    // Part 2: ICE (RFC 5245 / ICE-19).
    let ice = &bodies[1];
    let sdp = Sdp::parse(ice).unwrap();
    assert_eq!(sdp.to_bytes(), *ice);
    assert_eq!(sdp.session().origin().unwrap().session_version, "1");
    assert_eq!(
        sdp.session().attribute("x-devicecaps").unwrap().value,
        Some("audio:send,recv;video:send,recv")
    );
    let m = sdp.media_section(0).unwrap();
    assert_eq!(m.port(), 20062);
    let ssrc = m.ssrc_range().unwrap().unwrap();
    assert_eq!((ssrc.first, ssrc.last), (3630151575, 3630151575));
    assert!(ssrc.contains(3630151575) && !ssrc.contains(3630151576));
    assert_eq!(m.label(), Some("main-audio"));
    assert_eq!(m.attribute("x-source").unwrap().value, Some("main-audio"));
    assert_eq!(m.ice_ufrag(), Some("uFsY"));
    assert_eq!(m.ice_pwd(), Some("sPb/ADC9fTwu1bppYYlTVpgh"));
    assert_eq!(m.direction(), Direction::SendRecv);
    assert!(m.attribute("rtcp-rsize").is_some_and(|a| a.value.is_none()));
    let rtcp = m.rtcp().unwrap().unwrap();
    assert_eq!((rtcp.port, rtcp.address), (20063, None));
    assert_eq!(&ice[rtcp.port_range.clone()], b"20063");
    assert_eq!(&ice[ml_port_range(&sdp)], b"20062");

    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 10);
    let h = "192.0.2.10";
    let e = "198.51.100.20";
    let exp: [IceExp; 10] = [
        ("1", 1, "UDP", 2130706431, h, 20062, "host"),
        ("1", 2, "UDP", 2130705918, h, 20063, "host"),
        ("2", 1, "TCP-PASS", 174456319, e, 53870, "relay"),
        ("2", 2, "TCP-PASS", 174455806, e, 53870, "relay"),
        ("3", 1, "UDP", 184548351, e, 55188, "relay"),
        ("3", 2, "UDP", 184547838, e, 50627, "relay"),
        ("4", 1, "TCP-ACT", 174848511, e, 53870, "relay"),
        ("4", 2, "TCP-ACT", 174847998, e, 53870, "relay"),
        ("5", 1, "TCP-ACT", 1684797439, h, 20070, "srflx"),
        ("5", 2, "TCP-ACT", 1684796926, h, 20070, "srflx"),
    ];
    let rports = [
        None,
        None,
        Some(20070),
        Some(20070),
        Some(20066),
        Some(20067),
    ];
    for (i, (c, x)) in cs.iter().zip(exp).enumerate() {
        check_ice(ice, c, x);
        let (raddr, rport, tcptype, generation) = ice_extras(c);
        assert_eq!((tcptype, generation), (None, None));
        if i >= 2 {
            assert_eq!(raddr, Some(h));
        } else {
            assert_eq!(raddr, None);
        }
        if let Some(rp) = rports.get(i) {
            assert_eq!(rport, *rp, "candidate {i}");
        }
        let CandidateKind::Ice { extensions, .. } = c.kind else {
            unreachable!()
        };
        assert!(extensions.ends_with(' '), "trailing space kept");
        assert_eq!(c.is_tcp(), x.2.starts_with("TCP"));
    }
    check_lync_crypto(&cryptos(&sdp, 0), keys);

    let maps: Vec<_> = m.rtpmaps().map(Result::unwrap).collect();
    assert_eq!(maps.len(), 15);
    assert_eq!(
        (
            maps[0].pt,
            maps[0].encoding,
            maps[0].clock_rate,
            maps[0].channels
        ),
        (117, "G722", 8000, Some(2))
    );
    assert_eq!(
        (maps[1].pt, maps[1].encoding, maps[1].clock_rate),
        (114, "x-msrta", 16000)
    );
    let fmtp104 = m.fmtps().find(|f| f.format == "104").unwrap();
    assert_eq!(fmtp104.params, "useinbandfec=1; usedtx=0");
}

fn ml_port_range(sdp: &Sdp<'_>) -> core::ops::Range<usize> {
    sdp.media_section(0).unwrap().media_line().port_range
}

#[test]
fn lync_examples_b_c_d_parse_completely() {
    let b = sip_sdp_bodies(&read(EXAMPLES, "example_b_200ok_answer.sip"));
    assert_eq!(b.len(), 1);
    let sdp = Sdp::parse(&b[0]).unwrap();
    assert_eq!(sdp.to_bytes(), b[0]);
    let m = sdp.media_section(0).unwrap();
    // The remote (Internet) client already answers with the relay as default.
    assert_eq!(m.port(), 58110);
    assert_eq!(m.connection().unwrap().unwrap().address, "203.0.113.200");
    assert_eq!(m.rtcp().unwrap().unwrap().port, 51233);
    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 12);
    check_ice(
        &b[0],
        &cs[4],
        ("3", 1, "UDP", 184548351, "203.0.113.200", 58110, "relay"),
    );
    check_ice(
        &b[0],
        &cs[7],
        ("4", 2, "UDP", 1694234110, "203.0.113.99", 60011, "srflx"),
    );
    assert_eq!(
        ice_extras(&cs[7]),
        (Some("203.0.113.10"), Some(50011), None, None)
    );
    let cr = cryptos(&sdp, 0);
    assert_eq!(cr.len(), 1);
    assert_eq!(cr[0].tag, 2);
    assert_eq!(
        cr[0].keys().next().unwrap().unwrap().mki,
        Some(Mki {
            value: 1,
            length: 1
        })
    );
    assert_eq!(m.ssrc_range().unwrap().unwrap().first, 1126367212);

    let c = sip_sdp_bodies(&read(EXAMPLES, "example_c_sfb_single_part_invite.sip"));
    assert_eq!(c.len(), 1);
    let sdp = Sdp::parse(&c[0]).unwrap();
    assert_eq!(sdp.to_bytes(), c[0]);
    let m = sdp.media_section(0).unwrap();
    assert!(m.rtcp_mux());
    assert_eq!(m.rtcp().unwrap().unwrap().port, 50053);
    let cs = candidates(&sdp, 0);
    assert_eq!(cs.len(), 10);
    // No trailing space in SfB lines: extensions end at the last token.
    check_ice(
        &c[0],
        &cs[0],
        ("1", 1, "UDP", 2130706431, "192.0.2.30", 50052, "host"),
    );
    let CandidateKind::Ice { extensions, .. } = cs[0].kind else {
        unreachable!()
    };
    assert_eq!(extensions, "");
    let maps: Vec<_> = m.rtpmaps().map(Result::unwrap).collect();
    assert!(maps
        .iter()
        .any(|r| (r.pt, r.encoding, r.clock_rate) == (119, "CN", 24000)));
    assert_eq!(
        m.attribute("extmap").unwrap().value,
        Some(r"1 http:\\www.webrtc.org\experiments\rtp-hdrext\abs-send-time")
    );

    // Example d: SfB server trace log, body after `Message-Body: ` up to `$$end_record`.
    let d = String::from_utf8(read(EXAMPLES, "example_d_sfb_trace_log.txt")).unwrap();
    let start = d.find("Message-Body: v=0").unwrap() + "Message-Body: ".len();
    let end = start + d[start..].find("$$end_record").unwrap();
    let body = &d.as_bytes()[start..end];
    let sdp = Sdp::parse(body).unwrap();
    assert_eq!(sdp.to_bytes(), body);
    let m = sdp.media_section(0).unwrap();
    assert_eq!(m.port(), 20062);
    assert_eq!(m.media_line().formats, "0 8 101");
    let cs = candidates(&sdp, 0);
    assert_eq!(cs.iter().filter(|c| c.is_ice_relay()).count(), 2);
}

#[test]
fn debug_output_never_shows_keys() {
    let msg = read(EXAMPLES, "example_a_lync2013_invite_multipart.sip");
    let bodies = sip_sdp_bodies(&msg);
    let sdp = Sdp::parse(&bodies[1]).unwrap();
    let key = "D6vOaAbvmONs1aKnutmT";
    let dbg = format!(
        "{sdp:?} {:?} {:?}",
        cryptos(&sdp, 0),
        cryptos(&sdp, 0)[0].keys().collect::<Vec<_>>()
    );
    assert!(!dbg.contains(key), "key material in Debug output");
    // Not as raw bytes either (e.g. a derived Debug of the input slice).
    let as_bytes = format!("{:?}", &key.as_bytes()[..8]);
    assert!(!dbg.contains(&as_bytes[1..as_bytes.len() - 1]));
    assert!(!dbg.contains("U6ek5VXg"));
    assert!(dbg.contains("AES_CM_128_HMAC_SHA1_80"));
}

#[test]
fn direction_and_encryption_views() {
    let input = b"v=0\r\ns=-\r\na=sendonly\r\nm=audio 5 RTP/SAVP 0\r\na=encryption: required\r\n\
m=video 6 RTP/AVP 34\r\na=inactive\r\nm=audio 7 RTP/AVP 0\r\na=recvonly\r\na=sendrecv\r\n";
    let sdp = Sdp::parse(input).unwrap();
    assert_eq!(sdp.session().direction(), Some(Direction::SendOnly));
    let dirs: Vec<_> = sdp.media().map(|m| m.direction()).collect();
    // Media level wins (the last one written), else the session-level default.
    assert_eq!(
        dirs,
        [
            Direction::SendOnly,
            Direction::Inactive,
            Direction::SendRecv
        ]
    );
    let m = sdp.media_section(0).unwrap();
    assert_eq!(m.encryption(), Some("required"));
    assert_eq!(sdp.media_section(1).unwrap().encryption(), None);
    let none = Sdp::parse(b"v=0\nm=audio 5 RTP/AVP 0\n").unwrap();
    assert_eq!(
        none.media_section(0).unwrap().direction(),
        Direction::SendRecv
    );
    assert!(none.media_section(0).unwrap().connection().is_none());
}
