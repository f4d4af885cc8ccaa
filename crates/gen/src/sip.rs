//! SIP messages and SDP bodies in the style of Lync 2013 / Skype for Business clients
//! (see `../shared/domain/examples/`): CRLF line ends, exact Content-Length, multipart/alternative
//! offers with a draft-6 part and an ICE-19 part, `a=cryptoscale`/`a=crypto` with MKI.

use std::fmt::Write as _;
use std::net::SocketAddrV4;

use crate::codec::{Codec, DTMF_PT};
use crate::plan::{CallPlan, Party, SdesKey, Topology, FRONT_END};

/// Audio codecs a Lync client offers besides the chosen one: (PT, rtpmap, fmtp).
const LYNC_CODECS: &[(u8, &str, Option<&str>)] = &[
    (117, "G722/8000/2", None),
    (114, "x-msrta/16000", Some("bitrate=29000")),
    (104, "SILK/16000", Some("useinbandfec=1; usedtx=0")),
    (9, "G722/8000", None),
    (112, "G7221/16000", Some("bitrate=24000")),
    (111, "SIREN/16000", Some("bitrate=16000")),
    (0, "PCMU/8000", None),
    (8, "PCMA/8000", None),
    (116, "AAL2-G726-32/8000", None),
    (115, "x-msrta/8000", Some("bitrate=11800")),
    (103, "SILK/8000", Some("useinbandfec=1; usedtx=0")),
    (97, "RED/8000", None),
    (13, "CN/8000", None),
    (118, "CN/16000", None),
];

/// Media direction attribute of an SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaDirection {
    /// No attribute (sendrecv).
    SendRecv,
    /// `a=inactive` (hold).
    Inactive,
}

/// What an ICE-19 SDP body says beyond the party's static data.
#[derive(Debug, Clone)]
pub struct SdpParams<'a> {
    /// `o=` session version.
    pub version: u32,
    /// The party's current key.
    pub key: &'a SdesKey,
    /// Offer (Lync offers `a=cryptoscale:1`, `a=crypto:2`, `a=crypto:3`) or answer (`a=crypto:2`).
    pub offer: bool,
    /// The party's current SSRC (`a=x-ssrc-range`).
    pub ssrc: u32,
    /// `a=remote-candidates` (RTP, RTCP) after ICE completed.
    pub remote: Option<(SocketAddrV4, SocketAddrV4)>,
    /// Direction attribute.
    pub direction: MediaDirection,
}

fn codec_lines(codec: Codec, out: &mut String, m_line_fmts: &mut String) {
    let chosen = codec.payload_type();
    let mut list: Vec<(u8, String, Option<&str>)> = vec![(chosen, rtpmap_value(codec), None)];
    if codec == Codec::XMsrta {
        list[0].2 = Some("bitrate=29000");
    }
    for (pt, map, fmtp) in LYNC_CODECS {
        if *pt != chosen {
            list.push((*pt, (*map).to_string(), *fmtp));
        }
    }
    let clock = if codec == Codec::Opus { 48000 } else { 8000 };
    list.push((DTMF_PT, format!("telephone-event/{clock}"), Some("0-16")));
    for (pt, _, _) in &list {
        let _ = write!(m_line_fmts, " {pt}");
    }
    for (pt, map, fmtp) in &list {
        let _ = write!(out, "a=rtpmap:{pt} {map}\r\n");
        if let Some(f) = fmtp {
            let _ = write!(out, "a=fmtp:{pt} {f}\r\n");
        }
    }
}

fn rtpmap_value(codec: Codec) -> String {
    let full = codec.rtpmap();
    full.split_once(' ')
        .map(|(_, v)| v.to_string())
        .unwrap_or(full)
}

fn crypto_lines(out: &mut String, key: &SdesKey, offer: bool) {
    const S: &str = "AES_CM_128_HMAC_SHA1_80";
    if offer {
        let _ = write!(out, "a=cryptoscale:1 client {S} {}\r\n", key.inline(true));
        let _ = write!(out, "a=crypto:2 {S} {}\r\n", key.inline(true));
        let _ = write!(out, "a=crypto:3 {S} inline:{}|2^31\r\n", key.base64());
    } else {
        let _ = write!(out, "a=crypto:2 {S} {}\r\n", key.inline(true));
    }
}

