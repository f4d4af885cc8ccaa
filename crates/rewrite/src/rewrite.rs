//! The whole-message rewrite: policy, emergency check, then the SDP rewrite of every SDP part.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::ops::Range;

use rec_sdp::{force_relay_append, RelayPolicy, SectionReport};
use rec_sip::{BodyPart, Message, NameAddr};

use crate::config::{RewriteConfig, UNDECODABLE_CODECS};
use crate::policy::{Decision, Policy, PolicyConfig, RuleError};

/// How many emergency Call-IDs are remembered so that answers and re-INVITEs of an emergency call, which carry
/// no emergency marker of their own, are left alone too.
const EMERGENCY_MEMORY: usize = 4096;

/// Capacity of the rewriter's SDP buffer kept between messages (a rare huge message does not pin its size).
const SCRATCH_KEEP: usize = 64 * 1024;

/// Why a message could not be handled at all (the caller forwards the original bytes).
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// The input is not one complete SIP message.
    #[error("not a complete SIP message: {0}")]
    NotSip(#[from] rec_sip::ParseError),
}

/// Why a message was left exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unchanged {
    /// The message carries no SDP body.
    NoSdp,
    /// The policy does not record this call (the account's decision says why).
    NotRecorded,
    /// An emergency call (or an answer / re-INVITE of one), and `emergency = false`.
    Emergency(&'static str),
    /// Every SDP part was examined and nothing applied (see the part accounts for why).
    NothingApplied,
}

impl fmt::Display for Unchanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unchanged::NoSdp => f.write_str("message carries no SDP"),
            Unchanged::NotRecorded => f.write_str("call not recorded by the policy"),
            Unchanged::Emergency(why) => write!(
                f,
                "emergency call ({why}): never rewritten unless [rewrite] emergency = true"
            ),
            Unchanged::NothingApplied => f.write_str("no SDP part needed a change"),
        }
    }
}

/// What happened to one SDP body part.
#[derive(Debug, Clone)]
pub struct PartAccount {
    /// 1-based position among the message's body parts (1 for a single-part body).
    pub part: usize,
    /// Byte range of the part's body in the original message.
    pub range: Range<usize>,
    /// Per media section reports, or why the SDP could not be read (the part is then left unchanged).
    pub sections: Result<Vec<SectionReport>, String>,
}

/// The result of rewriting one message: the new bytes when anything changed, and an account of why.
#[derive(Debug, Clone)]
pub struct Account {
    /// The rewritten message; `None` when the original must be forwarded unchanged.
    pub output: Option<Vec<u8>>,
    /// Set when the message was left unchanged as a whole.
    pub unchanged: Option<Unchanged>,
    /// The policy decision, when it was taken.
    pub decision: Option<Decision>,
    /// One entry per SDP body part examined.
    pub parts: Vec<PartAccount>,
}

impl Account {
    fn unchanged(why: Unchanged, decision: Option<Decision>) -> Account {
        Account {
            output: None,
            unchanged: Some(why),
            decision,
            parts: Vec::new(),
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.output {
            Some(_) => writeln!(f, "rewritten")?,
            None => writeln!(
                f,
                "unchanged: {}",
                self.unchanged
                    .as_ref()
                    .map_or_else(|| "no change".to_owned(), ToString::to_string)
            )?,
        }
        if let Some(decision) = &self.decision {
            writeln!(f, "  policy: {}", decision.reason)?;
        }
        for part in &self.parts {
            let sections = match &part.sections {
                Err(why) => {
                    writeln!(
                        f,
                        "  SDP part {}: left unchanged, unreadable SDP: {why}",
                        part.part
                    )?;
                    continue;
                }
                Ok(sections) => sections,
            };
            writeln!(f, "  SDP part {}:", part.part)?;
            for section in sections {
                writeln!(f, "    {section}")?;
            }
        }
        Ok(())
    }
}

/// The rewriter: configuration and policy, parsed once, plus the memory of emergency calls.
#[derive(Debug)]
pub struct Rewriter {
    config: RewriteConfig,
    policy: Policy,
    edge_addresses: Vec<String>,
    emergency_calls: HashSet<String>,
    emergency_order: VecDeque<String>,
    /// The rewritten SDP parts of the message being rewritten, one after the other (reused across messages so
    /// that no per-part buffer is allocated; keeps at most [`SCRATCH_KEEP`] bytes of capacity between messages).
    scratch: Vec<u8>,
}

impl Rewriter {
    /// Builds a rewriter; fails on a policy rule that cannot be understood.
    pub fn new(config: RewriteConfig, policy: &PolicyConfig) -> Result<Rewriter, RuleError> {
        Ok(Rewriter {
            edge_addresses: config
                .edge_addresses
                .iter()
                .map(|a| a.to_string())
                .collect(),
            policy: Policy::new(policy)?,
            config,
            emergency_calls: HashSet::new(),
            emergency_order: VecDeque::new(),
            scratch: Vec::new(),
        })
    }

