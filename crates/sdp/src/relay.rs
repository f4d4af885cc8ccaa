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
use crate::view::{tokens, Connection, MediaKind, MediaLine, MediaSection};

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
    relays: &[&'c Candidate<'a>],
    component: u32,
    like: Option<&Candidate<'a>>,
) -> Option<&'c Candidate<'a>> {
    let of_comp = || {
        relays
            .iter()
            .copied()
            .filter(move |c| c.component == component)
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
    let parsed = Sdp::parse(sdp)?;
    let session_c = parsed.session().connection().and_then(Result::ok);
    let session_c_users = parsed
        .media()
        .filter(|m| !m.lines().iter().any(|l| l.kind == Some('c')))
        .count();
    let sections = parsed.media_count();
    let mut out = RelayRewrite {
        // a few port edits per candidate line and default: sized once instead of growing
        edits: Vec::with_capacity(parsed.lines().len() / 2),
        report: Vec::with_capacity(sections),
    };
    for m in parsed.media() {
        let ml = m.media_line();
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
            out.report.push(rep);
            continue;
        }
        if ml.port == 0 {
            rep.skipped = Some(SkipReason::PortZero);
            out.report.push(rep);
            continue;
        }
        if !policy.drop_codecs.is_empty() {
            drop_codecs(&m, &ml, policy, &mut out.edits, &mut rep);
        }
        rewrite_candidates(
            &parsed,
            &m,
            &ml,
            policy,
            session_c.as_ref(),
            session_c_users,
            &mut out.edits,
            &mut rep,
        );
        out.report.push(rep);
    }
    out.edits.sort_by_key(|e| (e.range.start, e.range.end));
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn rewrite_candidates<'a>(
    parsed: &Sdp<'a>,
    m: &MediaSection<'_, 'a>,
    ml: &MediaLine<'a>,
    policy: &RelayPolicy<'_>,
    session_c: Option<&Connection<'a>>,
    session_c_users: usize,
    edits: &mut Vec<Edit>,
    rep: &mut SectionReport,
) {
    let cands: Vec<Candidate<'a>> = m.candidates().filter_map(Result::ok).collect();
    let (relays, non_relays): (Vec<&Candidate<'a>>, Vec<&Candidate<'a>>) =
        cands.iter().partition(|c| is_relay(c, policy));
    if relays.is_empty() {
        let draft6_only = !cands.is_empty()
            && cands
                .iter()
                .all(|c| matches!(c.kind, crate::CandidateKind::Draft6 { .. }));
        rep.skipped = Some(if draft6_only && policy.edge_addresses.is_empty() {
            SkipReason::Draft6NeedsEdgeAddresses
        } else {
            SkipReason::NoRelayCandidates
        });
        return;
    }
    let others = || non_relays.iter().copied();
    rep.changed.reserve(non_relays.len());
    for c in others() {
        if c.port != policy.invalid_port {
            edits.push(Edit {
                range: c.port_range.clone(),
                replacement: policy.invalid_port.to_string(),
            });
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

    // Default candidate.
    let conn = m.connection().and_then(Result::ok);
    let conn_addr = conn.as_ref().map(|c| c.address);
    let addr_matches =
        |c: &Candidate<'_>, addr: Option<&str>| addr.is_none_or(|a| same_addr(a, c.address));
    let is_relay_endpoint = |port: u16, addr: Option<&str>, comp: u32| {
        relays
            .iter()
            .any(|r| r.component == comp && r.port == port && addr_matches(r, addr))
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
        if let Some(r) = pick_relay(&relays, 1, None) {
            rtp_relay = Some(r);
            if r.port != ml.port {
                edits.push(Edit {
                    range: ml.port_range.clone(),
                    replacement: r.port.to_string(),
                });
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

    if let Some(Ok(rtcp)) = m.rtcp() {
        let rtcp_addr = rtcp.address.or(conn_addr);
        let on_other = rtcp.port != policy.invalid_port
            && others().any(|c| {
                (c.component == 2 || (c.component == 1 && rtcp.port == ml.port))
                    && c.port == rtcp.port
                    && addr_matches(c, rtcp_addr)
            })
            && !is_relay_endpoint(rtcp.port, rtcp_addr, 2);
        if on_other {
            let r2 = pick_relay(&relays, 2, rtp_relay).or_else(|| {
                if m.rtcp_mux() || rtcp.port == ml.port {
                    rtp_relay.or_else(|| pick_relay(&relays, 1, None))
                } else {
                    None
                }
            });
            if let Some(r) = r2 {
                if r.port != rtcp.port {
                    edits.push(Edit {
                        range: rtcp.port_range.clone(),
                        replacement: r.port.to_string(),
                    });
                    mv.rtcp_port = Some((rtcp.port, r.port));
                }
                if let (Some(a), Some(ar)) = (rtcp.address, rtcp.address_range.clone()) {
                    if !same_addr(a, r.address) {
                        edits.push(Edit {
                            range: ar,
                            replacement: r.address.to_string(),
                        });
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
fn edit_connection(c: &Connection<'_>, new: &str, edits: &mut Vec<Edit>) {
    let at = addrtype_of(new);
    if c.addrtype.eq_ignore_ascii_case(at) {
        edits.push(Edit {
            range: c.address_range.clone(),
            replacement: new.to_string(),
        });
    } else {
        edits.push(Edit {
            range: c.addrtype_range.start..c.address_range.end,
            replacement: format!("{at} {new}"),
        });
    }
}

/// Inserts `c=<nettype> <addrtype> <new>` after the `m=` line (and `i=` if it follows).
fn insert_connection(
    parsed: &Sdp<'_>,
    m: &MediaSection<'_, '_>,
    session_c: &Connection<'_>,
    new: &str,
    edits: &mut Vec<Edit>,
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
    edits.push(Edit {
        range: pos..pos,
        replacement,
    });
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
    edits: &mut Vec<Edit>,
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
    edits.push(Edit {
        range: ml.formats_range.clone(),
        replacement: kept.join(" "),
    });
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
            edits.push(Edit {
                range: l.full_range(),
                replacement: String::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_addr;

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
