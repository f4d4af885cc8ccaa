#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! RFC 4475 (SIP torture messages) and RFC 5118 (IPv6 torture messages), from ersip's copies in
//! ../shared/testdata/sip/ersip. Expected values are read from the .dat files by eye; header
//! counts and body lengths were counted independently with a python one-liner
//! (`head=d[:d.find(b'\r\n\r\n')].split(b'\r\n'); sum(1 for l in head[1:] if l[:1] not in b' \t')`,
//! body = `len(d) - (i + 4)`).

use rec_sip::{Message, ParseError, StartLine, StreamFramer, Uri};
use std::collections::BTreeSet;

const DIR4475: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/sip/ersip/test/message/rfc4475/"
);
const DIR5118: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/sip/ersip/test/message/rfc5118/"
);

/// What the first line / key headers must be.
#[derive(Debug)]
struct Fields {
    first: First,
    call_id: Option<&'static str>,
    /// (URI text, tag); `None` when the header must be absent or unparsable.
    from: Option<(&'static str, Option<&'static str>)>,
    to: Option<(&'static str, Option<&'static str>)>,
    content_length: Option<usize>,
    body_len: usize,
    headers: usize,
}

#[derive(Debug)]
enum First {
    Method(&'static str),
    Status(u16),
}

#[derive(Debug)]
enum Expect {
    /// Valid message (RFC 4475 3.1.1.x / RFC 5118 good): parses with these fields.
    Valid(Fields),
    /// Invalid per the RFC, but a recorder must still read it: parses with these fields. The
    /// string says why accepting is right.
    Lenient(&'static str, Fields),
    /// Rejected by `Message::parse`: the error's text contains this. The string says why.
    Reject(&'static str, &'static str),
    /// Special handling tested separately (named test).
    Special(&'static str),
}

use Expect::*;
use First::*;

#[allow(clippy::too_many_arguments)]
fn f(
    first: First,
    call_id: &'static str,
    from: (&'static str, Option<&'static str>),
    to: (&'static str, Option<&'static str>),
    cl: usize,
    body: usize,
    headers: usize,
) -> Fields {
    Fields {
        first,
        call_id: Some(call_id),
        from: Some(from),
        to: Some(to),
        content_length: Some(cl),
        body_len: body,
        headers,
    }
}

fn rfc4475_table() -> Vec<(&'static str, Expect)> {
    vec![
        // ---- 3.1.1 valid messages ----
        ("wsinv", Valid(f(Method("INVITE"), "wsinv.ndaksdj@192.0.2.1",
            ("sip:jdrosen@example.com", Some("98asjd8")),
            ("sip:vivekg@chair-dnrc.example.com", Some("1918181833n")), 150, 150, 14))),
        ("intmeth", Valid(f(Method("!interesting-Method0123456789_*+`.%indeed'~"),
            "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            ("sip:mundane@example.com", Some("_token~1'+`*%!-.")),
            ("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com", None), 0, 0, 8))),
        ("esc01", Valid(f(Method("INVITE"), "esc01.239409asdfakjkn23onasd0-3234",
            ("sip:I%20have%20spaces@example.net", Some("938")),
            ("sip:%75se%72@example.com", None), 150, 150, 9))),
        ("escnull", Valid(f(Method("REGISTER"), "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
            ("sip:null-%00-null@example.com", Some("839923423")),
            ("sip:null-%00-null@example.com", None), 0, 0, 9))),
        ("esc02", Valid(f(Method("RE%47IST%45R"), "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
            ("sip:resource@example.com", Some("f232jadfj23")),
            ("sip:resource@example.com", None), 0, 0, 10))),
        ("lwsdisp", Valid(f(Method("OPTIONS"), "lwsdisp.1234abcd@funky.example.com",
            ("sip:caller@example.com", Some("323")), ("sip:user@example.com", None), 0, 0, 7))),
        ("longreq", Special("long_values_longreq")),
        ("dblreq", Special("extra_octets_dblreq")),
        ("semiuri", Valid(f(Method("OPTIONS"), "semiuri.0ha0isndaksdj",
            ("sip:caller@example.org", Some("33242")), ("sip:j_user@example.com", None), 0, 0, 8))),
        ("transports", Valid(f(Method("OPTIONS"), "transports.kijh4akdnaqjkwendsasfdj",
            ("sip:caller@example.com", Some("323")), ("sip:user@example.com", None), 0, 0, 12))),
        ("mpart01", Valid(f(Method("MESSAGE"), "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
            ("sip:fluffy@example.com", Some("2fb0dcc9")), ("sip:kumiko@example.org", None),
            553, 553, 14))),
        ("unreason", Valid(f(Status(200), "unreason.1234ksdfak3j2erwedfsASdf",
            ("sip:user@example.com", Some("11141343")), ("sip:user@example.edu", Some("2229")),
            154, 154, 8))),
        ("noreason", Valid(f(Status(100), "noreason.asndj203insdf99223ndf",
            ("sip:user@example.com", Some("39ansfi3")), ("sip:user@example.edu", Some("902jndnke3")),
            0, 0, 7))),
        // ---- 3.1.2 invalid messages ----
        ("badinv01", Lenient("';;,;,,' inside Via/Contact values is a value-level fault; the call must still be recorded",
            f(Method("INVITE"), "badinv01.0ha0isndaksdjasdf3234nas",
            ("sip:caller@example.net", Some("134161461246")), ("sip:j.user@example.com", None), 152, 152, 9))),
        ("clerr", Reject("a body shorter than Content-Length is a truncated message; parse_lenient still reads it",
            "Content-Length 9999 but body has 154 bytes")),
        ("ncl", Reject("a negative length cannot frame anything", "line 10: Content-Length '-999'")),
        ("scalar02", Lenient("overlarge CSeq/Max-Forwards/Expires are field-level; cseq() reads as absent",
            f(Method("REGISTER"), "scalar02.23o0pd9vanlq3wnrlnewofjas9ui32",
            ("sip:user@example.com", Some("239232jh3")), ("sip:user@example.com", None), 0, 0, 9))),
        ("scalarlg", Lenient("overlarge CSeq/Retry-After/Warning are field-level; cseq() reads as absent",
            f(Status(503), "scalarlg.noase0of0234hn2qofoaf0232aewf2394r",
            ("sip:other@example.net", Some("2easdjfejw")), ("sip:user@example.com", None), 0, 0, 8))),
        ("quotbal", Lenient("only To is broken (unterminated quote); to() is None, the rest is usable",
            Fields { to: None, ..f(Method("INVITE"), "quotbal.aksdj",
            ("sip:caller@example.net", Some("93334")), ("", None), 152, 152, 9) })),
        ("ltgtruri", Reject("a start line that is not SIP grammar cannot be trusted", "Request-URI enclosed in '<>'")),
        ("lwsruri", Reject("a space inside the Request-URI breaks the start line", "found 4 space-separated fields")),
        ("lwsstart", Reject("several spaces between start-line fields; no SIP stack emits this", "empty field")),
        ("trws", Lenient("RFC 4475 3.1.2.9 allows accepting trailing whitespace; it is harmless",
            f(Method("OPTIONS"), "trws.oicu34958239neffasdhr2345r",
            ("sip:local-resource@example.com", Some("329429089")), ("sip:remote-target@example.com", None), 0, 0, 8))),
        ("escruri", Lenient("headers in a Request-URI are a routing fault; Uri::parse exposes them",
            f(Method("INVITE"), "escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
            ("sip:caller@example.net", Some("341518")), ("sip:user@example.com", None), 150, 150, 9))),
        ("baddate", Lenient("the recorder never reads Date", f(Method("INVITE"), "baddate.239423mnsadf3j23lj42--sedfnm234",
            ("sip:caller@example.net", Some("2234923")), ("sip:user@example.com", None), 150, 150, 10))),
        ("regbadct", Lenient("a REGISTER Contact fault matters to registrars, not to a recorder",
            f(Method("REGISTER"), "regbadct.k345asrl3fdbv@10.0.0.1",
            ("sip:user@example.com", Some("998332")), ("sip:user@example.com", None), 0, 0, 8))),
        ("badaspec", Lenient("spaces inside <> are ignored; the identity is still clear",
            f(Method("OPTIONS"), "badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3",
            ("sip:a.g.bell@example.com", Some("433423")), ("sip:t.watson@example.org", None), 0, 0, 8))),
        ("baddn", Lenient("an unquoted display name with a comma is still a readable name",
            f(Method("OPTIONS"), "baddn.31415@c.example.com",
            ("sip:a.g.bell@example.com", Some("43")), ("sip:t.watson@example.org", None), 0, 0, 8))),
        ("badvers", Reject("not SIP/2.0: the message grammar is unknown", "unknown SIP version 'SIP/7.0'")),
        ("mismatch01", Lenient("CSeq method mismatch is a transaction-layer fault; method() gives the start-line method",
            f(Method("OPTIONS"), "mismatch01.dj0234sxdfl3",
            ("sip:caller@example.net", Some("34525")), ("sip:j.user@example.com", None), 0, 0, 7))),
        ("mismatch02", Lenient("as mismatch01, with an unknown method",
            f(Method("NEWMETHOD"), "mismatch02.dj0234sxdfl3",
            ("sip:caller@example.net", Some("34525")), ("sip:j.user@example.com", None), 138, 138, 9))),
        ("bigcode", Reject("a status code must be 3 digits", "status code '4294967301' is not 3 digits")),
        // ---- 3.3 transaction-layer / application-layer semantics (all well-formed) ----
        ("badbranch", Lenient("a bare magic-cookie branch is a transaction-layer matter",
            f(Method("OPTIONS"), "badbranch.sadonfo23i420jv0as0derf3j3n",
            ("sip:caller@example.org", Some("33242")), ("sip:user@example.com", None), 0, 0, 8))),
        ("insuf", Lenient("missing mandatory headers are reported as absent fields (call_id/from/to None)",
            Fields { first: Method("INVITE"), call_id: None, from: None, to: None,
                content_length: Some(152), body_len: 152, headers: 4 })),
        ("unkscm", Lenient("unknown Request-URI scheme: application layer; Uri keeps it opaque",
            f(Method("OPTIONS"), "unkscm.nasdfasser0q239nwsdfasdkl34",
            ("sip:caller@example.net", Some("384")), ("sip:user@example.com", None), 0, 0, 7))),
        ("novelsc", Lenient("novel scheme: application layer",
            f(Method("OPTIONS"), "novelsc.asdfasser0q239nwsdfasdkl34",
            ("sip:caller@example.net", Some("384")), ("sip:user@example.com", None), 0, 0, 7))),
        ("unksm2", Lenient("unknown schemes in To/From/Contact: opaque URIs",
            f(Method("REGISTER"), "unksm2.daksdj@hyphenated-host.example.com",
            ("http://www.example.com", Some("3234233")), ("isbn:2983792873", None), 0, 0, 8))),
        ("bext01", Lenient("unknown Require options: application layer",
            f(Method("OPTIONS"), "bext01.0ha0isndaksdj",
            ("sip:caller@example.net", Some("242etr")), ("sip:j_user@example.com", None), 0, 0, 9))),
        ("invut", Lenient("unknown body type: bodies() yields it as one opaque part",
            f(Method("INVITE"), "invut.0ha0isndaksdjadsfij34n23d",
            ("sip:caller@example.net", Some("8392034")), ("sip:j.user@example.com", None), 40, 40, 9))),
        ("regaut01", Lenient("unknown auth scheme: registrar matter",
            f(Method("REGISTER"), "regaut01.0ha0isndaksdj",
            ("sip:j.user@example.com", Some("87321hj23128")), ("sip:j.user@example.com", None), 0, 0, 8))),
        ("multi01", Lenient("duplicate single-value headers: the view returns the first; the engine may flag it",
            f(Method("INVITE"), "multi01.98asdh@192.0.2.1",
            ("sip:caller@example.com", Some("3413415")), ("sip:user@example.com", None), 154, 154, 15))),
        ("mcl01", Reject("two different Content-Lengths: no way to frame the body",
            "Content-Length given twice with different values (13 and 5)")),
        ("bcast", Lenient("a broadcast Via address is a transport-layer policy matter",
            f(Status(200), "bcast.0384840201234ksdfak3j2erwedfsASdf",
            ("sip:user@example.com", Some("11141343")), ("sip:user@example.edu", Some("2229")), 154, 154, 9))),
        ("zeromf", Lenient("Max-Forwards 0 is a proxy matter", f(Method("OPTIONS"), "zeromf.jfasdlfnm2o2l43r5u0asdfas",
            ("sip:caller@example.net", Some("3ghsd41")), ("sip:user@example.com", None), 0, 0, 7))),
        ("cparam01", Lenient("Contact parameter semantics: registrar matter",
            f(Method("REGISTER"), "cparam01.70710@saturn.example.com",
            ("sip:watson@example.com", Some("DkfVgjkrtMwaerKKpe")), ("sip:watson@example.com", None), 0, 0, 8))),
        ("cparam02", Lenient("Contact parameter semantics: registrar matter",
            f(Method("REGISTER"), "cparam02.70710@saturn.example.com",
            ("sip:watson@example.com", Some("838293")), ("sip:watson@example.com", None), 0, 0, 8))),
        ("regescrt", Lenient("escaped Route in a Contact: registrar matter",
            f(Method("REGISTER"), "regescrt.k345asrl3fdbv@192.0.2.1",
            ("sip:user@example.com", Some("8")), ("sip:user@example.com", None), 0, 0, 8))),
        ("sdp01", Lenient("Accept not matching the body: UA matter",
            f(Method("INVITE"), "sdp01.ndaksdj9342dasdd",
            ("sip:caller@example.net", Some("234")), ("sip:j_user@example.com", None), 150, 150, 10))),
        ("inv2543", Special("rfc2543_without_content_length_inv2543")),
    ]
}

fn rfc5118_table() -> Vec<(&'static str, Expect)> {
    let to_uri = "sip:user@example.com";
    vec![
        (
            "ipv6-good",
            Valid(f(
                Method("REGISTER"),
                "SSG9559905523997077@hlau_4100",
                ("sip:user@example.com", Some("81x2")),
                (to_uri, None),
                0,
                0,
                8,
            )),
        ),
        ("ipv6-bad", Special("ipv6_request_uris")),
        ("ipv6-bug-abnf-3-colons", Special("ipv6_request_uris")),
        (
            "ipv6-correct-abnf-2-colons",
            Valid(f(
                Method("OPTIONS"),
                "G9559905523997077@hlau_4100",
                ("sip:user@example.com", Some("810x2")),
                ("sip:user@[2001:db8::192.0.2.1]", None),
                0,
                0,
                7,
            )),
        ),
        ("port-ambiguous", Special("ipv6_request_uris")),
        ("port-unambiguous", Special("ipv6_request_uris")),
        (
            "via-received-param-no-delim",
            Valid(f(
                Method("OPTIONS"),
                "SSG95523997077@hlau_4100",
                ("sip:user@example.com", Some("81x2")),
                (to_uri, None),
                0,
                0,
                8,
            )),
        ),
        (
            "via-received-param-with-delim",
            Valid(f(
                Method("BYE"),
                "SSG9559905523997077@hlau_4100",
                ("sip:user@example.com", Some("81x2")),
                (to_uri, Some("bd76ya")),
                0,
                0,
                7,
            )),
        ),
        (
            "mult-ip-in-header",
            Valid(f(
                Method("BYE"),
                "997077@lau_4100",
                ("sip:user@example.com", Some("81x2")),
                ("sip:user@example.net", Some("9817--94")),
                0,
                0,
                9,
            )),
        ),
        ("ipv4-mapped-ipv6", Special("rfc5118_wrong_content_length")),
        ("ipv6-in-sdp", Special("rfc5118_wrong_content_length")),
        ("mult-ip-in-sdp", Special("rfc5118_wrong_content_length")),
    ]
}

fn read(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{dir}{name}")).unwrap()
}

fn check_fields(name: &str, m: &Message<'_>, e: &Fields) {
    match e.first {
        Method(x) => {
            assert!(m.is_request(), "{name}");
            assert_eq!(m.method(), Some(x), "{name}");
        }
        Status(c) => assert_eq!(m.status_code(), Some(c), "{name}"),
    }
    assert_eq!(m.call_id(), e.call_id, "{name}");
    let from = m.from().map(|n| (n.uri.as_str(), n.tag()));
    assert_eq!(from, e.from, "{name}: From");
    let to = m.to().map(|n| (n.uri.as_str(), n.tag()));
    assert_eq!(to, e.to, "{name}: To");
    assert_eq!(m.content_length(), e.content_length, "{name}");
    assert_eq!(m.body().len(), e.body_len, "{name}");
    assert_eq!(m.headers().count(), e.headers, "{name}");
}

fn run_table(dir: &str, table: &[(&str, Expect)], suffix: &str) {
    for (name, expect) in table {
        let bytes = read(dir, &format!("{name}{suffix}"));
        let parsed = Message::parse(&bytes);
        match expect {
            Valid(e) => {
                let m = parsed.unwrap_or_else(|err| panic!("{name}: {err}"));
                check_fields(name, &m, e);
            }
            Lenient(why, e) => {
                let m =
                    parsed.unwrap_or_else(|err| panic!("{name} (accepted because {why}): {err}"));
                check_fields(name, &m, e);
            }
            Reject(why, text) => {
                let err = parsed.expect_err(why).to_string();
                assert!(err.contains(text), "{name}: error '{err}' lacks '{text}'");
            }
            Special(test) => assert!(!test.is_empty(), "{name}: covered by test {test}"),
        }
    }
}

fn listing(dir: &str, suffix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(suffix).map(str::to_string))
        .collect()
}

#[test]
fn tables_cover_every_file() {
    let names: BTreeSet<String> = rfc4475_table().iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, listing(DIR4475, ".dat"));
    assert_eq!(names.len(), 49);
    let names: BTreeSet<String> = rfc5118_table().iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, listing(DIR5118, ""));
}

