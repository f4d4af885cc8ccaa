//! The `[rewrite]` table of `recorder.toml`: how recorded calls are forced through the Edge.

use std::net::IpAddr;

use serde::Deserialize;

/// Encoding names (as in `a=rtpmap`) the recorder cannot decode; dropped from offers of recorded calls when
/// [`RewriteConfig::drop_undecodable_codecs`] is set.
pub const UNDECODABLE_CODECS: &[&str] = &["x-msrta", "SILK", "SIREN", "G7221", "AAL2-G726-32"];

/// Settings of the relay-forcing rewriter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewriteConfig {
    /// Edge A/V public addresses: how draft-6 (Lync 2007 fallback) relay candidates, which carry no type, are
    /// recognised. Empty: draft-6 parts are never rewritten (a relay is never guessed).
    pub edge_addresses: Vec<IpAddr>,
    /// The port written into non-relay candidates of recorded streams (9, "discard", by default).
    pub invalid_port: u16,
    /// Also force video streams through the relay.
    pub video: bool,
    /// Also rewrite emergency calls (`Priority: emergency` or a PIDF-LO location body).
    pub emergency: bool,
    /// Drop codecs the recorder cannot decode ([`UNDECODABLE_CODECS`]) from offers of recorded calls.
    pub drop_undecodable_codecs: bool,
}

impl Default for RewriteConfig {
    fn default() -> Self {
        RewriteConfig {
            edge_addresses: Vec::new(),
            invalid_port: 9,
            video: false,
            emergency: false,
            drop_undecodable_codecs: false,
        }
    }
}
