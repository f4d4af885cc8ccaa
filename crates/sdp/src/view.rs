//! Typed, zero-copy views of the session and media sections, parsed on demand.

use core::ops::Range;

use crate::candidate::{Candidate, RemoteCandidates};
use crate::crypto::Crypto;
use crate::error::SdpError;
use crate::line::Line;

/// Splits `s` (which starts at byte `base` of the SDP) on spaces/tabs, yielding each
/// token with its absolute byte range.
pub(crate) fn tokens(s: &str, base: usize) -> Tokens<'_> {
    Tokens { s, pos: 0, base }
}

/// Iterator behind [`tokens`].
pub(crate) struct Tokens<'a> {
    s: &'a str,
    pos: usize,
    base: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (&'a str, Range<usize>);
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        while self.pos < b.len() && (b[self.pos] == b' ' || b[self.pos] == b'\t') {
            self.pos += 1;
        }
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < b.len() && b[self.pos] != b' ' && b[self.pos] != b'\t' {
            self.pos += 1;
        }
        Some((
            &self.s[start..self.pos],
            self.base + start..self.base + self.pos,
        ))
    }
}

/// Parses a decimal `u16` port strictly (digits only, leading zeros allowed): one pass over the digits.
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for c in s.bytes() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
        if n > u32::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(n).ok()
}

/// Media kind of an `m=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
    /// `m=application` (data sharing, file transfer, BFCP...).
    Application,
    /// Anything else (`image`, `text`, `message`, ...).
    Other,
}

impl MediaKind {
    /// Classifies an `m=` media token (case-insensitive).
    pub fn from_name(name: &str) -> Self {
        if name.eq_ignore_ascii_case("audio") {
            MediaKind::Audio
        } else if name.eq_ignore_ascii_case("video") {
            MediaKind::Video
        } else if name.eq_ignore_ascii_case("application") {
            MediaKind::Application
        } else {
            MediaKind::Other
        }
    }

    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Application => "application",
            MediaKind::Other => "other",
        }
    }
}

/// The parsed `m=<media> <port>[/<count>] <proto> <fmt>...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLine<'a> {
    /// Media token as written (`audio`, `video`, ...).
    pub media: &'a str,
    /// Classified media kind.
    pub kind: MediaKind,
    /// Port number.
    pub port: u16,
    /// Byte range of the port digits.
    pub port_range: Range<usize>,
    /// Number of ports (`/<count>`), if given.
    pub port_count: Option<u16>,
    /// Transport protocol (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...).
    pub proto: &'a str,
    /// The format list as written (space separated).
    pub formats: &'a str,
    /// Byte range of the format list (empty range after the proto when there are none).
    pub formats_range: Range<usize>,
}

impl<'a> MediaLine<'a> {
    /// Parses the value of an `m=` line that starts at byte `base`; `index` is the 0-based line.
    pub fn parse(value: &'a str, base: usize, index: usize) -> Result<Self, SdpError> {
        let bad = |reason| SdpError::BadMediaLine {
            line: index + 1,
            reason,
        };
        let mut t = tokens(value, base);
        let (media, _) = t.next().ok_or(bad("no media type"))?;
        let (port_tok, port_tok_range) = t.next().ok_or(bad("no port"))?;
        let (port_str, count) = match port_tok.split_once('/') {
            Some((p, c)) => (
                p,
                Some(parse_port(c).ok_or(bad("port count not a number"))?),
            ),
            None => (port_tok, None),
        };
        let port = parse_port(port_str).ok_or(bad("port not a number 0..65535"))?;
        let (proto, proto_range) = t.next().ok_or(bad("no protocol"))?;
        // The formats run from the first token after the protocol to the end of the last one.
        let fstart = proto_range.end;
        let vb = value.as_bytes();
        let is_blank = |c: &u8| *c == b' ' || *c == b'\t';
        let rel = fstart - base;
        let formats_range = match vb[rel..].iter().position(|c| !is_blank(c)) {
            Some(first) => {
                let end = vb
                    .iter()
                    .rposition(|c| !is_blank(c))
                    .map_or(rel + first + 1, |last| last + 1);
                base + rel + first..base + end
            }
            None => fstart..fstart,
        };
        let formats = &value[formats_range.start - base..formats_range.end - base];
        Ok(MediaLine {
            media,
            kind: MediaKind::from_name(media),
            port,
            port_range: port_tok_range.start..port_tok_range.start + port_str.len(),
            port_count: count,
            proto,
            formats,
            formats_range,
        })
    }

