//! Which call and side a media packet belongs to: by transport address (every address a side's SDP declared),
//! then by SSRC (`x-ssrc-range` and SSRCs learnt from matched packets).

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
}

/// Largest SSRC range expanded into the table (audio ranges have 1 entry, Lync video 100).
const MAX_RANGE: u32 = 256;

#[derive(Debug, Default)]
pub(crate) struct FlowTable {
    by_addr: HashMap<SocketAddr, FlowRef>,
    by_ssrc: HashMap<u32, FlowRef>,
}

impl FlowTable {
    /// Registers `addr` as an address of `flow`'s side (the newest call using an address wins).
    pub fn add_addr(&mut self, addr: SocketAddr, flow: FlowRef) {
        self.by_addr.insert(addr, flow);
    }

    /// Registers SSRCs `first..=last` (small ranges only) as sent by `flow`'s side.
    pub fn add_ssrc_range(&mut self, first: u32, last: u32, flow: FlowRef) -> Vec<u32> {
        let mut added = Vec::new();
        if last < first || last - first >= MAX_RANGE {
            return added;
        }
        for s in first..=last {
            self.by_ssrc.insert(s, flow);
            added.push(s);
        }
        added
    }

    /// Registers one SSRC.
    pub fn add_ssrc(&mut self, ssrc: u32, flow: FlowRef) {
        self.by_ssrc.insert(ssrc, flow);
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