    /// Rewrites one complete SIP message (see the crate documentation for when and how).
    pub fn rewrite(&mut self, bytes: &[u8]) -> Result<Account, RewriteError> {
        let message = Message::parse(bytes)?;
        let bodies = message.bodies();
        let facts = HeaderFacts::gather(&message, self.policy.has_rules());

        if let Some(why) = self.emergency(&message, &facts, &bodies) {
            return Ok(Account::unchanged(Unchanged::Emergency(why), None));
        }
        if !bodies.iter().any(BodyPart::is_sdp) {
            return Ok(Account::unchanged(Unchanged::NoSdp, None));
        }
        let decision = self.policy.decide(facts.parties.iter().copied());
        if !decision.record {
            return Ok(Account::unchanged(Unchanged::NotRecorded, Some(decision)));
        }

        // The Edge addresses as `&str`s: on the stack for the usual handful, else in a vector.
        let mut edge_array = [""; 8];
        let edge_vec: Vec<&str>;
        let edge: &[&str] = if self.edge_addresses.len() <= edge_array.len() {
            for (slot, address) in edge_array.iter_mut().zip(&self.edge_addresses) {
                *slot = address;
            }
            &edge_array[..self.edge_addresses.len()]
        } else {
            edge_vec = self.edge_addresses.iter().map(String::as_str).collect();
            &edge_vec
        };
        let drop_codecs: &[&str] = if self.config.drop_undecodable_codecs && message.is_request() {
            UNDECODABLE_CODECS
        } else {
            &[]
        };
        let relay_policy = RelayPolicy {
            edge_addresses: edge,
            invalid_port: self.config.invalid_port,
            video: self.config.video,
            drop_codecs,
        };

        let mut parts = Vec::with_capacity(bodies.len());
        // (part range in the message, range of its rewritten bytes in `scratch`)
        let mut replaced: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        self.scratch.clear();
        self.scratch.shrink_to(SCRATCH_KEEP);
        let sdp_parts = bodies
            .iter()
            .enumerate()
            .filter(|(_, part)| part.is_sdp())
            .map(|(i, part)| (i + 1, part.body_range.clone()));
        for (part, range) in sdp_parts {
            let sdp = &bytes[range.clone()];
            let start = self.scratch.len();
            match force_relay_append(sdp, &relay_policy, &mut self.scratch) {
                Ok(rewrite) => {
                    if rewrite.changed {
                        replaced.push((range.clone(), start..self.scratch.len()));
                    }
                    parts.push(PartAccount {
                        part,
                        range,
                        sections: Ok(rewrite.report),
                    });
                }
                Err(error) => parts.push(PartAccount {
                    part,
                    range,
                    sections: Err(error.to_string()),
                }),
            }
        }

        if replaced.is_empty() {
            return Ok(Account {
                output: None,
                unchanged: Some(Unchanged::NothingApplied),
                decision: Some(decision),
                parts,
            });
        }
        // Collected in place: both element types have the same layout, so this reuses `replaced`'s buffer.
        let borrowed: Vec<(Range<usize>, &[u8])> = replaced
            .into_iter()
            .map(|(range, new)| (range, &self.scratch[new]))
            .collect();
        let output = rec_sip::replace_parts(&message, &bodies, &borrowed)?;
        Ok(Account {
            output: Some(output),
            unchanged: None,
            decision: Some(decision),
            parts,
        })
    }