/// The ICE-19 (MS-ICE2) SDP of a Lync party.
pub fn sdp_ice19(p: &Party, codec: Codec, s: &SdpParams<'_>, remote_default_relay: bool) -> String {
    // Internal clients put the host candidate in m=/c=, remote clients their UDP relay.
    let (default, default_rtcp) = match (remote_default_relay, p.relay, p.relay_rtcp) {
        (true, Some(r), Some(rc)) => (r, rc),
        _ => (p.host, SocketAddrV4::new(*p.host.ip(), p.host.port() + 1)),
    };
    let mut fmts = String::new();
    let mut maps = String::new();
    codec_lines(codec, &mut maps, &mut fmts);
    let mut o = String::with_capacity(2400);
    let _ = write!(
        o,
        "v=0\r\no=- 0 {} IN IP4 {}\r\ns=session\r\nc=IN IP4 {}\r\nb=CT:99980\r\nt=0 0\r\n",
        s.version,
        default.ip(),
        default.ip()
    );
    o.push_str("a=x-devicecaps:audio:send,recv;video:send,recv\r\n");
    let _ = write!(o, "m=audio {} RTP/SAVP{fmts}\r\n", default.port());
    let _ = write!(o, "a=x-ssrc-range:{}-{}\r\n", s.ssrc, s.ssrc);
    o.push_str("a=rtcp-fb:* x-message app send:dsh recv:dsh\r\na=rtcp-rsize\r\na=label:main-audio\r\na=x-source:main-audio\r\n");
    let _ = write!(
        o,
        "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\n",
        p.ice_ufrag, p.ice_pwd
    );
    let h = p.host;
    let _ = write!(
        o,
        "a=candidate:1 1 UDP 2130706431 {} {} typ host \r\n",
        h.ip(),
        h.port()
    );
    let _ = write!(
        o,
        "a=candidate:1 2 UDP 2130705918 {} {} typ host \r\n",
        h.ip(),
        h.port() + 1
    );
    // The base of relay/srflx candidates: the NAT address for a remote party, the TURN socket otherwise.
    let base = p.srflx.or(p.turn_base).unwrap_or(h);
    if let Some(t) = p.relay_tcp {
        for (c, prio) in [(1, 174456319u32), (2, 174455806)] {
            let _ = write!(
                o,
                "a=candidate:2 {c} TCP-PASS {prio} {} {} typ relay raddr {} rport {} \r\n",
                t.ip(),
                t.port(),
                base.ip(),
                base.port() + 10
            );
        }
    }
    if let (Some(r), Some(rc)) = (p.relay, p.relay_rtcp) {
        let _ = write!(
            o,
            "a=candidate:3 1 UDP 184548351 {} {} typ relay raddr {} rport {} \r\n",
            r.ip(),
            r.port(),
            base.ip(),
            base.port()
        );
        let _ = write!(
            o,
            "a=candidate:3 2 UDP 184547838 {} {} typ relay raddr {} rport {} \r\n",
            rc.ip(),
            rc.port(),
            base.ip(),
            base.port() + 1
        );
    }
    if let Some(sr) = p.srflx {
        let _ = write!(
            o,
            "a=candidate:4 1 UDP 1694234623 {} {} typ srflx raddr {} rport {} \r\n",
            sr.ip(),
            sr.port(),
            h.ip(),
            h.port()
        );
        let _ = write!(
            o,
            "a=candidate:4 2 UDP 1694234110 {} {} typ srflx raddr {} rport {} \r\n",
            sr.ip(),
            sr.port() + 1,
            h.ip(),
            h.port() + 1
        );
    }
    if let Some(t) = p.relay_tcp {
        for (c, prio) in [(1, 174848511u32), (2, 174847998)] {
            let _ = write!(
                o,
                "a=candidate:5 {c} TCP-ACT {prio} {} {} typ relay raddr {} rport {} \r\n",
                t.ip(),
                t.port(),
                base.ip(),
                base.port() + 10
            );
        }
    }
    if let Some((r1, r2)) = s.remote {
        let _ = write!(
            o,
            "a=remote-candidates:1 {} {} 2 {} {}\r\n",
            r1.ip(),
            r1.port(),
            r2.ip(),
            r2.port()
        );
    }
    crypto_lines(&mut o, s.key, s.offer);
    o.push_str("a=maxptime:200\r\n");
    let _ = write!(o, "a=rtcp:{}\r\n", default_rtcp.port());
    o.push_str(&maps);
    if s.direction == MediaDirection::Inactive {
        o.push_str("a=inactive\r\n");
    }
    o.push_str("a=ptime:20\r\n");
    o
}