#[test]
fn rfc4475_messages() {
    run_table(DIR4475, &rfc4475_table(), ".dat");
}

#[test]
fn rfc5118_messages() {
    run_table(DIR5118, &rfc5118_table(), "");
}

#[test]
fn long_values_longreq() {
    let bytes = read(DIR4475, "longreq.dat");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    let call_id = format!("longreq.one{}longcallid", "really".repeat(20));
    assert_eq!(m.call_id(), Some(call_id.as_str()));
    let to = m.to().unwrap();
    let dn = format!("I have a user name of {} proportion", "extreme".repeat(10));
    assert_eq!(to.display_name, Some(dn.as_str()));
    assert_eq!(to.uri.port, Some(6000));
    assert_eq!(to.uri.params.get("longparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamename"), Some("shortvalue"));
    let from = m.from().unwrap();
    assert_eq!(
        from.uri.user,
        Some("amazinglylongcallername".repeat(5).as_str())
    );
    let tag = format!("1{}2424", "298".repeat(50));
    assert_eq!(from.tag(), Some(tag.as_str()));
    // `grep -ciE '^(via|v)\s*:' longreq.dat` = 34
    assert_eq!(m.header_values("via").count(), 34);
    assert_eq!(m.headers().count(), 43);
    assert_eq!(m.cseq(), Some((3_882_340, "INVITE")));
    assert_eq!(m.body().len(), 150);
}

