//! The relay-forcing rewrite: make every recorded stream's media cross the Edge server.
//!
//! For each media section that is to be recorded (audio always, video when configured) and
//! that offers relay candidates, the port of every non-relay candidate becomes
//! [`RelayPolicy::invalid_port`]; when one of those was the default candidate (`m=` port and
//! `c=` address, `a=rtcp:` port) the default moves to the relay candidate of the same
//! component (UDP preferred, TCP when there is no UDP relay). The result is a list of
//! byte-range [`Edit`]s: every other byte stays identical.
//!
//! `c=` handling when the default moves: a media-level `c=` has its address rewritten; a
//! session-level `c=` is rewritten in place when no other media section relies on it,
//! otherwise a media-level `c=` line is inserted right after the `m=` line (after `i=` if
//! present) so the other sections keep their address.
//!
//! A default (`m=` or `a=rtcp:` port) that already equals the invalid port is not moved: that
//! is what a rewritten candidate looks like, and moving it would make the rewrite of a
//! rewritten SDP differ from nothing (the rewrite is idempotent).

use core::fmt;
use core::ops::Range;
use std::net::IpAddr;

use crate::candidate::Candidate;
use crate::error::SdpError;
use crate::line::{Line, LineEnding, Sdp};
use crate::view::{
    attribute_of, is_attribute, tokens, Connection, MediaKind, MediaLine, MediaSection, Rtcp,
};

/// What the rewrite should do.
#[derive(Debug, Clone, Copy)]
pub struct RelayPolicy<'p> {
    /// Public A/V addresses of the Edge servers: a draft-6 candidate (no type field) is a
    /// relay candidate exactly when its address is one of these. Empty = draft-6 sections
    /// never count as having relay candidates.
    pub edge_addresses: &'p [&'p str],
    /// The port non-relay candidates are moved to (a port nothing listens on, e.g. 1).
    pub invalid_port: u16,
    /// Whether video streams are recorded (audio always is).
    pub video: bool,
    /// Encoding names (`x-msrta`, `SILK`, ...) to remove from recorded sections; empty = off.
    pub drop_codecs: &'p [&'p str],
}

/// Replace `range` of the original SDP with `replacement` (empty range = insertion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Byte range in the original SDP.
    pub range: Range<usize>,
    /// New text.
    pub replacement: String,
}

/// Why a media section was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Neither audio nor video (application sharing, file transfer, ...).
    NotAudioVideo,
    /// Video, but the policy does not record video.
    VideoNotConfigured,
    /// The section offers no relay candidate, so forcing relay would break the call.
    NoRelayCandidates,
    /// Only draft-6 candidates (which carry no type) and no Edge addresses configured to recognise relays.
    Draft6NeedsEdgeAddresses,
    /// The stream is disabled (`m=` port 0).
    PortZero,
}

impl SkipReason {
    /// Short text for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NotAudioVideo => "not audio/video",
            SkipReason::VideoNotConfigured => "video not configured",
            SkipReason::NoRelayCandidates => "no relay candidates",
            SkipReason::Draft6NeedsEdgeAddresses => {
                "no relay candidates recognised: draft-6 candidates carry no type, so the Edge A/V \
                 addresses must be configured (edge_addresses)"
            }
            SkipReason::PortZero => "port 0 (disabled)",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One candidate whose port was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateChange {
    /// 0-based line index in the SDP.
    pub line: usize,
    /// Component (1 RTP, 2 RTCP).
    pub component: u32,
    /// Transport as written.
    pub transport: String,
    /// Candidate address (unchanged).
    pub address: String,
    /// Port before.
    pub old_port: u16,
    /// Port after (the invalid port).
    pub new_port: u16,
}

/// How the `c=` address of a moved default was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionChange {
    /// The address already matched (or there is no `c=`): nothing changed.
    Unchanged,
    /// The section's own `c=` line was rewritten.
    MediaLevel,
    /// The session-level `c=` was rewritten (no other section relies on it).
    SessionLevel,
    /// A media-level `c=` line was inserted (other sections still use the session one).
    Inserted,
}