    /// Says why the message belongs to an emergency call that must not be rewritten, remembering the Call-ID.
    fn emergency(
        &mut self,
        message: &Message<'_>,
        facts: &HeaderFacts<'_>,
        bodies: &[BodyPart<'_>],
    ) -> Option<&'static str> {
        if self.config.emergency {
            return None;
        }
        let call_id = facts.call_id;
        match emergency_marker(message, facts, bodies) {
            Some(marker) => {
                if !call_id.is_empty() && self.emergency_calls.insert(call_id.to_owned()) {
                    self.emergency_order.push_back(call_id.to_owned());
                    if self.emergency_order.len() > EMERGENCY_MEMORY {
                        if let Some(old) = self.emergency_order.pop_front() {
                            self.emergency_calls.remove(&old);
                        }
                    }
                }
                Some(marker)
            }
            None if !self.emergency_calls.is_empty() && self.emergency_calls.contains(call_id) => {
                Some("earlier message of this call")
            }
            None => None,
        }
    }
}

/// What the rewriter needs from the headers, gathered in one pass over them.
struct HeaderFacts<'a> {
    call_id: &'a str,
    priority_emergency: bool,
    /// URIs naming the parties: From, To, P-Asserted-Identity and the Request-URI (empty when the policy has
    /// no rules and so does not look at them).
    parties: Vec<&'a str>,
}

impl<'a> HeaderFacts<'a> {
    /// `with_parties`: also read the party URIs (only a policy with rules needs them).
    fn gather(message: &Message<'a>, with_parties: bool) -> HeaderFacts<'a> {
        let mut facts = HeaderFacts {
            call_id: "",
            priority_emergency: false,
            parties: Vec::new(),
        };
        if !with_parties {
            // Only Call-ID and Priority are needed: found from the offsets noted while parsing. The last
            // Call-ID counts, as in the full pass below.
            facts.call_id = message
                .last_header("call-id")
                .map_or("", |h| h.raw_value.trim());
            facts.priority_emergency = message
                .headers_named("priority")
                .any(|h| h.raw_value.trim().eq_ignore_ascii_case("emergency"));
            return facts;
        }
        facts.parties.extend(message.request_uri());
        for header in message.headers() {
            let name = header.name;
            if header.is("call-id") {
                facts.call_id = header.raw_value.trim();
            } else if name.eq_ignore_ascii_case("priority") {
                facts.priority_emergency |=
                    header.raw_value.trim().eq_ignore_ascii_case("emergency");
            } else if !with_parties {
                continue;
            } else if header.is("from") || header.is("to") {
                if let Ok(addr) = NameAddr::parse(header.raw_value) {
                    facts.parties.push(addr.uri.as_str());
                }
            } else if name.eq_ignore_ascii_case("p-asserted-identity") {
                for value in rec_sip::split_commas(header.raw_value) {
                    if let Ok(addr) = NameAddr::parse(value) {
                        facts.parties.push(addr.uri.as_str());
                    }
                }
            }
        }
        facts
    }
}

/// The emergency markers of a message: `Priority: emergency`, a PIDF-LO body, an `urn:service:sos` target.
fn emergency_marker(
    message: &Message<'_>,
    facts: &HeaderFacts<'_>,
    bodies: &[BodyPart<'_>],
) -> Option<&'static str> {
    if facts.priority_emergency {
        return Some("Priority: emergency");
    }
    if bodies.iter().any(BodyPart::is_pidf) {
        return Some("PIDF-LO location body");
    }
    if message.request_uri().is_some_and(|uri| {
        uri.get(..15)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:service:sos"))
    }) {
        return Some("urn:service:sos target");
    }
    None
}