#[test]
fn extra_octets_dblreq() {
    let bytes = read(DIR4475, "dblreq.dat");
    // parse() wants exactly one message: the trailing INVITE makes the body 450 bytes.
    let err = Message::parse(&bytes).unwrap_err();
    assert_eq!(
        err,
        ParseError::ContentLengthMismatch {
            declared: 0,
            actual: 450
        }
    );
    // Datagram semantics (RFC 4475 3.1.1.11): the REGISTER is valid, the extra octets are ignored.
    let (m, used) = Message::parse_first(&bytes).unwrap();
    assert_eq!(m.method(), Some("REGISTER"));
    assert_eq!(m.call_id(), Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    assert_eq!(m.from().unwrap().tag(), Some("43251j3j324"));
    assert_eq!(m.headers().count(), 8);
    assert_eq!(m.body(), b"");
    assert_eq!(bytes.len() - used, 450);
    assert!(bytes[used..].starts_with(b"\r\nINVITE sip:joe@example.com SIP/2.0\r\n"));
}

#[test]
fn rfc2543_without_content_length_inv2543() {
    // RFC 4475 3.1.2.x inv2543 (ersip: good as a datagram): no Content-Length, so the body is the
    // rest of the datagram. On a stream the framer must refuse it.
    let bytes = read(DIR4475, "inv2543.dat");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.call_id(), Some("inv2543.1717@ift.client.example.com"));
    assert_eq!(m.content_length(), None);
    assert_eq!(m.body().len(), 105);
    assert_eq!(m.headers().count(), 7);
    let from = m.from().unwrap();
    assert_eq!(from.uri.params.get("user"), Some("phone"));
    assert_eq!(from.tag(), None);
    // addr-spec To: ";user=phone" is a header parameter, not a URI parameter.
    let to = m.to().unwrap();
    assert_eq!(to.uri.as_str(), "sip:+16505552222@ss1.example.net");
    assert_eq!(to.params.get("user"), Some("phone"));
    let mut fr = StreamFramer::default();
    fr.push(&bytes);
    assert!(matches!(
        fr.next_frame(),
        Some(Err(rec_sip::FrameError::MissingContentLength { offset: 0 }))
    ));
}