/// The default candidate moved from a rewritten candidate to a relay candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultMove {
    /// `m=` port `(old, new)`, when the RTP default moved.
    pub rtp_port: Option<(u16, u16)>,
    /// `c=` address `(old, new)`, when it changed.
    pub address: Option<(String, String)>,
    /// How the `c=` line was changed.
    pub connection: ConnectionChange,
    /// `a=rtcp:` port `(old, new)`, when the RTCP default moved.
    pub rtcp_port: Option<(u16, u16)>,
}

/// What the rewrite did to one media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionReport {
    /// 0-based media section index.
    pub index: usize,
    /// Media kind.
    pub kind: MediaKind,
    /// Candidates whose port changed.
    pub changed: Vec<CandidateChange>,
    /// The default candidate move, if any.
    pub default_moved: Option<DefaultMove>,
    /// Why candidates were left alone, if they were.
    pub skipped: Option<SkipReason>,
    /// Removed formats as `"<pt> <encoding>"`.
    pub dropped_codecs: Vec<String>,
}

impl fmt::Display for SectionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "section {} ({})", self.index, self.kind.as_str())?;
        let mut sep = ": ";
        if let Some(s) = self.skipped {
            write!(f, "{sep}skipped: {s}")?;
            sep = "; ";
        }
        if !self.changed.is_empty() {
            write!(
                f,
                "{sep}{} candidate port(s) -> invalid",
                self.changed.len()
            )?;
            if let Some(c) = self.changed.first() {
                write!(f, " {}", c.new_port)?;
            }
            sep = "; ";
        }
        if let Some(d) = &self.default_moved {
            write!(f, "{sep}default moved")?;
            if let Some((o, n)) = d.rtp_port {
                write!(f, " m= {o}->{n}")?;
            }
            if let Some((o, n)) = &d.address {
                write!(f, " c= {o}->{n}")?;
            }
            if let Some((o, n)) = d.rtcp_port {
                write!(f, " rtcp {o}->{n}")?;
            }
            sep = "; ";
        }
        if !self.dropped_codecs.is_empty() {
            write!(f, "{sep}dropped codecs {}", self.dropped_codecs.join(", "))?;
            sep = "; ";
        }
        if sep == ": " {
            write!(f, ": unchanged")?;
        }
        Ok(())
    }
}

/// The outcome of [`force_relay`]: edits (sorted, non-overlapping) and a per-section report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayRewrite {
    /// Edits against the original SDP bytes, sorted by position, non-overlapping.
    pub edits: Vec<Edit>,
    /// One report per media section, in order.
    pub report: Vec<SectionReport>,
}

impl RelayRewrite {
    /// Applies the edits to `sdp` (the same bytes given to [`force_relay`]). Edits that do not
    /// fit the input are ignored rather than panicking.
    pub fn apply(&self, sdp: &[u8]) -> Vec<u8> {
        let extra: usize = self.edits.iter().map(|e| e.replacement.len()).sum();
        let mut out = Vec::with_capacity(sdp.len() + extra);
        let mut pos = 0usize;
        for e in &self.edits {
            if e.range.start < pos || e.range.end < e.range.start || e.range.end > sdp.len() {
                continue;
            }
            out.extend_from_slice(&sdp[pos..e.range.start]);
            out.extend_from_slice(e.replacement.as_bytes());
            pos = e.range.end;
        }
        out.extend_from_slice(&sdp[pos..]);
        out
    }

    /// True when there is nothing to change.
    pub fn is_unchanged(&self) -> bool {
        self.edits.is_empty()
    }
}

/// The outcome of [`force_relay_append`]: whether the SDP changed, and the per-section report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayApplied {
    /// True when the rewritten SDP was appended (the same as `!`[`RelayRewrite::is_unchanged`]).
    pub changed: bool,
    /// One report per media section, in order (the same as [`RelayRewrite::report`]).
    pub report: Vec<SectionReport>,
}

/// Replacement text of an edit, kept borrowed (or as a number) until it is written: the rewriter's hot path
/// then allocates no string per edit.
#[derive(Debug)]
enum Text<'a> {
    Port(u16),
    Str(&'a str),
    Owned(String),
}

