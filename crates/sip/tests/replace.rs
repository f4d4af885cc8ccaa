#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! replace_bodies: byte-exact edits. Expected outputs are spliced by hand from offsets found with
//! plain substring searches (not with the parser under test).

use rec_sip::{replace_bodies, Message, ParseError};

fn example(name: &str) -> Vec<u8> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/domain/examples/"
    );
    std::fs::read(format!("{p}{name}")).unwrap()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> usize {
    from + hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

fn splice(orig: &[u8], edits: &[(usize, usize, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0;
    for (s, e, new) in edits {
        out.extend_from_slice(&orig[pos..*s]);
        out.extend_from_slice(new);
        pos = *e;
    }
    out.extend_from_slice(&orig[pos..]);
    out
}

/// Offsets of the two SDP part bodies in example a: from "v=0" to the CRLF before the delimiter.
fn part_ranges(a: &[u8]) -> [(usize, usize); 2] {
    let delim = b"\r\n------=_NextPart_000_01A7_01D3C2B5.4F1E6A90";
    let s1 = find(a, b"\r\n\r\nv=0", 0) + 4;
    let e1 = find(a, delim, s1);
    let s2 = find(a, b"\r\n\r\nv=0", e1) + 4;
    let e2 = find(a, delim, s2);
    [(s1, e1), (s2, e2)]
}

#[test]
fn longer_and_shorter_parts() {
    let a = example("example_a_lync2013_invite_multipart.sip");
    let m = Message::parse(&a).unwrap();
    let parts = m.bodies();
    let [(s1, e1), (s2, e2)] = part_ranges(&a);
    assert_eq!(parts[0].body_range, s1..e1);
    assert_eq!(parts[1].body_range, s2..e2);
    let cl_at = find(&a, b"Content-Length: 4206\r\n", 0) + 16;

    // Part 1 grows by 12 bytes.
    let mut longer = a[s1..e1].to_vec();
    longer.extend_from_slice(b"a=x-test:1\r\n");
    let out = replace_bodies(&a, &[(s1..e1, &longer)]).unwrap();
    let want = splice(&a, &[(cl_at, cl_at + 4, b"4218"), (s1, e1, &longer)]);
    assert_eq!(out, want);
    Message::parse(&out).unwrap();

    // Part 2 shrinks to "v=0\r\n".
    let out = replace_bodies(&a, &[(s2..e2, b"v=0\r\n")]).unwrap();
    let new_len = (4206 - (e2 - s2) + 5).to_string();
    let want = splice(
        &a,
        &[(cl_at, cl_at + 4, new_len.as_bytes()), (s2, e2, b"v=0\r\n")],
    );
    assert_eq!(out, want);
    let m2 = Message::parse(&out).unwrap();
    assert_eq!(m2.bodies()[1].body, b"v=0\r\n");
    // Boundaries, preamble and epilogue untouched: everything after part 2 is identical.
    assert_eq!(&out[out.len() - (a.len() - e2)..], &a[e2..]);

    // Both parts, given in reverse order.
    let out = replace_bodies(&a, &[(s2..e2, b"X"), (s1..e1, b"YY")]).unwrap();
    let new_len = (4206 - (e1 - s1) - (e2 - s2) + 3).to_string();
    let want = splice(
        &a,
        &[
            (cl_at, cl_at + 4, new_len.as_bytes()),
            (s1, e1, b"YY"),
            (s2, e2, b"X"),
        ],
    );
    assert_eq!(out, want);
}

#[test]
fn same_bytes_give_identical_output() {
    let a = example("example_a_lync2013_invite_multipart.sip");
    let [(s1, e1), (s2, e2)] = part_ranges(&a);
    let out = replace_bodies(&a, &[(s1..e1, &a[s1..e1]), (s2..e2, &a[s2..e2])]).unwrap();
    assert_eq!(out, a);
    let out = replace_bodies(&a, &[]).unwrap();
    assert_eq!(out, a);
}

#[test]
fn compact_content_length_keeps_its_spelling() {
    let b = example("example_b_200ok_answer.sip");
    let s = String::from_utf8(b).unwrap();
    let b = s
        .replacen("Content-Length: 2166", "l:   2166", 1)
        .into_bytes();
    let m = Message::parse(&b).unwrap();
    let body = m.body_range();
    let out = replace_bodies(&b, &[(body.clone(), b"v=0\r\n")]).unwrap();
    let at = find(&b, b"l:   2166", 0) + 5;
    let want = splice(
        &b,
        &[(at, at + 4, b"5"), (body.start, body.end, b"v=0\r\n")],
    );
    assert_eq!(out, want);
    assert!(out.windows(9).any(|w| w == b"\r\nl:   5\r"));
}

#[test]
fn content_length_inside_a_part_is_updated() {
    let msg = b"MESSAGE sip:a@example.com SIP/2.0\r\n\
Content-Type: multipart/mixed; boundary=XyZ\r\n\
content-length :  0111\r\n\
\r\n\
preamble\r\n\
--XyZ\r\n\
Content-Type: text/plain\r\n\
Content-Length: 5\r\n\
\r\n\
hello\r\n\
--XyZ\r\n\
\r\n\
no headers\r\n\
--XyZ--\r\n\
epilogue\r\n";
    // Body length by hand: 10+7+26+19+2+7+7+2+12+9+10 = 111 (checked against the slice after the empty line).
    let body_start = find(msg, b"\r\n\r\n", 0) + 4;
    assert_eq!(msg.len() - body_start, 111);
    let m = Message::parse(msg).unwrap();
    let parts = m.bodies();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].body, b"hello");
    assert_eq!(parts[1].body, b"no headers");
    assert_eq!(parts[1].content_type, None);
    let h = find(msg, b"hello", 0);
    let out = replace_bodies(msg, &[(h..h + 5, b"hello world")]).unwrap();
    let cl_top = find(msg, b"0111", 0);
    let cl_part = find(msg, b"Length: 5", 0) + 8;
    let want = splice(
        msg,
        &[
            (cl_top, cl_top + 4, b"117"),
            (cl_part, cl_part + 1, b"11"),
            (h, h + 5, b"hello world"),
        ],
    );
    assert_eq!(out, want);
}

#[test]
fn bad_ranges_are_rejected() {
    let a = example("example_a_lync2013_invite_multipart.sip");
    let [(s1, e1), _] = part_ranges(&a);
    assert_eq!(
        replace_bodies(&a, &[(s1 + 1..e1, b"x")]),
        Err(ParseError::BadReplacement {
            start: s1 + 1,
            end: e1
        })
    );
    assert!(replace_bodies(&a, &[(s1..e1, b"x"), (s1..e1, b"y")]).is_err());
    assert!(replace_bodies(b"not sip", &[]).is_err());
}