#[test]
fn ipv6_request_uris() {
    let ruri = |name: &str| {
        let bytes = read(DIR5118, name);
        let m = Message::parse(&bytes).unwrap();
        let StartLine::Request { uri, .. } = m.start_line() else {
            panic!("{name}: not a request")
        };
        (
            uri.to_string(),
            Uri::parse(uri).map(|u| (u.host.to_string(), u.port)),
        )
    };
    // ipv6-bad: unbracketed IPv6 host in the Request-URI (RFC 5118 4.3) - the URI is rejected.
    let (_, u) = ruri("ipv6-bad");
    assert!(u.unwrap_err().to_string().contains("port"));
    // 3 colons ("2001:db8:::192.0.2.1") is not an IPv6 address (RFC 5118 4.6).
    let (_, u) = ruri("ipv6-bug-abnf-3-colons");
    assert_eq!(u.unwrap_err(), ParseError::Uri("bad IPv6 address".into()));
    // port-ambiguous: "[2001:db8::10:5070]" is a valid address with no port (RFC 5118 4.4).
    let (_, u) = ruri("port-ambiguous");
    assert_eq!(u.unwrap(), ("[2001:db8::10:5070]".to_string(), None));
    let (_, u) = ruri("port-unambiguous");
    assert_eq!(u.unwrap(), ("[2001:db8::10]".to_string(), Some(5070)));
    let (_, u) = ruri("ipv6-good");
    assert_eq!(u.unwrap(), ("[2001:db8::10]".to_string(), None));
    // The messages themselves are well-formed.
    for name in ["ipv6-bad", "ipv6-bug-abnf-3-colons", "port-ambiguous"] {
        let bytes = read(DIR5118, name);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.content_length(), Some(0));
        assert_eq!(
            m.from().unwrap().tag(),
            Some(if name == "ipv6-bug-abnf-3-colons" {
                "810x2"
            } else {
                "81x2"
            })
        );
    }
    let bytes = read(DIR5118, "ipv6-good");
    let m = Message::parse(&bytes).unwrap();
    let contact = rec_sip::NameAddr::parse(m.header("contact").unwrap().raw_value).unwrap();
    assert_eq!(contact.uri.host, "[2001:db8::1]");
    assert_eq!(contact.display_name, Some("Caller"));
}

