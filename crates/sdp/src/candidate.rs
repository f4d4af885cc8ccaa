//! ICE candidates in both formats Lync uses: ICE-19 / RFC 5245 and the old draft-6.

use core::ops::Range;

use crate::error::SdpError;
use crate::view::{parse_port, tokens};

/// ICE candidate type (`typ` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateType<'a> {
    /// Host candidate.
    Host,
    /// Server-reflexive.
    Srflx,
    /// Peer-reflexive.
    Prflx,
    /// Relayed (TURN / Edge).
    Relay,
    /// Anything else, as written.
    Other(&'a str),
}

impl<'a> CandidateType<'a> {
    fn parse(s: &'a str) -> Self {
        match s {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::Srflx,
            "prflx" => CandidateType::Prflx,
            "relay" => CandidateType::Relay,
            o => CandidateType::Other(o),
        }
    }

    /// Name as in the SDP.
    pub fn as_str(&self) -> &'a str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Srflx => "srflx",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Other(o) => o,
        }
    }
}

/// The format-specific part of a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateKind<'a> {
    /// ICE-19 / RFC 5245: `<foundation> <component> <transport> <priority> <addr> <port> typ <type> ...`.
    Ice {
        /// Foundation.
        foundation: &'a str,
        /// Priority.
        priority: u32,
        /// Candidate type.
        typ: CandidateType<'a>,
        /// `raddr`, if present.
        raddr: Option<&'a str>,
        /// `rport`, if present.
        rport: Option<u16>,
        /// `tcptype`, if present (`active`, `passive`, `so`).
        tcptype: Option<&'a str>,
        /// `generation`, if present.
        generation: Option<u32>,
        /// Everything after `typ <type>` as written (extension attributes, trailing space).
        extensions: &'a str,
    },
    /// ICE draft-6 (Lync's fallback part): `<username> <component> <password> <UDP|TCP> <q> <addr> <port>`;
    /// there is no type field.
    Draft6 {
        /// Per-candidate username.
        username: &'a str,
        /// Per-candidate password.
        password: &'a str,
        /// Q-value as written (`0.830`).
        qvalue: &'a str,
    },
}

/// One candidate line, with the fields common to both formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// 0-based line index in the SDP.
    pub line: usize,
    /// True when it came from `a=x-candidate-ipv6:`.
    pub ipv6_attribute: bool,
    /// Component (1 = RTP, 2 = RTCP).
    pub component: u32,
    /// Transport as written (`UDP`, `TCP-PASS`, `TCP-ACT`, `tcp`, ...).
    pub transport: &'a str,
    /// Connection address.
    pub address: &'a str,
    /// Byte range of the address.
    pub address_range: Range<usize>,
    /// Port.
    pub port: u16,
    /// Byte range of the port.
    pub port_range: Range<usize>,
    /// Format-specific fields.
    pub kind: CandidateKind<'a>,
}