impl Text<'_> {
    fn into_string(self) -> String {
        match self {
            Text::Port(p) => p.to_string(),
            Text::Str(s) => s.to_owned(),
            Text::Owned(s) => s,
        }
    }

    fn len(&self) -> usize {
        match self {
            Text::Port(p) => decimal_len(*p),
            Text::Str(s) => s.len(),
            Text::Owned(s) => s.len(),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Text::Port(p) => push_decimal(out, *p),
            Text::Str(s) => out.extend_from_slice(s.as_bytes()),
            Text::Owned(s) => out.extend_from_slice(s.as_bytes()),
        }
    }
}

fn decimal_len(n: u16) -> usize {
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    }
}

/// Appends `n` in decimal, as `n.to_string()` would spell it.
fn push_decimal(out: &mut Vec<u8>, n: u16) {
    let len = decimal_len(n);
    let mut digits = [0u8; 5];
    let mut v = n;
    for d in digits[..len].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&digits[..len]);
}

/// An edit before its text is made a `String` (see [`Edit`]).
#[derive(Debug)]
struct RawEdit<'a> {
    range: Range<usize>,
    text: Text<'a>,
}

fn edit<'a>(range: Range<usize>, text: Text<'a>) -> RawEdit<'a> {
    RawEdit { range, text }
}

/// Writes `sdp` with `edits` applied to `out`; edits that do not fit are ignored, as in [`RelayRewrite::apply`].
fn apply_raw(sdp: &[u8], edits: &[RawEdit<'_>], out: &mut Vec<u8>) {
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    out.reserve(sdp.len() + extra);
    let mut pos = 0usize;
    for e in edits {
        if e.range.start < pos || e.range.end < e.range.start || e.range.end > sdp.len() {
            continue;
        }
        out.extend_from_slice(&sdp[pos..e.range.start]);
        e.text.write(out);
        pos = e.range.end;
    }
    out.extend_from_slice(&sdp[pos..]);
}

/// Compares two addresses: as IP addresses when both parse, else case-insensitively.
fn same_addr(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    // Dotted quads: the standard parser accepts only the canonical form (no leading zeros), so two different
    // digit-and-dot strings never name the same IPv4 address. Saves two parses on the common path.
    let dotted = |s: &str| s.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    if dotted(a) && dotted(b) {
        return false;
    }
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

fn is_relay(c: &Candidate<'_>, policy: &RelayPolicy<'_>) -> bool {
    match c.kind {
        crate::CandidateKind::Ice { .. } => c.is_ice_relay(),
        crate::CandidateKind::Draft6 { .. } => policy
            .edge_addresses
            .iter()
            .any(|e| same_addr(e.trim(), c.address)),
    }
}

/// Picks the relay candidate for `component`: same group as `like` first, then UDP, then TCP.
fn pick_relay<'c, 'a>(
    cands: &'c [(bool, Candidate<'a>)],
    component: u32,
    like: Option<&Candidate<'a>>,
) -> Option<&'c Candidate<'a>> {
    let of_comp = || {
        cands
            .iter()
            .filter(move |(relay, c)| *relay && c.component == component)
            .map(|(_, c)| c)
    };
    if let Some(l) = like {
        if let Some(c) = of_comp().find(|c| c.group() == l.group() && c.transport == l.transport) {
            return Some(c);
        }
    }
    of_comp()
        .find(|c| c.is_udp())
        .or_else(|| of_comp().find(|c| c.is_tcp()))
        .or_else(|| of_comp().next())
}

/// Computes the relay-forcing rewrite of one SDP body (see the module docs). Fails only when
/// the SDP itself does not parse.
pub fn force_relay(sdp: &[u8], policy: &RelayPolicy<'_>) -> Result<RelayRewrite, SdpError> {
    let (edits, report) = relay_edits(sdp, policy)?;
    Ok(RelayRewrite {
        edits: edits
            .into_iter()
            .map(|e| Edit {
                range: e.range,
                replacement: e.text.into_string(),
            })
            .collect(),
        report,
    })
}