#[test]
fn rfc5118_wrong_content_length() {
    // These three files have body length != Content-Length (see testdata MANIFEST): 245/236,
    // 251/241, 189/181. parse() reports it; parse_lenient() takes the whole body.
    for (name, declared, actual, call_id) in [
        (
            "ipv4-mapped-ipv6",
            236,
            245,
            "SSG9559905523997077@hlau_4100",
        ),
        ("ipv6-in-sdp", 241, 251, "SSG9559905523997077@hlau_4100"),
        ("mult-ip-in-sdp", 181, 189, "SSG9559905523997077@hlau_4100"),
    ] {
        let bytes = read(DIR5118, name);
        assert_eq!(
            Message::parse(&bytes).unwrap_err(),
            ParseError::ContentLengthMismatch { declared, actual },
            "{name}"
        );
        let m = Message::parse_lenient(&bytes).unwrap();
        assert_eq!(m.content_length_mismatch(), Some((declared, actual)));
        assert_eq!(m.call_id(), Some(call_id));
        assert_eq!(m.body().len(), actual);
        assert!(m.body().starts_with(b"v=0\r\n"));
        assert_eq!(m.method(), Some("INVITE"));
    }
    let bytes = read(DIR5118, "ipv4-mapped-ipv6");
    let m = Message::parse_lenient(&bytes).unwrap();
    let contact = rec_sip::NameAddr::parse(m.header("contact").unwrap().raw_value).unwrap();
    assert_eq!(contact.uri.host, "[::ffff:192.0.2.2]");
}