    /// The formats (payload types for RTP) one by one.
    pub fn format_list(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.formats.split_ascii_whitespace()
    }
}

/// An `a=` attribute: name and optional value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'s, 'a> {
    /// Attribute name (before `:`).
    pub name: &'a str,
    /// Value after `:` (`None` for flag attributes such as `a=rtcp-mux`).
    pub value: Option<&'a str>,
    /// Byte offset of the value in the SDP (line end when there is no value).
    pub value_start: usize,
    /// The line it came from.
    pub line: &'s Line<'a>,
}

fn attributes<'s, 'a>(lines: &'s [Line<'a>]) -> impl Iterator<Item = Attribute<'s, 'a>> + 's {
    lines
        .iter()
        .filter(|l| l.kind == Some('a'))
        .map(attribute_of)
}

/// The attribute view of an `a=` line (one scan for the `:`).
pub(crate) fn attribute_of<'s, 'a>(l: &'s Line<'a>) -> Attribute<'s, 'a> {
    match crate::line::colon(l.value) {
        Some(i) => Attribute {
            name: &l.value[..i],
            value: Some(&l.value[i + 1..]),
            value_start: l.value_start() + i + 1,
            line: l,
        },
        None => Attribute {
            name: l.value,
            value: None,
            value_start: l.range.end,
            line: l,
        },
    }
}

/// Whether `l` is an `a=<name>` or `a=<name>:...` line, checked without building the attribute view.
pub(crate) fn is_attribute(l: &Line<'_>, name: &str) -> bool {
    let v = l.value.as_bytes();
    l.kind == Some('a')
        && v.len() >= name.len()
        && &v[..name.len()] == name.as_bytes()
        && (v.len() == name.len() || v[name.len()] == b':')
}

/// The `a=<name>` lines of `lines`, as attribute views.
fn named<'s, 'a, 'n>(
    lines: &'s [Line<'a>],
    name: &'n str,
) -> impl Iterator<Item = Attribute<'s, 'a>> + 'n
where
    's: 'n,
{
    lines
        .iter()
        .filter(move |l| is_attribute(l, name))
        .map(attribute_of)
}

/// A `c=<nettype> <addrtype> <address>[/ttl[/n]]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// Network type (`IN`).
    pub nettype: &'a str,
    /// Address type (`IP4`, `IP6`).
    pub addrtype: &'a str,
    /// Byte range of the address type token.
    pub addrtype_range: Range<usize>,
    /// The address without any `/ttl` suffix.
    pub address: &'a str,
    /// Byte range of `address`.
    pub address_range: Range<usize>,
    /// 0-based line index.
    pub line: usize,
    /// True when this came from the session section (fallback for the media section).
    pub session_level: bool,
}

impl<'a> Connection<'a> {
    pub(crate) fn parse(l: &Line<'a>, session_level: bool) -> Result<Self, SdpError> {
        let bad = |r| SdpError::bad(l.index, "c=", r);
        let mut t = tokens(l.value, l.value_start());
        let (nettype, _) = t.next().ok_or(bad("no network type"))?;
        let (addrtype, addrtype_range) = t.next().ok_or(bad("no address type"))?;
        let (addr, r) = t.next().ok_or(bad("no address"))?;
        let a = addr.split('/').next().unwrap_or(addr);
        Ok(Connection {
            nettype,
            addrtype,
            addrtype_range,
            address: a,
            address_range: r.start..r.start + a.len(),
            line: l.index,
            session_level,
        })
    }
}

/// The `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// Username (`-` in Lync).
    pub username: &'a str,
    /// Session id.
    pub session_id: &'a str,
    /// Session version (Lync: `0` in the draft-6 part, `1` in the ICE part).
    pub session_version: &'a str,
    /// Network type.
    pub nettype: &'a str,
    /// Address type.
    pub addrtype: &'a str,
    /// Unicast address.
    pub address: &'a str,
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