/// [`force_relay`] then [`RelayRewrite::apply`] in one step, without building the edits' strings: when the SDP
/// changes, appends the rewritten SDP to `out` (the same bytes `apply` returns); otherwise appends nothing.
/// The report is the same as [`force_relay`]'s.
pub fn force_relay_append(
    sdp: &[u8],
    policy: &RelayPolicy<'_>,
    out: &mut Vec<u8>,
) -> Result<RelayApplied, SdpError> {
    let (edits, report) = relay_edits(sdp, policy)?;
    let changed = !edits.is_empty();
    if changed {
        apply_raw(sdp, &edits, out);
    }
    Ok(RelayApplied { changed, report })
}

/// The rewrite of [`force_relay`], with edit texts not yet made strings.
fn relay_edits<'a>(
    sdp: &'a [u8],
    policy: &RelayPolicy<'_>,
) -> Result<(Vec<RawEdit<'a>>, Vec<SectionReport>), SdpError> {
    let parsed = Sdp::parse(sdp)?;
    let session_c = parsed.session().connection().and_then(Result::ok);
    let session_c_users = parsed
        .media()
        .filter(|m| !m.lines().iter().any(|l| l.kind == Some('c')))
        .count();
    let sections = parsed.media_count();
    // A few port edits per recorded section: sized once instead of growing.
    let mut edits = Vec::with_capacity(8 * sections.max(1));
    let mut report = Vec::with_capacity(sections);
    for m in parsed.media() {
        let ml = m.media_line_ref();
        let mut rep = SectionReport {
            index: m.index(),
            kind: ml.kind,
            changed: Vec::new(),
            default_moved: None,
            skipped: None,
            dropped_codecs: Vec::new(),
        };
        let recorded = match ml.kind {
            MediaKind::Audio => true,
            MediaKind::Video => policy.video,
            _ => false,
        };
        if !recorded {
            rep.skipped = Some(if ml.kind == MediaKind::Video {
                SkipReason::VideoNotConfigured
            } else {
                SkipReason::NotAudioVideo
            });
            report.push(rep);
            continue;
        }
        if ml.port == 0 {
            rep.skipped = Some(SkipReason::PortZero);
            report.push(rep);
            continue;
        }
        if !policy.drop_codecs.is_empty() {
            drop_codecs(&m, ml, policy, &mut edits, &mut rep);
        }
        rewrite_candidates(
            &parsed,
            &m,
            ml,
            policy,
            session_c.as_ref(),
            session_c_users,
            &mut edits,
            &mut rep,
        );
        report.push(rep);
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    Ok((edits, report))
}

/// What one pass over a media section's lines finds for the candidate rewrite.
struct SectionScan<'s, 'a> {
    /// Parsed candidates (unparsable ones left out), each with whether it is a relay candidate.
    cands: Vec<(bool, Candidate<'a>)>,
    /// The section's first `c=` line.
    connection: Option<&'s Line<'a>>,
    /// The section's first `a=rtcp` line.
    rtcp: Option<&'s Line<'a>>,
    /// Whether `a=rtcp-mux` is present.
    rtcp_mux: bool,
}

impl<'s, 'a> SectionScan<'s, 'a> {
    fn of(m: &MediaSection<'s, 'a>, policy: &RelayPolicy<'_>) -> Self {
        let mut scan = SectionScan {
            cands: Vec::new(),
            connection: None,
            rtcp: None,
            rtcp_mux: false,
        };
        for l in m.lines() {
            match l.kind {
                Some('c') => {
                    scan.connection.get_or_insert(l);
                }
                Some('a') => {
                    let v = l.value.as_bytes();
                    if v.starts_with(b"candidate") || v.starts_with(b"x-candidate-ipv6") {
                        let ipv6 = is_attribute(l, "x-candidate-ipv6");
                        if ipv6 || is_attribute(l, "candidate") {
                            // The attribute value: after the name's `:` (the name holds no colon), or
                            // empty at the line end when there is none.
                            let name = if ipv6 { 16 } else { 9 };
                            let (value, start) = match l.value.get(name + 1..) {
                                Some(value) => (value, l.value_start() + name + 1),
                                None => ("", l.range.end),
                            };
                            if let Ok(c) = Candidate::parse(value, start, l.index, ipv6) {
                                scan.cands.push((is_relay(&c, policy), c));
                            }
                        }
                    } else if v.starts_with(b"rtcp") {
                        if scan.rtcp.is_none() && is_attribute(l, "rtcp") {
                            scan.rtcp = Some(l);
                        } else if is_attribute(l, "rtcp-mux") {
                            scan.rtcp_mux = true;
                        }
                    }
                }
                _ => {}
            }
        }
        scan
    }
}

#[allow(clippy::too_many_arguments)]
fn rewrite_candidates<'a>(
    parsed: &Sdp<'a>,
    m: &MediaSection<'_, 'a>,
    ml: &MediaLine<'a>,
    policy: &RelayPolicy<'_>,
    session_c: Option<&Connection<'a>>,
    session_c_users: usize,
    edits: &mut Vec<RawEdit<'a>>,
    rep: &mut SectionReport,
) {
    let scan = SectionScan::of(m, policy);
    let cands = &scan.cands;
    if !cands.iter().any(|(relay, _)| *relay) {
        let draft6_only = !cands.is_empty()
            && cands
                .iter()
                .all(|(_, c)| matches!(c.kind, crate::CandidateKind::Draft6 { .. }));
        rep.skipped = Some(if draft6_only && policy.edge_addresses.is_empty() {
            SkipReason::Draft6NeedsEdgeAddresses
        } else {
            SkipReason::NoRelayCandidates
        });
        return;
    }
    let others = || cands.iter().filter(|(relay, _)| !*relay).map(|(_, c)| c);
    let relays = || cands.iter().filter(|(relay, _)| *relay).map(|(_, c)| c);
    rep.changed.reserve(others().count());
    for c in others() {
        if c.port != policy.invalid_port {
            edits.push(edit(c.port_range.clone(), Text::Port(policy.invalid_port)));
            rep.changed.push(CandidateChange {
                line: c.line,
                component: c.component,
                transport: c.transport.to_string(),
                address: c.address.to_string(),
                old_port: c.port,
                new_port: policy.invalid_port,
            });
        }
    }

    // Default candidate: the section's own `c=` (when it parses), else the session's.
    let conn = match scan.connection {
        Some(l) => Connection::parse(l, false).ok(),
        None => session_c.cloned(),
    };
    let conn_addr = conn.as_ref().map(|c| c.address);
    let addr_matches =
        |c: &Candidate<'_>, addr: Option<&str>| addr.is_none_or(|a| same_addr(a, c.address));
    let is_relay_endpoint = |port: u16, addr: Option<&str>, comp: u32| {
        relays().any(|r| r.component == comp && r.port == port && addr_matches(r, addr))
    };
    let mut mv = DefaultMove {
        rtp_port: None,
        address: None,
        connection: ConnectionChange::Unchanged,
        rtcp_port: None,
    };
    let mut rtp_relay = None;
    // A default already at the invalid port is left alone: after our own rewrite a non-relay
    // candidate sits there, and treating it as the default would break idempotence.
    let rtp_on_other = ml.port != policy.invalid_port
        && others().any(|c| c.component == 1 && c.port == ml.port && addr_matches(c, conn_addr))
        && !is_relay_endpoint(ml.port, conn_addr, 1);
    if rtp_on_other {
        if let Some(r) = pick_relay(cands, 1, None) {
            rtp_relay = Some(r);
            if r.port != ml.port {
                edits.push(edit(ml.port_range.clone(), Text::Port(r.port)));
                mv.rtp_port = Some((ml.port, r.port));
            }
            if let Some(c) = &conn {
                if !same_addr(c.address, r.address) {
                    mv.address = Some((c.address.to_string(), r.address.to_string()));
                    mv.connection = if !c.session_level {
                        edit_connection(c, r.address, edits);
                        ConnectionChange::MediaLevel
                    } else if session_c_users <= 1 && session_c.is_some() {
                        edit_connection(c, r.address, edits);
                        ConnectionChange::SessionLevel
                    } else {
                        insert_connection(parsed, m, c, r.address, edits);
                        ConnectionChange::Inserted
                    };
                }
            }
        }
    }

    if let Some(Ok(rtcp)) = scan.rtcp.map(|l| Rtcp::parse(&attribute_of(l))) {
        let rtcp_addr = rtcp.address.or(conn_addr);
        let on_other = rtcp.port != policy.invalid_port
            && others().any(|c| {
                (c.component == 2 || (c.component == 1 && rtcp.port == ml.port))
                    && c.port == rtcp.port
                    && addr_matches(c, rtcp_addr)
            })
            && !is_relay_endpoint(rtcp.port, rtcp_addr, 2);
        if on_other {
            let r2 = pick_relay(cands, 2, rtp_relay).or_else(|| {
                if scan.rtcp_mux || rtcp.port == ml.port {
                    rtp_relay.or_else(|| pick_relay(cands, 1, None))
                } else {
                    None
                }
            });
            if let Some(r) = r2 {
                if r.port != rtcp.port {
                    edits.push(edit(rtcp.port_range.clone(), Text::Port(r.port)));
                    mv.rtcp_port = Some((rtcp.port, r.port));
                }
                if let (Some(a), Some(ar)) = (rtcp.address, rtcp.address_range.clone()) {
                    if !same_addr(a, r.address) {
                        edits.push(edit(ar, Text::Str(r.address)));
                        if mv.address.is_none() {
                            mv.address = Some((a.to_string(), r.address.to_string()));
                        }
                    }
                }
            }
        }
    }
    if mv.rtp_port.is_some() || mv.address.is_some() || mv.rtcp_port.is_some() {
        rep.default_moved = Some(mv);
    }
}

fn addrtype_of(addr: &str) -> &'static str {
    if addr.contains(':') {
        "IP6"
    } else {
        "IP4"
    }
}