#[test]
fn lenient_parse_of_rejected_lengths() {
    // ncl: "Content-Length: -999" is ignored; the body is the 152 bytes after the empty line.
    let bytes = read(DIR4475, "ncl.dat");
    let m = Message::parse_lenient(&bytes).unwrap();
    assert_eq!((m.content_length(), m.body().len()), (None, 152));
    assert_eq!(m.call_id(), Some("ncl.0ha0isndaksdj2193423r542w35"));
    // mcl01: 13 then 5; the first counts and disagrees with the 67-byte body.
    let bytes = read(DIR4475, "mcl01.dat");
    let m = Message::parse_lenient(&bytes).unwrap();
    assert_eq!(m.content_length(), Some(13));
    assert_eq!(m.content_length_mismatch(), Some((13, 67)));
    assert!(m.body().starts_with(b"There's no way to know"));
    // Framing by Content-Length cannot trust either file.
    for name in ["ncl.dat", "mcl01.dat"] {
        let mut fr = StreamFramer::default();
        fr.push(&read(DIR4475, name));
        assert!(matches!(
            fr.next_frame(),
            Some(Err(rec_sip::FrameError::Malformed { offset: 0, .. }))
        ));
    }
}

#[test]
fn clerr_lenient_and_details() {
    let bytes = read(DIR4475, "clerr.dat");
    let m = Message::parse_lenient(&bytes).unwrap();
    assert_eq!(m.content_length_mismatch(), Some((9999, 154)));
    assert_eq!(m.call_id(), Some("clerr.0ha0isndaksdjweiafasdk3"));
}

