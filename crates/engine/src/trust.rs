//! Where a SIP message came from and how far the engine trusts it.
//!
//! Only the mutually authenticated mirror proves who sent a message; plain HEP over UDP can be spoofed by
//! anyone who can reach the port, and SIP seen on the SPAN port can be sent by anyone on the network. The
//! engine therefore ranks the sources ([`EngineConfig::trust`](crate::EngineConfig::trust), default
//! mirror > HEP > capture) and lets a message change a call only when its source ranks at least as high as
//! the source of the INVITE that created the call. See docs/hardening.md.

/// The source of a SIP message handed to the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SipOrigin {
    /// A Front End filter on the mTLS mirror (authenticated).
    #[default]
    Mirror,
    /// A plain HEPv3 agent (UDP or TCP, no authentication), or HEP found in a capture.
    Hep,
    /// SIP found in captured traffic (SPAN port, pcap).
    Capture,
    /// A signaling file given by the operator (`recorder replay --signaling`: daemon journal, trace log):
    /// trusted as much as the most trusted source, because it is the operator's own record.
    Journal,
}

impl SipOrigin {
    /// The name used in `recorder.toml` (`[engine] trust`).
    pub fn as_str(self) -> &'static str {
        match self {
            SipOrigin::Mirror => "mirror",
            SipOrigin::Hep => "hep",
            SipOrigin::Capture => "capture",
            SipOrigin::Journal => "journal",
        }
    }

    /// The origin named `name` (`mirror`, `hep`, `capture`, `journal`).
    pub fn from_name(name: &str) -> Option<SipOrigin> {
        match name.trim().to_ascii_lowercase().as_str() {
            "mirror" => Some(SipOrigin::Mirror),
            "hep" => Some(SipOrigin::Hep),
            "capture" => Some(SipOrigin::Capture),
            "journal" => Some(SipOrigin::Journal),
            _ => None,
        }
    }

    /// The default trust order: mirror, then HEP, then SIP seen in the capture.
    pub fn default_order() -> Vec<SipOrigin> {
        vec![SipOrigin::Mirror, SipOrigin::Hep, SipOrigin::Capture]
    }
}

/// Trust rank of each origin (higher = more trusted; `None` = not trusted at all, its SIP is ignored).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrustOrder {
    ranks: [Option<u8>; 4],
}

/// Rank of the operator's own files and of calls made from media alone.
pub(crate) const TOP_RANK: u8 = u8::MAX;

impl TrustOrder {
    /// Ranks from a list, most trusted first; a source listed twice keeps its first place.
    pub fn new(order: &[SipOrigin]) -> Self {
        let mut ranks = [None; 4];
        let n = order.len().min(200) as u8;
        for (i, o) in order.iter().take(200).enumerate() {
            let slot = &mut ranks[Self::index(*o)];
            if slot.is_none() {
                *slot = Some(n - i as u8);
            }
        }
        ranks[Self::index(SipOrigin::Journal)] = Some(TOP_RANK);
        TrustOrder { ranks }
    }

    fn index(o: SipOrigin) -> usize {
        match o {
            SipOrigin::Mirror => 0,
            SipOrigin::Hep => 1,
            SipOrigin::Capture => 2,
            SipOrigin::Journal => 3,
        }
    }

    /// The rank of `origin`; `None` when the configuration does not trust it at all.
    pub fn rank(&self, origin: SipOrigin) -> Option<u8> {
        self.ranks[Self::index(origin)]
    }

    /// The highest rank a configured source has (the operator's files aside).
    pub fn highest(&self) -> u8 {
        self.ranks[..3].iter().flatten().copied().max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_order_ranks_mirror_over_hep_over_capture() {
        let t = TrustOrder::new(&SipOrigin::default_order());
        let (m, h, c) = (
            t.rank(SipOrigin::Mirror).unwrap(),
            t.rank(SipOrigin::Hep).unwrap(),
            t.rank(SipOrigin::Capture).unwrap(),
        );
        assert!(m > h && h > c, "{m} {h} {c}");
        assert_eq!(t.highest(), m);
        assert!(t.rank(SipOrigin::Journal).unwrap() >= m);
    }

    #[test]
    fn unlisted_sources_are_not_trusted() {
        let t = TrustOrder::new(&[SipOrigin::Hep, SipOrigin::Mirror, SipOrigin::Hep]);
        assert!(t.rank(SipOrigin::Hep) > t.rank(SipOrigin::Mirror));
        assert_eq!(t.rank(SipOrigin::Capture), None);
        assert_eq!(t.highest(), t.rank(SipOrigin::Hep).unwrap());
        for name in ["mirror", "hep", "capture", "journal"] {
            assert_eq!(SipOrigin::from_name(name).unwrap().as_str(), name);
        }
        assert_eq!(SipOrigin::from_name("span"), None);
    }
}