/// Rewrites the address of a `c=` line (and its address type when the family changes).
fn edit_connection<'a>(c: &Connection<'_>, new: &'a str, edits: &mut Vec<RawEdit<'a>>) {
    let at = addrtype_of(new);
    if c.addrtype.eq_ignore_ascii_case(at) {
        edits.push(edit(c.address_range.clone(), Text::Str(new)));
    } else {
        edits.push(edit(
            c.addrtype_range.start..c.address_range.end,
            Text::Owned(format!("{at} {new}")),
        ));
    }
}

/// Inserts `c=<nettype> <addrtype> <new>` after the `m=` line (and `i=` if it follows).
fn insert_connection(
    parsed: &Sdp<'_>,
    m: &MediaSection<'_, '_>,
    session_c: &Connection<'_>,
    new: &str,
    edits: &mut Vec<RawEdit<'_>>,
) {
    let lines = m.lines();
    let mut after: &Line<'_> = &lines[0];
    if let Some(l) = lines.get(1).filter(|l| l.kind == Some('i')) {
        after = l;
    }
    let nettype = if session_c.nettype.is_empty() {
        "IN"
    } else {
        session_c.nettype
    };
    let text = format!("c={nettype} {} {new}", addrtype_of(new));
    let (pos, replacement) = match after.ending {
        LineEnding::None => {
            // `after` is the last line of the SDP: give it an ending first.
            let eol = parsed
                .lines()
                .iter()
                .map(|l| l.ending)
                .find(|e| !e.is_empty())
                .unwrap_or(LineEnding::CrLf);
            (after.range.end, format!("{}{text}", eol.as_str()))
        }
        e => (after.full_range().end, format!("{text}{}", e.as_str())),
    };
    edits.push(edit(pos..pos, Text::Owned(replacement)));
}

