#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! The Lync/SfB examples in ../shared/domain/examples. Expected values are read from the files by eye.

use rec_sip::trace_log::{Direction, Reader};
use rec_sip::{Message, Params, StartLine, Uri};

fn example(name: &str) -> Vec<u8> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/domain/examples/"
    );
    std::fs::read(format!("{p}{name}")).unwrap()
}

const BOUNDARY: &str = "----=_NextPart_000_01A7_01D3C2B5.4F1E6A90";

#[test]
fn example_a_multipart_invite() {
    let bytes = example("example_a_lync2013_invite_multipart.sip");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    match m.start_line() {
        StartLine::Request {
            method,
            uri,
            version,
        } => {
            assert_eq!(
                (method, uri, version),
                ("INVITE", "sip:bob@fabrikam.example", "SIP/2.0")
            );
        }
        other => panic!("not a request: {other:?}"),
    }
    assert_eq!(m.call_id(), Some("ec744625192387425829ce4e58df7eb2"));
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some("Alice Example"));
    assert_eq!(from.uri.user, Some("alice"));
    assert_eq!(from.uri.host, "contoso.example");
    assert_eq!(from.tag(), Some("237045a190"));
    assert_eq!(from.epid(), Some("fe77ac423f"));
    let to = m.to().unwrap();
    assert_eq!(to.uri.to_string(), "sip:bob@fabrikam.example");
    assert_eq!(to.tag(), None);
    let pai: Vec<_> = m.p_asserted_identities().collect();
    assert_eq!(pai.len(), 1);
    assert_eq!(pai[0].uri.as_str(), "sip:alice@contoso.example");
    assert_eq!(m.cseq(), Some((1, "INVITE")));
    assert_eq!(
        m.header("ms-conversation-id").unwrap().raw_value,
        "AYNbEUjmF+c4bU8voolC1Eghxn9W"
    );
    // Contact: <sip:alice@contoso.example;opaque=user:epid:UnaHu_tE_ZizoAzYgf5BkQ;gruu>
    let contact = rec_sip::NameAddr::parse(m.header("m").unwrap().raw_value).unwrap();
    assert_eq!(contact.uri.gruu_epid(), Some("UnaHu_tE_ZizoAzYgf5BkQ"));
    assert!(contact.uri.params.has("gruu"));
    // Record-Route URI parameters.
    let rr = rec_sip::NameAddr::parse(m.header("record-route").unwrap().raw_value).unwrap();
    assert_eq!(rr.uri.host, "fe01.contoso.example");
    assert_eq!(rr.uri.port, Some(5061));
    assert_eq!(rr.uri.params.get("transport"), Some("tls"));
    assert_eq!(rr.uri.params.get("opaque"), Some("state:T:F:Ci.Rbae175"));
    assert!(rr.uri.params.has("lr"));
    // Nine Supported lines, ten Allow methods, two Via headers, 28 header lines in total.
    assert_eq!(m.header_values("supported").count(), 9);
    assert!(m.header_values("k").any(|v| v == "ms-early-media"));
    assert_eq!(m.header_values("allow").count(), 10);
    assert_eq!(m.header_values("via").count(), 2);
    assert_eq!(m.headers().count(), 28);
    assert_eq!(m.content_length(), Some(4206));
    assert_eq!(m.body().len(), 4206);
    let ct = m.content_type().unwrap();
    assert!(ct.is("Multipart", "Alternative"));
    assert_eq!(ct.boundary(), Some(BOUNDARY));

    let parts = m.bodies();
    assert_eq!(parts.len(), 2);
    let disp = [
        "session; handling=optional; ms-proxy-2007fallback",
        "session; handling=optional",
    ];
    let origin = ["o=- 0 0 IN IP4", "o=- 0 1 IN IP4"];
    let content_id = [
        "<5c307d0d372fdad6e55fea9f9d3633ea@contoso.example>",
        "<1920488042f19db58e3beb5f4c9d0dc6@contoso.example>",
    ];
    let delimiter = format!("\r\n--{BOUNDARY}");
    for (i, p) in parts.iter().enumerate() {
        assert!(p.content_type.unwrap().is_sdp());
        assert!(p.is_sdp() && !p.is_pidf());
        assert_eq!(p.content_disposition, Some(disp[i]));
        assert_eq!(&bytes[p.body_range.clone()], p.body);
        assert!(p.body.starts_with(b"v=0\r\n"));
        assert!(p.body.ends_with(b"a=ptime:20\r\n"));
        assert!(p.body.windows(14).any(|w| w == origin[i].as_bytes()));
        // The part ends exactly where the CRLF before the boundary delimiter begins.
        assert!(bytes[p.body_range.end..].starts_with(delimiter.as_bytes()));
        assert_eq!(p.header("content-id").unwrap().raw_value, content_id[i]);
        let h = p.header("Content-Disposition").unwrap();
        assert_eq!(&bytes[h.value_range.clone()], disp[i].as_bytes());
    }
}