fn direction_of(lines: &[Line<'_>]) -> Option<Direction> {
    lines.iter().rev().find_map(|l| match l.attr_name()? {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    })
}

/// Typed view of the session section (lines before the first `m=`).
#[derive(Debug, Clone, Copy)]
pub struct Session<'s, 'a> {
    lines: &'s [Line<'a>],
}

impl<'s, 'a> Session<'s, 'a> {
    pub(crate) fn new(lines: &'s [Line<'a>]) -> Self {
        Session { lines }
    }

    /// The lines of the session section.
    pub fn lines(&self) -> &'s [Line<'a>] {
        self.lines
    }

    /// The `o=` line, if present and well formed.
    pub fn origin(&self) -> Option<Origin<'a>> {
        let l = self.lines.iter().find(|l| l.kind == Some('o'))?;
        let mut t = l.value.split_ascii_whitespace();
        Some(Origin {
            username: t.next()?,
            session_id: t.next()?,
            session_version: t.next()?,
            nettype: t.next()?,
            addrtype: t.next()?,
            address: t.next()?,
        })
    }

    /// The session-level `c=` line.
    pub fn connection(&self) -> Option<Result<Connection<'a>, SdpError>> {
        let l = self.lines.iter().find(|l| l.kind == Some('c'))?;
        Some(Connection::parse(l, true))
    }

    /// Session-level attributes in order.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'s, 'a>> + 's {
        attributes(self.lines)
    }

    /// First session-level attribute with this name (case-sensitive).
    pub fn attribute(&self, name: &str) -> Option<Attribute<'s, 'a>> {
        named(self.lines, name).next()
    }

    /// Session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(self.lines)
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <addr>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp<'a> {
    /// RTCP port.
    pub port: u16,
    /// Byte range of the port.
    pub port_range: Range<usize>,
    /// Address type token, if an address is given.
    pub addrtype: Option<&'a str>,
    /// Address, if given.
    pub address: Option<&'a str>,
    /// Byte range of the address, if given.
    pub address_range: Option<Range<usize>>,
    /// 0-based line index.
    pub line: usize,
}

impl<'a> Rtcp<'a> {
    /// Parses the value of an `a=rtcp` attribute.
    pub(crate) fn parse(a: &Attribute<'_, 'a>) -> Result<Self, SdpError> {
        let idx = a.line.index;
        let bad = |r| SdpError::bad(idx, "a=rtcp", r);
        let mut t = tokens(a.value.unwrap_or(""), a.value_start);
        let mut parse = || {
            let (p, pr) = t.next().ok_or(bad("no port"))?;
            let port = parse_port(p).ok_or(bad("port not a number"))?;
            let mut rtcp = Rtcp {
                port,
                port_range: pr,
                addrtype: None,
                address: None,
                address_range: None,
                line: idx,
            };
            if t.next().is_some() {
                let (at, _) = t.next().ok_or(bad("no address type"))?;
                let (addr, ar) = t.next().ok_or(bad("no address"))?;
                rtcp.addrtype = Some(at);
                rtcp.address = Some(addr);
                rtcp.address_range = Some(ar);
            }
            Ok(rtcp)
        };
        parse()
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap<'a> {
    /// Payload type.
    pub pt: u8,
    /// Encoding name (`SILK`, `x-msrta`, `PCMU`...).
    pub encoding: &'a str,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count, if given.
    pub channels: Option<u16>,
    /// 0-based line index.
    pub line: usize,
}

/// `a=fmtp:<pt> <params>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp<'a> {
    /// Payload type (or format) the parameters apply to.
    pub format: &'a str,
    /// Parameters as text.
    pub params: &'a str,
    /// 0-based line index.
    pub line: usize,
}

/// `a=x-ssrc-range:<first>-<last>`: the sender's SSRCs for this stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsrcRange {
    /// First SSRC.
    pub first: u32,
    /// Last SSRC (inclusive).
    pub last: u32,
}

impl SsrcRange {
    /// True when `ssrc` lies in the range.
    pub fn contains(&self, ssrc: u32) -> bool {
        self.first <= ssrc && ssrc <= self.last
    }
}

/// Typed view of one media section (its `m=` line and the lines up to the next `m=`).
#[derive(Debug, Clone, Copy)]
pub struct MediaSection<'s, 'a> {
    index: usize,
    lines: &'s [Line<'a>],
    session: &'s [Line<'a>],
    media_line: &'s MediaLine<'a>,
}