/// Encoding names of the static RTP payload types (RFC 3551) that may appear without rtpmap.
fn static_encoding(pt: &str) -> Option<&'static str> {
    Some(match pt {
        "0" => "PCMU",
        "3" => "GSM",
        "4" => "G723",
        "8" => "PCMA",
        "9" => "G722",
        "13" => "CN",
        "18" => "G729",
        "34" => "H263",
        _ => return None,
    })
}

/// Formats that carry no audio/video of their own: never count as "the last codec".
fn is_auxiliary(enc: &str) -> bool {
    [
        "CN",
        "telephone-event",
        "red",
        "ulpfec",
        "rtx",
        "x-ulpfecuc",
        "flexfec",
    ]
    .iter()
    .any(|a| a.eq_ignore_ascii_case(enc))
}

fn drop_codecs<'a>(
    m: &MediaSection<'_, 'a>,
    ml: &MediaLine<'a>,
    policy: &RelayPolicy<'_>,
    edits: &mut Vec<RawEdit<'a>>,
    rep: &mut SectionReport,
) {
    let maps: Vec<_> = m.rtpmaps().filter_map(Result::ok).collect();
    let encoding = |f: &str| -> Option<&'a str> {
        maps.iter()
            .find(|r| f.parse::<u8>().ok() == Some(r.pt))
            .map(|r| r.encoding)
            .or_else(|| static_encoding(f))
    };
    let formats: Vec<&str> = ml.format_list().collect();
    let mut drop: Vec<bool> = formats
        .iter()
        .map(|f| {
            encoding(f)
                .is_some_and(|e| policy.drop_codecs.iter().any(|d| d.eq_ignore_ascii_case(e)))
        })
        .collect();
    let real = |i: usize| encoding(formats[i]).is_none_or(|e| !is_auxiliary(e));
    if !(0..formats.len()).any(|i| !drop[i] && real(i)) {
        // Never remove the last codec: keep the first (most preferred) dropped one.
        if let Some(i) = (0..formats.len()).find(|&i| drop[i] && real(i)) {
            drop[i] = false;
        } else if let Some(i) = (0..formats.len()).find(|&i| drop[i]) {
            if (0..formats.len()).all(|j| drop[j]) {
                drop[i] = false;
            }
        }
    }
    if !drop.iter().any(|&d| d) {
        return;
    }
    let kept: Vec<&str> = formats
        .iter()
        .zip(&drop)
        .filter(|(_, &d)| !d)
        .map(|(f, _)| *f)
        .collect();
    edits.push(edit(ml.formats_range.clone(), Text::Owned(kept.join(" "))));
    let dropped: Vec<&str> = formats
        .iter()
        .zip(&drop)
        .filter(|(_, &d)| d)
        .map(|(f, _)| *f)
        .collect();
    for f in &dropped {
        rep.dropped_codecs
            .push(format!("{f} {}", encoding(f).unwrap_or("?")));
    }
    for l in m.lines() {
        let name = l.attr_name();
        if name != Some("rtpmap") && name != Some("fmtp") {
            continue;
        }
        let Some((v, _)) = l.attr_value() else {
            continue;
        };
        let fmt = tokens(v, 0).next().map(|(t, _)| t).unwrap_or("");
        if dropped.contains(&fmt) {
            edits.push(edit(l.full_range(), Text::Str("")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{push_decimal, same_addr, Text};

    #[test]
    fn ports_are_written_as_to_string_spells_them() {
        let mut out = Vec::new();
        for p in 0..=u16::MAX {
            out.clear();
            push_decimal(&mut out, p);
            assert_eq!(out, p.to_string().as_bytes());
            assert_eq!(Text::Port(p).len(), out.len());
        }
    }

    #[test]
    fn same_addr_compares_addresses_not_spellings() {
        assert!(same_addr("192.0.2.1", "192.0.2.1"));
        assert!(!same_addr("192.0.2.1", "192.0.2.10"));
        // the standard parser refuses leading zeros, so this spelling is not the same address
        assert!("192.0.2.01".parse::<std::net::IpAddr>().is_err());
        assert!(!same_addr("192.0.2.01", "192.0.2.1"));
        assert!(same_addr("2001:db8::1", "2001:DB8:0::1"));
        assert!(same_addr("::ffff:192.0.2.1", "::FFFF:192.0.2.1"));
        assert!(!same_addr("2001:db8::1", "2001:db8::2"));
    }
}