#[test]
fn example_b_answer() {
    let bytes = example("example_b_200ok_answer.sip");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.status_code(), Some(200));
    assert!(matches!(
        m.start_line(),
        StartLine::Response { reason: "OK", .. }
    ));
    assert_eq!(m.method(), Some("INVITE"));
    let to = m.to().unwrap();
    assert_eq!(to.tag(), Some("9e1241812c"));
    assert_eq!(to.epid(), Some("1eb09a209a"));
    assert_eq!(m.from().unwrap().tag(), Some("237045a190"));
    assert_eq!(m.content_length(), Some(2166));
    let parts = m.bodies();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].body_range, m.body_range());
    assert!(parts[0].content_type.unwrap().is_sdp());
    let contact = rec_sip::NameAddr::parse(m.header("contact").unwrap().raw_value).unwrap();
    assert_eq!(contact.uri.gruu_epid(), Some("gFJlrBvdih5jH0NTkGWhag"));
}

#[test]
fn example_c_single_part_invite() {
    let bytes = example("example_c_sfb_single_part_invite.sip");
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.call_id(), Some("65be62e10c7c0361772122e4ad4c072c"));
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some("Carol Example"));
    assert_eq!(
        (from.tag(), from.epid()),
        (Some("48a8dcbb0e"), Some("7bd77dbb9d"))
    );
    assert_eq!(
        m.header("MS-CONVERSATION-ID").unwrap().raw_value,
        "AREawEu/GpWHdAMLFtpzWbBIp1/f"
    );
    let contact = rec_sip::NameAddr::parse(m.header("contact").unwrap().raw_value).unwrap();
    assert_eq!(contact.uri.gruu_epid(), Some("uWa6YmT4FPLg2xCbzZX80w"));
    let hi = rec_sip::NameAddr::parse(m.header("History-Info").unwrap().raw_value).unwrap();
    assert_eq!(hi.params.get("index"), Some("1"));
    assert_eq!(m.content_length(), Some(2267));
    let parts = m.bodies();
    assert_eq!(parts.len(), 1);
    assert!(parts[0].body.starts_with(b"v=0\r\n"));
    assert!(parts[0].body.ends_with(b"abs-send-time\r\n"));
}

#[test]
fn example_d_trace_log() {
    let text = example("example_d_sfb_trace_log.txt");
    let recs: Vec<_> = Reader::new(&text).map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 2);

    let r = &recs[0];
    // `date -u -d "2017-02-15 11:02:54" +%s` = 1487156574
    assert_eq!(r.time.unix_micros(), 1_487_156_574_101_000);
    assert_eq!(r.direction, Direction::Incoming);
    assert_eq!(r.peer, Some("edge01.contoso.example:5061"));
    assert_eq!(r.correlation_id, Some("3480436050"));
    assert!(text[r.record_range.clone()].starts_with(b"TL_INFO(TF_PROTOCOL)"));
    assert!(text[r.record_range.clone()].ends_with(b"$$end_record\n"));
    let m = Message::parse(&r.message).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    let StartLine::Request { uri, .. } = m.start_line() else {
        panic!("request expected")
    };
    let ruri = Uri::parse(uri).unwrap();
    assert_eq!(ruri.user, Some("+447912345678"));
    assert_eq!(ruri.params.get("user"), Some("phone"));
    assert_eq!(m.call_id(), Some("a02b9849-77d7-4a4b-9bdc-a6fba42dc931"));
    assert_eq!(m.cseq(), Some((1, "INVITE")));
    let from = m.from().unwrap();
    assert_eq!(
        (from.tag(), from.epid()),
        (Some("6d1e79e1f"), Some("E269DC3178"))
    );
    let pai: Vec<_> = m.p_asserted_identities().collect();
    assert_eq!(pai.len(), 1);
    assert!(pai[0].uri.is_tel());
    assert_eq!(pai[0].uri.user, Some("+442081234567"));
    assert_eq!(m.header("privacy").unwrap().raw_value, "id");
    assert_eq!(m.header("ms-target-class").unwrap().raw_value, "secondary");
    // The log's CONTENT-LENGTH (722) counts CRLF line ends: 701 bytes of LF text + 21 lines.
    assert_eq!(m.content_length(), Some(722));
    assert_eq!(m.body().len(), 722);
    assert!(m
        .body()
        .starts_with(b"v=0\r\no=- 0 1 IN IP4 192.0.2.10\r\n"));
    assert!(m.body().ends_with(b"a=ptime:20\r\n"));
    assert!(!m.body().windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
    assert!(m.content_type().unwrap().is_sdp());

    let r = &recs[1];
    assert_eq!(r.time.unix_micros(), 1_487_156_575_214_000);
    assert_eq!(r.peer, None);
    let m = Message::parse(&r.message).unwrap();
    assert_eq!(m.status_code(), Some(503));
    assert_eq!(m.method(), Some("INVITE"));
    assert_eq!(m.body().len(), 0);
    assert_eq!(m.content_length(), Some(0));
    let from = m.from().unwrap();
    assert_eq!(from.uri.host, "02081234567");
    assert_eq!(from.uri.params.get("user"), Some("phone"));
    assert_eq!(m.to().unwrap().tag(), Some("e2e12d5ba2"));
    // One VIA line carrying two comma-separated values.
    assert_eq!(m.header_values("v").count(), 2);
    let diag = m.header("ms-diagnostics").unwrap();
    let p = Params::new(diag.raw_value);
    assert!(p.has("10014"));
    assert_eq!(p.get("component"), Some("MediationServer"));
    assert_eq!(
        p.get("reason"),
        Some("An internal exception received while processing the incoming request")
    );
    let public = Params::new(m.header("ms-diagnostics-public").unwrap().raw_value);
    assert_eq!(public.get("component"), Some("MediationServer"));
}