/// The draft-6 fallback SDP part of a Lync offer (`o=- 0 0`, per-candidate credentials, no type).
pub fn sdp_draft6(p: &Party, codec: Codec, key: &SdesKey, rng_user: &[String; 4]) -> String {
    let h = p.host;
    let mut fmts = String::new();
    let mut maps = String::new();
    codec_lines(codec, &mut maps, &mut fmts);
    let mut o = String::with_capacity(2200);
    let _ = write!(
        o,
        "v=0\r\no=- 0 0 IN IP4 {}\r\ns=session\r\nc=IN IP4 {}\r\nb=CT:99980\r\nt=0 0\r\n",
        h.ip(),
        h.ip()
    );
    let _ = write!(o, "m=audio {} RTP/SAVP{fmts}\r\n", h.port() - 22);
    let _ = write!(
        o,
        "a=candidate:{} 1 {} UDP 0.830 {} {} \r\n",
        rng_user[0],
        rng_user[1],
        h.ip(),
        h.port() - 22
    );
    let _ = write!(
        o,
        "a=candidate:{} 2 {} UDP 0.830 {} {} \r\n",
        rng_user[0],
        rng_user[1],
        h.ip(),
        h.port() - 21
    );
    if let Some(r) = p.draft6_relay {
        let _ = write!(
            o,
            "a=candidate:{} 1 {} UDP 0.410 {} {} \r\n",
            rng_user[2],
            rng_user[3],
            r.ip(),
            r.port()
        );
        let _ = write!(
            o,
            "a=candidate:{} 2 {} UDP 0.410 {} {} \r\n",
            rng_user[2],
            rng_user[3],
            r.ip(),
            r.port() + 1
        );
    }
    crypto_lines(&mut o, key, true);
    o.push_str("a=maxptime:200\r\n");
    let _ = write!(o, "a=rtcp:{}\r\n", h.port() - 21);
    o.push_str(&maps);
    o.push_str("a=ptime:20\r\n");
    o
}

/// A plain (non-Lync) SDP: one codec + telephone-event, `a=crypto:1` without MKI, no ICE.
pub fn sdp_plain(
    p: &Party,
    codec: Codec,
    key: &SdesKey,
    version: u32,
    direction: MediaDirection,
) -> String {
    let h = p.host;
    let clock = if codec == Codec::Opus { 48000 } else { 8000 };
    let mut o = String::with_capacity(400);
    let _ = write!(
        o,
        "v=0\r\no=- 4242 {version} IN IP4 {}\r\ns=-\r\nc=IN IP4 {}\r\nt=0 0\r\n",
        h.ip(),
        h.ip()
    );
    let _ = write!(
        o,
        "m=audio {} RTP/SAVP {} {DTMF_PT}\r\n",
        h.port(),
        codec.payload_type()
    );
    let _ = write!(o, "a=rtpmap:{}\r\n", codec.rtpmap());
    let _ = write!(
        o,
        "a=rtpmap:{DTMF_PT} telephone-event/{clock}\r\na=fmtp:{DTMF_PT} 0-16\r\n"
    );
    let _ = write!(
        o,
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 {}\r\n",
        key.inline(false)
    );
    o.push_str("a=ptime:20\r\n");
    o.push_str(if direction == MediaDirection::Inactive {
        "a=inactive\r\n"
    } else {
        "a=sendrecv\r\n"
    });
    o
}

/// A SIP body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    None,
    /// One `application/sdp`.
    Sdp(String),
    /// `multipart/alternative` with a draft-6 part and an ICE-19 part; the strings are the boundary
    /// and the two Content-IDs' local parts.
    Alternative {
        /// The boundary.
        boundary: String,
        /// Draft-6 part.
        draft6: String,
        /// ICE-19 part.
        ice19: String,
        /// Content-ID local parts of the two parts.
        ids: [String; 2],
    },
}