#[test]
fn wsinv_folding_and_whitespace() {
    let bytes = read(DIR4475, "wsinv.dat");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.cseq(), Some((9, "INVITE")));
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some(r#"J Rosenberg \\\""#));
    let nf = m.header("newfangledheader").unwrap();
    assert_eq!(
        nf.raw_value,
        "newfangled value\r\n continued newfangled value"
    );
    assert_eq!(nf.value(), "newfangled value continued newfangled value");
    assert_eq!(&bytes[nf.value_range.clone()], nf.raw_value.as_bytes());
    // "s :" - an empty Subject in compact form.
    assert_eq!(m.header("subject").unwrap().raw_value, "");
    // One Via header line (folded) plus a "v:" line holding two values.
    assert_eq!(m.header_values("via").count(), 3);
    let cl = m.header("content-length").unwrap();
    assert_eq!(cl.name, "Content-Length");
    assert_eq!(m.header("MAX-FORWARDS").unwrap().raw_value, "0068");
    let contact = rec_sip::NameAddr::parse(m.header("contact").unwrap().raw_value).unwrap();
    assert_eq!(contact.display_name, Some(r#"Quoted string \"\""#));
    assert_eq!(contact.params.get("newparam"), Some("newvalue"));
    assert_eq!(contact.params.get("q"), Some("0.33"));
    assert!(contact.params.has("secondparam"));
}

#[test]
fn intmeth_nul_and_escapes() {
    let bytes = read(DIR4475, "intmeth.dat");
    assert!(bytes.contains(&0));
    let m = Message::parse(&bytes).unwrap();
    let to = m.to().unwrap();
    assert_eq!(
        to.display_name,
        Some("BEL:\\\u{7} NUL:\\\u{0} DEL:\\\u{7f}")
    );
    let StartLine::Request { uri, .. } = m.start_line() else {
        panic!()
    };
    let u = Uri::parse(uri).unwrap();
    assert_eq!(
        u.user,
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        u.password,
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(u.host, "example.com");
}

#[test]
fn mpart01_binary_parts() {
    let bytes = read(DIR4475, "mpart01.dat");
    let m = Message::parse(&bytes).unwrap();
    let parts = m.try_bodies().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts[0].content_type.unwrap().is("text", "plain"));
    assert_eq!(parts[0].body, b"Hello");
    assert!(parts[1]
        .content_type
        .unwrap()
        .is("application", "octet-stream"));
    // The S/MIME body is DER: a SEQUENCE (0x30 0x82 len16).
    assert_eq!(&parts[1].body[..2], &[0x30, 0x82]);
    let der_len = usize::from(parts[1].body[2]) << 8 | usize::from(parts[1].body[3]);
    assert_eq!(parts[1].body.len(), der_len + 4);
    assert!(bytes[parts[1].body_range.end..].starts_with(b"\r\n--7a9cbec02ceef655--"));
}

#[test]
fn esc02_and_compact_forms() {
    let bytes = read(DIR4475, "esc02.dat");
    let m = Message::parse(&bytes).unwrap();
    // "C%6Fntact" is a different (extension) header name: only two Contact headers.
    assert_eq!(m.header_values("contact").count(), 2);
    assert_eq!(m.cseq(), Some((29344, "RE%47IST%45R")));
    let bytes = read(DIR4475, "esc01.dat");
    let m = Message::parse(&bytes).unwrap();
    assert!(m.content_type().unwrap().is_sdp()); // "C: application/sdp"
    let contact =
        rec_sip::NameAddr::parse(&m.header("contact").unwrap().value()).map(|n| n.uri.to_string());
    assert_eq!(
        contact.unwrap(),
        "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"
    );
}

#[test]
fn contacts_and_request_uri() {
    // escnull: two Contact lines, "<sip:%00@host5.example.com>" and "<sip:%00%00@host5.example.com>".
    let bytes = read(DIR4475, "escnull.dat");
    let m = Message::parse(&bytes).unwrap();
    let users: Vec<_> = m.contacts().map(|c| c.uri.user.unwrap()).collect();
    assert_eq!(users, ["%00", "%00%00"]);
    assert_eq!(m.request_uri(), Some("sip:example.com"));
    // wsinv: the folded "m:" Contact with a quoted display name and parameters.
    let bytes = read(DIR4475, "wsinv.dat");
    let m = Message::parse(&bytes).unwrap();
    let c: Vec<_> = m.contacts().collect();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].uri.as_str(), "sip:jdrosen@example.com");
    assert_eq!(c[0].params.get("q"), Some("0.33"));
    let r = Uri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!((r.user, r.host), (Some("vivekg"), "chair-dnrc.example.com"));
    assert!(r.params.has("unknownparam"));
    let bytes = read(DIR4475, "noreason.dat");
    assert!(Message::parse(&bytes).unwrap().request_uri().is_none());
}

