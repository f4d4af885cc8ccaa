//! Which call and side a media packet belongs to: by transport address (every address a side's SDP declared),
//! then by SSRC (`x-ssrc-range` and SSRCs learnt from matched packets).
//!
//! Ownership: an address or SSRC already registered by one call is taken over by another call only when the
//! taker's signaling source is more trusted, or equally trusted and either the most trusted source
//! configured or the owner has had no media yet (a port reused by the next call). So a lower-trust SDP that
//! names a running call's media address cannot steal its flows (see docs/hardening.md).

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::report::Side;
use crate::CallHandle;

/// A call's media section and the side an address or SSRC belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlowRef {
    pub call: CallHandle,
    pub media: u16,
    pub side: Side,
    /// Trust rank of the call's signaling source.
    pub rank: u8,
}

/// Largest SSRC range expanded into the table (audio ranges have 1 entry, Lync video 100).
const MAX_RANGE: u32 = 256;

/// Whether a registration for `new` may replace the current `owner` of an address or SSRC; `owner_has_media`
/// says whether the owning call has matched media, `top` is the most trusted configured rank.
pub(crate) fn may_take(owner: &FlowRef, new: &FlowRef, owner_has_media: bool, top: u8) -> bool {
    owner.call == new.call
        || new.rank > owner.rank
        || (new.rank == owner.rank && (new.rank >= top || !owner_has_media))
}

/// Outcome of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The entry now points to the new flow.
    Taken,
    /// Another call keeps the entry.
    Refused,
}

#[derive(Debug, Default)]
pub(crate) struct FlowTable {
    by_addr: HashMap<SocketAddr, FlowRef>,
    by_ssrc: HashMap<u32, FlowRef>,
}

impl FlowTable {
    /// Registers `addr` as an address of `flow`'s side when `allowed` says the current owner (if any) may be
    /// replaced.
    pub fn add_addr(
        &mut self,
        addr: SocketAddr,
        flow: FlowRef,
        allowed: impl Fn(&FlowRef) -> bool,
    ) -> Claim {
        match self.by_addr.get(&addr) {
            Some(owner) if !allowed(owner) => Claim::Refused,
            _ => {
                self.by_addr.insert(addr, flow);
                Claim::Taken
            }
        }
    }

    /// Registers SSRCs `first..=last` (small ranges only) as sent by `flow`'s side, each where `allowed` lets
    /// it; returns the SSRCs taken and the number refused.
    pub fn add_ssrc_range(
        &mut self,
        first: u32,
        last: u32,
        flow: FlowRef,
        allowed: impl Fn(&FlowRef) -> bool,
    ) -> (Vec<u32>, u64) {
        let mut added = Vec::new();
        let mut refused = 0;
        if last < first || last - first >= MAX_RANGE {
            return (added, refused);
        }
        for s in first..=last {
            match self.by_ssrc.get(&s) {
                Some(owner) if !allowed(owner) => refused += 1,
                _ => {
                    self.by_ssrc.insert(s, flow);
                    added.push(s);
                }
            }
        }
        (added, refused)
    }

    /// Registers one SSRC unless another call owns it; `false` when it does.
    pub fn add_ssrc(&mut self, ssrc: u32, flow: FlowRef) -> bool {
        match self.by_ssrc.get(&ssrc) {
            Some(owner) if owner.call != flow.call => false,
            _ => {
                self.by_ssrc.insert(ssrc, flow);
                true
            }
        }
    }

    /// The flow whose side sent a packet from `src` to `dst` (source address first, then destination: a packet
    /// to a side's address was sent by the other side).
    pub fn lookup(&self, src: SocketAddr, dst: SocketAddr) -> Option<FlowRef> {
        if let Some(f) = self.by_addr.get(&src) {
            return Some(*f);
        }
        self.by_addr.get(&dst).map(|f| FlowRef {
            side: f.side.other(),
            ..*f
        })
    }

    /// The flow an SSRC was declared or seen for.
    pub fn lookup_ssrc(&self, ssrc: u32) -> Option<FlowRef> {
        self.by_ssrc.get(&ssrc).copied()
    }

    /// Forgets the addresses and SSRCs of `call` (those still pointing to it).
    pub fn remove_call(&mut self, call: CallHandle, addrs: &[SocketAddr], ssrcs: &[u32]) {
        for a in addrs {
            if self.by_addr.get(a).is_some_and(|f| f.call == call) {
                self.by_addr.remove(a);
            }
        }
        for s in ssrcs {
            if self.by_ssrc.get(s).is_some_and(|f| f.call == call) {
                self.by_ssrc.remove(s);
            }
        }
    }

    /// Entries held (for memory accounting).
    #[allow(dead_code)]
    pub fn len(&self) -> usize {
        self.by_addr.len() + self.by_ssrc.len()
    }
}