impl<'s, 'a> MediaSection<'s, 'a> {
    pub(crate) fn new(
        index: usize,
        lines: &'s [Line<'a>],
        session: &'s [Line<'a>],
        media_line: &'s MediaLine<'a>,
    ) -> Self {
        MediaSection {
            index,
            lines,
            session,
            media_line,
        }
    }

    /// 0-based index of the media section.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Lines of this section, the `m=` line first.
    pub fn lines(&self) -> &'s [Line<'a>] {
        self.lines
    }

    /// The parsed `m=` line (validated by [`crate::Sdp::parse`]).
    pub fn media_line(&self) -> MediaLine<'a> {
        self.media_line.clone()
    }

    /// The parsed `m=` line, borrowed.
    pub(crate) fn media_line_ref(&self) -> &'s MediaLine<'a> {
        self.media_line
    }

    /// Media kind.
    pub fn kind(&self) -> MediaKind {
        self.media_line().kind
    }

    /// `m=` port.
    pub fn port(&self) -> u16 {
        self.media_line().port
    }

    /// Transport protocol of the `m=` line.
    pub fn proto(&self) -> &'a str {
        self.media_line().proto
    }

    /// Media-level `c=` if present, else the session-level one.
    pub fn connection(&self) -> Option<Result<Connection<'a>, SdpError>> {
        if let Some(l) = self.lines.iter().find(|l| l.kind == Some('c')) {
            return Some(Connection::parse(l, false));
        }
        Session::new(self.session).connection()
    }

    /// Media-level attributes in order.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'s, 'a>> + 's {
        attributes(self.lines)
    }

    /// First media-level attribute with this name (case-sensitive).
    pub fn attribute(&self, name: &str) -> Option<Attribute<'s, 'a>> {
        named(self.lines, name).next()
    }

    /// All media-level attributes with this name.
    pub fn attributes_named<'n>(
        &self,
        name: &'n str,
    ) -> impl Iterator<Item = Attribute<'s, 'a>> + 'n
    where
        's: 'n,
    {
        named(self.lines, name)
    }

    /// `a=rtcp:`, if present.
    pub fn rtcp(&self) -> Option<Result<Rtcp<'a>, SdpError>> {
        self.attribute("rtcp").map(|a| Rtcp::parse(&a))
    }

    /// True when `a=rtcp-mux` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.attribute("rtcp-mux").is_some()
    }

    /// `a=rtpmap:` lines; malformed ones are returned as errors.
    pub fn rtpmaps(&self) -> impl Iterator<Item = Result<Rtpmap<'a>, SdpError>> + 's {
        self.attributes_named("rtpmap").map(|a| {
            let idx = a.line.index;
            let bad = |r| SdpError::bad(idx, "a=rtpmap", r);
            let v = a.value.unwrap_or("");
            let (pt, rest) = v.split_once(' ').ok_or(bad("no encoding"))?;
            let pt: u8 = pt.parse().map_err(|_| bad("payload type not 0..255"))?;
            let mut parts = rest.trim().split('/');
            let encoding = parts
                .next()
                .filter(|e| !e.is_empty())
                .ok_or(bad("no encoding"))?;
            let clock_rate = parts
                .next()
                .and_then(|c| c.parse().ok())
                .ok_or(bad("clock rate missing or not a number"))?;
            let channels = match parts.next() {
                Some(c) => Some(c.parse().map_err(|_| bad("channels not a number"))?),
                None => None,
            };
            Ok(Rtpmap {
                pt,
                encoding,
                clock_rate,
                channels,
                line: idx,
            })
        })
    }

    /// `a=fmtp:` lines.
    pub fn fmtps(&self) -> impl Iterator<Item = Fmtp<'a>> + 's {
        self.attributes_named("fmtp").map(|a| {
            let v = a.value.unwrap_or("");
            let (format, params) = v.split_once(' ').unwrap_or((v, ""));
            Fmtp {
                format,
                params,
                line: a.line.index,
            }
        })
    }

    /// `a=label:` value.
    pub fn label(&self) -> Option<&'a str> {
        self.attribute("label").and_then(|a| a.value)
    }

    /// `a=x-ssrc-range:<first>-<last>`.
    pub fn ssrc_range(&self) -> Option<Result<SsrcRange, SdpError>> {
        let a = self.attribute("x-ssrc-range")?;
        let idx = a.line.index;
        let v = a.value.unwrap_or("").trim();
        let r = (|| {
            let (f, l) = v.split_once('-')?;
            let first = f.trim().parse().ok()?;
            let last = l.trim().parse().ok()?;
            (first <= last).then_some(SsrcRange { first, last })
        })();
        Some(r.ok_or(SdpError::bad(
            idx,
            "a=x-ssrc-range",
            "expected <first>-<last> SSRCs",
        )))
    }

    /// `a=ice-ufrag:` (trimmed).
    pub fn ice_ufrag(&self) -> Option<&'a str> {
        self.attribute("ice-ufrag")
            .and_then(|a| a.value)
            .map(str::trim)
    }

    /// `a=ice-pwd:` (trimmed).
    pub fn ice_pwd(&self) -> Option<&'a str> {
        self.attribute("ice-pwd")
            .and_then(|a| a.value)
            .map(str::trim)
    }

    /// Direction: media-level attribute, else session-level, else sendrecv.
    pub fn direction(&self) -> Direction {
        direction_of(self.lines)
            .or_else(|| direction_of(self.session))
            .unwrap_or(Direction::SendRecv)
    }

    /// `a=encryption:` value (`required`, `optional`, `rejected`).
    pub fn encryption(&self) -> Option<&'a str> {
        self.attribute("encryption")
            .and_then(|a| a.value)
            .map(str::trim)
    }

    /// `a=crypto:` and `a=cryptoscale:` lines in order; malformed ones as errors.
    pub fn cryptos(&self) -> impl Iterator<Item = Result<Crypto<'a>, SdpError>> + 's {
        self.attributes()
            .filter(|a| a.name == "crypto" || a.name == "cryptoscale")
            .map(|a| Crypto::parse(a.value.unwrap_or(""), a.name == "cryptoscale", a.line.index))
    }

    /// Candidates from `a=candidate:` and `a=x-candidate-ipv6:`, both ICE formats; an
    /// unparsable line yields an error naming it.
    pub fn candidates(&self) -> impl Iterator<Item = Result<Candidate<'a>, SdpError>> + 's {
        self.lines
            .iter()
            .filter(|l| is_attribute(l, "candidate") || is_attribute(l, "x-candidate-ipv6"))
            .map(attribute_of)
            .map(|a| {
                Candidate::parse(
                    a.value.unwrap_or(""),
                    a.value_start,
                    a.line.index,
                    a.name == "x-candidate-ipv6",
                )
            })
    }

    /// `a=remote-candidates:` (ICE) and draft `a=remote-candidate:` lines.
    pub fn remote_candidates(&self) -> impl Iterator<Item = RemoteCandidates<'a>> + 's {
        self.attributes().filter_map(|a| match a.name {
            "remote-candidates" => Some(RemoteCandidates::Ice {
                value: a.value.unwrap_or(""),
                line: a.line.index,
            }),
            "remote-candidate" => Some(RemoteCandidates::Draft {
                username: a.value.unwrap_or("").trim(),
                line: a.line.index,
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_port, tokens};
    use proptest::prelude::*;

    proptest! {
        /// The one-pass port parser accepts exactly the digit strings the standard parser accepts as `u16`.
        #[test]
        fn parse_port_matches_the_standard_parser(s in "[0-9+ a-]{0,8}") {
            let std = if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<u16>().ok()
            } else {
                None
            };
            prop_assert_eq!(parse_port(&s), std);
        }

        /// Tokens are the space/tab separated words, with their byte ranges.
        #[test]
        fn tokens_match_a_split(s in "[a \t=]{0,30}", base in 0usize..100) {
            let want: Vec<&str> = s.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            let got: Vec<_> = tokens(&s, base).collect();
            prop_assert_eq!(got.iter().map(|(t, _)| *t).collect::<Vec<_>>(), want);
            for (t, r) in got {
                prop_assert_eq!(&s[r.start - base..r.end - base], t);
            }
        }
    }

    #[test]
    fn long_ports_with_leading_zeros() {
        assert_eq!(parse_port("0000000000065535"), Some(65535));
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_port("99999999999999999999"), None);
        assert_eq!(parse_port(""), None);
    }
}