#[test]
fn lenient_field_details() {
    let bytes = read(DIR4475, "scalar02.dat");
    assert_eq!(Message::parse(&bytes).unwrap().cseq(), None);
    let bytes = read(DIR4475, "scalarlg.dat");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.cseq(), None);
    assert_eq!(m.method(), None);
    let bytes = read(DIR4475, "baddn.dat");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.from().unwrap().display_name, Some("Bell, Alexander"));
    let bytes = read(DIR4475, "mismatch01.dat");
    assert_eq!(Message::parse(&bytes).unwrap().cseq(), Some((8, "INVITE")));
    let bytes = read(DIR4475, "escruri.dat");
    let m = Message::parse(&bytes).unwrap();
    let StartLine::Request { uri, .. } = m.start_line() else {
        panic!()
    };
    assert_eq!(
        Uri::parse(uri).unwrap().headers,
        Some("Route=%3Csip:example.com%3E")
    );
    let bytes = read(DIR4475, "unkscm.dat");
    let m = Message::parse(&bytes).unwrap();
    let StartLine::Request { uri, .. } = m.start_line() else {
        panic!()
    };
    let u = Uri::parse(uri).unwrap();
    assert_eq!(
        (u.scheme, u.host, u.user),
        ("nobodyKnowsThisScheme", "", None)
    );
    let bytes = read(DIR4475, "multi01.dat");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.headers_named("i").count(), 2);
}

/// Every file, truncated at every offset, through parse, parse_lenient, parse_first and the framer:
/// nothing panics, and parse() of a strict prefix never succeeds with a Content-Length it does not have.
#[test]
fn truncations_never_panic() {
    let mut files: Vec<Vec<u8>> = Vec::new();
    for n in listing(DIR4475, ".dat") {
        files.push(read(DIR4475, &format!("{n}.dat")));
    }
    for n in listing(DIR5118, "") {
        files.push(read(DIR5118, &n));
    }
    for bytes in &files {
        for cut in 0..bytes.len() {
            let p = &bytes[..cut];
            if let Ok(m) = Message::parse(p) {
                if let Some(cl) = m.content_length() {
                    assert_eq!(m.body().len(), cl);
                }
                let _ = m.bodies();
                let _ = m.from();
                let _ = m.to();
                let _ = m.cseq();
            }
            let _ = Message::parse_lenient(p).map(|m| m.bodies().len());
            let _ = Message::parse_first(p);
            let mut fr = StreamFramer::new(4096);
            fr.push(p);
            while let Some(r) = fr.next_frame() {
                let _ = r.map(|b| b.len());
            }
        }
        let mut fr = StreamFramer::new(4096);
        for chunk in bytes.chunks(97) {
            fr.push(chunk);
            while let Some(r) = fr.next_frame() {
                let _ = r.map(|b| b.len());
            }
        }
    }
}