fn render(start: &str, headers: &[(&str, String)], body: &Body) -> Vec<u8> {
    let (ctype, content) = match body {
        Body::None => (None, String::new()),
        Body::Sdp(s) => (Some("application/sdp".to_string()), s.clone()),
        Body::Alternative {
            boundary,
            draft6,
            ice19,
            ids,
        } => {
            let mut b = String::with_capacity(draft6.len() + ice19.len() + 600);
            let _ = write!(b, "--{boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\nContent-ID: <{}@contoso.example>\r\nContent-Disposition: session; handling=optional; ms-proxy-2007fallback\r\n\r\n{draft6}\r\n", ids[0]);
            let _ = write!(b, "--{boundary}\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\nContent-ID: <{}@contoso.example>\r\nContent-Disposition: session; handling=optional\r\n\r\n{ice19}\r\n", ids[1]);
            let _ = write!(b, "--{boundary}--\r\n");
            (
                Some(format!("multipart/alternative;boundary=\"{boundary}\"")),
                b,
            )
        }
    };
    let mut m = String::with_capacity(content.len() + 1200);
    m.push_str(start);
    m.push_str("\r\n");
    for (n, v) in headers {
        let _ = write!(m, "{n}: {v}\r\n");
    }
    if let Some(ct) = ctype {
        let _ = write!(m, "Content-Type: {ct}\r\n");
    }
    let _ = write!(m, "Content-Length: {}\r\n\r\n", content.len());
    m.push_str(&content);
    m.into_bytes()
}

/// Transport token for Via headers.
pub(crate) fn via_transport(tcp: bool) -> &'static str {
    if tcp {
        "TCP"
    } else {
        "UDP"
    }
}

fn name_addr(p: &Party) -> String {
    format!("\"{}\"<{}>", p.display, p.uri)
}

fn from_hdr(plan: &CallPlan) -> String {
    if plan.topology == Topology::Plain {
        format!("{};tag={}", name_addr(&plan.caller), plan.caller.tag)
    } else {
        format!(
            "{};tag={};epid={}",
            name_addr(&plan.caller),
            plan.caller.tag,
            plan.caller.epid
        )
    }
}

fn to_hdr(plan: &CallPlan, with_tag: bool) -> String {
    let lync = plan.topology != Topology::Plain;
    match (with_tag, lync) {
        (false, _) => format!("<{}>", plan.callee.uri),
        (true, true) => format!(
            "<{}>;epid={};tag={}",
            plan.callee.uri, plan.callee.epid, plan.callee.tag
        ),
        (true, false) => format!("<{}>;tag={}", plan.callee.uri, plan.callee.tag),
    }
}

fn user_agent(plan: &CallPlan) -> String {
    if plan.topology == Topology::Plain {
        "Generic-SIP-Phone/1.0".to_string()
    } else {
        "UCCAPI/16.0.4600.1000 OC/16.0.4600.1000 (Skype for Business)".to_string()
    }
}

fn record_route() -> String {
    format!("<sip:fe01.contoso.example:{};transport=tls;opaque=state:T:F:Ci.R1a2b00;lr;ms-route-sig=synthetic>", FRONT_END.port())
}

/// An INVITE or re-INVITE from the caller to the Front End.
pub fn invite(
    plan: &CallPlan,
    tcp: bool,
    cseq: u32,
    branch: &str,
    body: &Body,
    initial: bool,
) -> Vec<u8> {
    let c = &plan.caller;
    let mut h: Vec<(&str, String)> = vec![
        (
            "Via",
            format!(
                "SIP/2.0/{} {};branch=z9hG4bK{branch}",
                via_transport(tcp),
                c.sip
            ),
        ),
        ("Max-Forwards", "70".into()),
        ("From", from_hdr(plan)),
        ("To", to_hdr(plan, !initial)),
        ("Call-ID", plan.call_id.clone()),
        ("CSeq", format!("{cseq} INVITE")),
    ];
    if !initial {
        h.push(("Route", record_route()));
    }
    if plan.topology == Topology::Plain {
        h.push(("Contact", format!("<sip:alice.{}@{}>", plan.index, c.sip)));
        h.push(("User-Agent", user_agent(plan)));
        h.push(("P-Asserted-Identity", name_addr(c)));
        h.push(("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS".into()));
        return render(&format!("INVITE {} SIP/2.0", plan.callee.uri), &h, body);
    }
    h.push((
        "Contact",
        format!("<{};opaque=user:epid:{};gruu>", c.uri, c.gruu),
    ));
    h.push(("User-Agent", user_agent(plan)));
    h.push(("Supported", "ms-dialog-route-set-update".into()));
    if initial {
        h.push(("Ms-Conversation-ID", plan.conversation_id.clone()));
    }
    h.push(("P-Asserted-Identity", name_addr(c)));
    for s in [
        "timer",
        "histinfo",
        "ms-safe-transfer",
        "ms-sender",
        "ms-early-media",
        "100rel",
    ] {
        h.push(("Supported", s.into()));
    }
    h.push(("ms-keep-alive", "UAC;hop-hop=yes".into()));
    h.push((
        "Allow",
        "INVITE, BYE, ACK, CANCEL, INFO, UPDATE, REFER, NOTIFY, BENOTIFY, OPTIONS".into(),
    ));
    h.push(("ms-subnet", "10.0.0.0".into()));
    h.push(("Accept-Language", "en-US".into()));
    h.push((
        "ms-endpoint-location-data",
        "NetworkScope;ms-media-location-type=Intranet".into(),
    ));
    h.push(("Supported", "replaces".into()));
    h.push(("Supported", "ms-conf-invite".into()));
    render(&format!("INVITE {} SIP/2.0", plan.callee.uri), &h, body)
}