#[test]
fn debug_output_never_shows_body_bytes() {
    // The SDP carries "inline:<key>"; no Debug output may show it.
    let a = example("example_a_lync2013_invite_multipart.sip");
    let m = Message::parse(&a).unwrap();
    let shown = format!("{m:?} {:?}", m.bodies());
    assert!(!shown.contains("inline:"), "{shown}");
    assert!(shown.contains("body_range"));
    let mut fr = rec_sip::StreamFramer::default();
    fr.push(&a[..3000]);
    assert!(fr.next_frame().is_none());
    assert!(!format!("{fr:?}").contains("inline:"));
    let log = example("example_d_sfb_trace_log.txt");
    let rec = Reader::new(&log).next().unwrap().unwrap();
    assert!(!format!("{rec:?}").contains("inline:"));
    // Errors never quote the body either.
    let err = Message::parse(&a[..a.len() - 1]).unwrap_err().to_string();
    assert_eq!(err, "Content-Length 4206 but body has 4205 bytes");
}

#[test]
fn trace_log_with_crlf_lines_gives_the_same_messages() {
    let text = example("example_d_sfb_trace_log.txt");
    let mut crlf = Vec::new();
    for &b in &text {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    let a: Vec<_> = Reader::new(&text).map(|r| r.unwrap().message).collect();
    let b: Vec<_> = Reader::new(&crlf).map(|r| r.unwrap().message).collect();
    assert!(a == b);
    // A record without its end marker is reported, and reading stops there.
    let cut = &text[..text.len() - 20];
    let recs: Vec<_> = Reader::new(cut).collect();
    assert_eq!(recs.len(), 2);
    assert!(recs[0].is_ok());
    assert!(matches!(
        recs[1],
        Err(rec_sip::trace_log::TraceError::Unterminated { .. })
    ));
}

#[test]
fn e911_multipart_mixed_with_pidf() {
    // Shape from LYNC.md "SIP bodies": multipart/mixed with SDP plus application/pidf+xml.
    let msg = "INVITE sip:911@contoso.example;user=phone SIP/2.0\r\n\
Priority: emergency\r\n\
Geolocation: <cid:loc1@contoso.example>\r\n\
Content-Type: multipart/mixed; boundary=\"b=1\"\r\n\
Content-Length: 148\r\n\
\r\n\
--b=1\r\n\
Content-Type: application/sdp\r\n\
\r\n\
v=0\r\n\
--b=1\r\n\
Content-Type: Application/PIDF+XML\r\n\
Content-ID: <loc1@contoso.example>\r\n\
\r\n\
<presence/>\r\n\
--b=1--\r\n";
    // 148 = 7+31+2+5+7+36+36+2+13+9 by hand, checked with a plain substring search below.
    let start = msg.find("\r\n\r\n").unwrap() + 4;
    assert_eq!(msg.len() - start, 148);
    let m = Message::parse(msg.as_bytes()).unwrap();
    let parts = m.bodies();
    assert_eq!(parts.len(), 2);
    assert!(parts[0].is_sdp());
    assert_eq!(parts[0].body, b"v=0");
    assert!(parts[1].is_pidf());
    assert_eq!(parts[1].body, b"<presence/>");
    assert_eq!(
        parts[1].header("content-id").unwrap().raw_value,
        "<loc1@contoso.example>"
    );
    assert_eq!(m.header_values("priority").next(), Some("emergency"));
}