impl<'a> Candidate<'a> {
    /// Parses the value of a candidate attribute that starts at byte `base`; `line` is the
    /// 0-based line index. Never panics; an unparsable value is an error naming the line.
    pub fn parse(
        value: &'a str,
        base: usize,
        line: usize,
        ipv6_attribute: bool,
    ) -> Result<Self, SdpError> {
        let bad = |r| SdpError::bad(line, "a=candidate", r);
        let mut t = tokens(value, base);
        let mut next = |what| t.next().ok_or(bad(what));
        let (f0, _) = next("no foundation/username")?;
        let (comp, _) = next("no component")?;
        let component: u32 = comp.parse().map_err(|_| bad("component not a number"))?;
        let (f2, _) = next("no transport/password")?;
        let (f3, _) = next("no priority/transport")?;
        let (f4, r4) = next("no address/priority")?;
        let (f5, r5) = next("no port/address")?;
        let (f6, r6) = next("no type/port")?;
        // ICE format: <foundation> <component> <transport> <priority> <address> <port> typ <type> ...
        if f6.eq_ignore_ascii_case("typ") {
            {
                let priority: u32 = f3.parse().map_err(|_| bad("priority not a number"))?;
                let port = parse_port(f5).ok_or(bad("port not a number 0..65535"))?;
                let (typ, typ_r) = t.next().ok_or(bad("no candidate type after typ"))?;
                let rest_start = typ_r.end - base;
                let extensions = &value[rest_start..];
                let mut raddr = None;
                let mut rport = None;
                let mut tcptype = None;
                let mut generation = None;
                let mut ext = extensions.split_ascii_whitespace();
                while let Some(k) = ext.next() {
                    let Some(v) = ext.next() else { break };
                    match k {
                        "raddr" => raddr = Some(v),
                        "rport" => rport = Some(parse_port(v).ok_or(bad("rport not a number"))?),
                        "tcptype" => tcptype = Some(v),
                        "generation" => {
                            generation =
                                Some(v.parse().map_err(|_| bad("generation not a number"))?)
                        }
                        _ => {}
                    }
                }
                return Ok(Candidate {
                    line,
                    ipv6_attribute,
                    component,
                    transport: f2,
                    address: f4,
                    address_range: r4,
                    port,
                    port_range: r5,
                    kind: CandidateKind::Ice {
                        foundation: f0,
                        priority,
                        typ: CandidateType::parse(typ),
                        raddr,
                        rport,
                        tcptype,
                        generation,
                        extensions,
                    },
                });
            }
        }
        // Draft-6: <username> <component> <password> <transport> <q> <addr> <port>.
        if t.next().is_some() {
            return Err(bad("neither ICE (no `typ`) nor draft-6 (extra fields)"));
        }
        let is_q = !f4.is_empty()
            && f4.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            && f4.bytes().filter(|&c| c == b'.').count() <= 1;
        if !is_q {
            return Err(bad("draft-6 q-value is not a decimal"));
        }
        let port = parse_port(f6).ok_or(bad("port not a number 0..65535"))?;
        Ok(Candidate {
            line,
            ipv6_attribute,
            component,
            transport: f3,
            address: f5,
            address_range: r5,
            port,
            port_range: r6,
            kind: CandidateKind::Draft6 {
                username: f0,
                password: f2,
                qvalue: f4,
            },
        })
    }

    /// True for an ICE `typ relay` candidate. Draft-6 candidates carry no type: use
    /// [`Candidate::is_relay_with`] with the Edge addresses.
    pub fn is_ice_relay(&self) -> bool {
        matches!(
            self.kind,
            CandidateKind::Ice {
                typ: CandidateType::Relay,
                ..
            }
        )
    }

    /// True for a relay candidate: ICE `typ relay`, or a draft-6 candidate whose address is
    /// one of `edge_addresses` (never guessed from q-values).
    pub fn is_relay_with(&self, edge_addresses: &[&str]) -> bool {
        match self.kind {
            CandidateKind::Ice { .. } => self.is_ice_relay(),
            CandidateKind::Draft6 { .. } => edge_addresses
                .iter()
                .any(|e| e.trim().eq_ignore_ascii_case(self.address)),
        }
    }

    /// True for TCP transports (`TCP`, `TCP-PASS`, `TCP-ACT`, `tcp`).
    pub fn is_tcp(&self) -> bool {
        self.transport
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("tcp"))
    }

    /// True for UDP.
    pub fn is_udp(&self) -> bool {
        self.transport.eq_ignore_ascii_case("udp")
    }

    /// Foundation (ICE) or username (draft-6): what groups the components of one candidate.
    pub fn group(&self) -> &'a str {
        match self.kind {
            CandidateKind::Ice { foundation, .. } => foundation,
            CandidateKind::Draft6 { username, .. } => username,
        }
    }
}

/// `a=remote-candidates:` (ICE, lists the chosen pair of the remote side) or the draft
/// `a=remote-candidate:<username>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteCandidates<'a> {
    /// `a=remote-candidates:<component> <addr> <port> ...` as text.
    Ice {
        /// Value as written.
        value: &'a str,
        /// 0-based line index.
        line: usize,
    },
    /// Draft `a=remote-candidate:<username>`.
    Draft {
        /// The remote candidate's username.
        username: &'a str,
        /// 0-based line index.
        line: usize,
    },
}

impl<'a> RemoteCandidates<'a> {
    /// For the ICE form: `(component, address, port)` triples; malformed triples are skipped.
    pub fn entries(&self) -> impl Iterator<Item = (u32, &'a str, u16)> + 'a {
        let v = match self {
            RemoteCandidates::Ice { value, .. } => *value,
            RemoteCandidates::Draft { .. } => "",
        };
        let mut it = v.split_ascii_whitespace();
        core::iter::from_fn(move || loop {
            let c = it.next()?;
            let a = it.next()?;
            let p = it.next()?;
            if let (Ok(c), Some(p)) = (c.parse(), parse_port(p)) {
                return Some((c, a, p));
            }
        })
    }
}