/// A response from the Front End to the caller (to an INVITE or a BYE).
#[allow(clippy::too_many_arguments)]
pub fn response(
    plan: &CallPlan,
    tcp: bool,
    code: u16,
    reason: &str,
    cseq: u32,
    method: &str,
    branch: &str,
    body: &Body,
) -> Vec<u8> {
    let c = &plan.caller;
    let b = &plan.callee;
    let mut h: Vec<(&str, String)> = vec![(
        "Via",
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{branch};ms-received-port={};ms-received-cid=1A2B00",
            via_transport(tcp),
            c.sip,
            c.sip.port()
        ),
    )];
    h.push(("From", from_hdr(plan)));
    h.push(("To", to_hdr(plan, code != 100)));
    h.push(("Call-ID", plan.call_id.clone()));
    h.push(("CSeq", format!("{cseq} {method}")));
    if code != 100 && method == "INVITE" {
        h.push(("Record-Route", record_route()));
        if plan.topology == Topology::Plain {
            h.push(("Contact", format!("<sip:bob.{}@{}>", plan.index, b.sip)));
        } else {
            h.push((
                "Contact",
                format!("<{};opaque=user:epid:{};gruu>", b.uri, b.gruu),
            ));
        }
        h.push(("User-Agent", user_agent(plan)));
        h.push(("P-Asserted-Identity", name_addr(b)));
        if plan.topology != Topology::Plain {
            for s in ["histinfo", "ms-safe-transfer", "ms-dialog-route-set-update"] {
                h.push(("Supported", s.into()));
            }
            h.push((
                "Allow",
                "INVITE, BYE, ACK, CANCEL, INFO, UPDATE, REFER, NOTIFY, BENOTIFY, OPTIONS".into(),
            ));
            let loc = if plan.topology.relayed() {
                "Internet"
            } else {
                "Intranet"
            };
            h.push((
                "ms-endpoint-location-data",
                format!("NetworkScope;ms-media-location-type={loc}"),
            ));
            if code == 183 {
                h.push(("Require", "100rel".into()));
                h.push(("RSeq", "1".into()));
            }
        }
    }
    render(&format!("SIP/2.0 {code} {reason}"), &h, body)
}

/// An in-dialog request without body from the caller (ACK or BYE).
pub fn in_dialog(plan: &CallPlan, tcp: bool, method: &str, cseq: u32, branch: &str) -> Vec<u8> {
    let c = &plan.caller;
    let h: Vec<(&str, String)> = vec![
        (
            "Via",
            format!(
                "SIP/2.0/{} {};branch=z9hG4bK{branch}",
                via_transport(tcp),
                c.sip
            ),
        ),
        ("Max-Forwards", "70".into()),
        ("From", from_hdr(plan)),
        ("To", to_hdr(plan, true)),
        ("Call-ID", plan.call_id.clone()),
        ("CSeq", format!("{cseq} {method}")),
        ("Route", record_route()),
        ("User-Agent", user_agent(plan)),
    ];
    render(
        &format!("{method} {} SIP/2.0", plan.callee.uri),
        &h,
        &Body::None,
    )
}
