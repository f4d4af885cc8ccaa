//! IPv4 / IPv6 defragmentation with a timeout and a memory cap, counting what it drops.
//!
//! Time is an input: every [`Defragmenter::push`] carries the fragment's capture time, and
//! datagrams whose first fragment is older than the timeout are dropped (and counted) when a later
//! push or [`Defragmenter::expire`] sees it. Overlapping fragments are accepted, the later bytes
//! winning (as Linux does for identical retransmissions); fragments that contradict the datagram's
//! length are counted as malformed and dropped.

use std::collections::HashMap;

use crate::link::{Fragment, FragmentKey};

/// Limits of a [`Defragmenter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragConfig {
    /// A datagram not complete this many microseconds after its first fragment is dropped.
    pub timeout_micros: u64,
    /// Upper bound on the bytes buffered for incomplete datagrams.
    pub max_bytes: usize,
    /// Upper bound on the number of incomplete datagrams.
    pub max_datagrams: usize,
}

impl Default for DefragConfig {
    /// 30 s (Linux `ipfrag_time`), 4 MiB (Linux `ipfrag_high_thresh`), 1024 datagrams.
    fn default() -> Self {
        DefragConfig {
            timeout_micros: 30_000_000,
            max_bytes: 4 << 20,
            max_datagrams: 1024,
        }
    }
}

/// Counters of a [`Defragmenter`]: what came in, what came out, and what was dropped and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments pushed.
    pub fragments: u64,
    /// Datagrams completed and returned.
    pub reassembled: u64,
    /// Incomplete datagrams dropped because their timeout passed.
    pub timed_out: u64,
    /// Fragments dropped because the memory or datagram cap was reached.
    pub dropped_over_cap: u64,
    /// Fragments dropped as malformed (beyond 65535 bytes, unaligned non-final fragment,
    /// contradicting the datagram's known length).
    pub malformed: u64,
}

/// A reassembled datagram payload (the transport header and data), borrowed from the defragmenter
/// until its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reassembled<'a> {
    /// Addresses, protocol and id of the datagram.
    pub key: FragmentKey,
    /// The whole IP payload, ready for [`crate::link::decode_transport`].
    pub payload: &'a [u8],
}

#[derive(Debug)]
struct Partial {
    first_at: u64,
    buf: Vec<u8>,
    /// Received byte ranges, sorted, merged, half-open.
    have: Vec<(u32, u32)>,
    total: Option<u32>,
}

/// Reassembles IP fragments into datagrams within a time and memory budget.
#[derive(Debug)]
pub struct Defragmenter {
    cfg: DefragConfig,
    pending: HashMap<FragmentKey, Partial>,
    bytes: usize,
    oldest: u64,
    done: Vec<u8>,
    stats: DefragStats,
}

const MAX_DATAGRAM: u32 = 65_535;

impl Defragmenter {
    /// A defragmenter with the given limits.
    pub fn new(cfg: DefragConfig) -> Self {
        Defragmenter {
            cfg,
            pending: HashMap::new(),
            bytes: 0,
            oldest: u64::MAX,
            done: Vec::new(),
            stats: DefragStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Number of incomplete datagrams held.
    pub fn pending_datagrams(&self) -> usize {
        self.pending.len()
    }

    /// Bytes buffered for incomplete datagrams.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Drops (and counts) incomplete datagrams whose first fragment is older than the timeout at
    /// time `now_micros`.
    pub fn expire(&mut self, now_micros: u64) {
        if self.pending.is_empty()
            || now_micros.saturating_sub(self.oldest) <= self.cfg.timeout_micros
        {
            return;
        }
        let timeout = self.cfg.timeout_micros;
        let mut oldest = u64::MAX;
        let mut freed = 0;
        let mut dropped = 0;
        self.pending.retain(|_, p| {
            if now_micros.saturating_sub(p.first_at) > timeout {
                freed += p.buf.capacity();
                dropped += 1;
                false
            } else {
                oldest = oldest.min(p.first_at);
                true
            }
        });
        self.bytes -= freed;
        self.stats.timed_out += dropped;
        self.oldest = oldest;
    }

    /// Adds one fragment captured at `at_micros`; returns the datagram when it is complete.
    pub fn push(&mut self, at_micros: u64, frag: &Fragment<'_>) -> Option<Reassembled<'_>> {
        self.stats.fragments += 1;
        self.expire(at_micros);
        let len = u32::try_from(frag.payload.len()).unwrap_or(u32::MAX);
        let start = frag.offset;
        let end = start.saturating_add(len);
        if end > MAX_DATAGRAM || (frag.more && len % 8 != 0) {
            self.stats.malformed += 1;
            return None;
        }
        if !self.pending.contains_key(&frag.key) && self.pending.len() >= self.cfg.max_datagrams {
            self.stats.dropped_over_cap += 1;
            return None;
        }
        let cfg = self.cfg;
        let p = self.pending.entry(frag.key).or_insert_with(|| Partial {
            first_at: at_micros,
            buf: Vec::new(),
            have: Vec::new(),
            total: None,
        });
        let malformed = match (frag.more, p.total) {
            (false, Some(t)) => t != end,
            (false, None) => p.have.last().is_some_and(|&(_, e)| e > end),
            (true, Some(t)) => end > t,
            (true, None) => false,
        };
        if malformed {
            self.stats.malformed += 1;
            if p.have.is_empty() {
                self.pending.remove(&frag.key);
            }
            return None;
        }
        let end_us = end as usize;
        if p.buf.len() < end_us {
            let before = p.buf.capacity();
            let grow = end_us.saturating_sub(before);
            if self.bytes + grow > cfg.max_bytes {
                self.stats.dropped_over_cap += 1;
                if p.have.is_empty() {
                    self.pending.remove(&frag.key);
                }
                return None;
            }
            // Grow to exactly the bytes needed so the accounting below matches the cap.
            p.buf.reserve_exact(end_us - p.buf.len());
            p.buf.resize(end_us, 0);
            self.bytes += p.buf.capacity() - before;
        }
        p.buf[start as usize..end_us].copy_from_slice(frag.payload);
        if !frag.more {
            p.total = Some(end);
        }
        insert_range(&mut p.have, start, end);
        self.oldest = self.oldest.min(p.first_at);
        let complete = p.total.is_some_and(|t| p.have.as_slice() == [(0, t)]);
        if !complete {
            return None;
        }
        let mut p = self.pending.remove(&frag.key)?;
        self.bytes -= p.buf.capacity();
        self.stats.reassembled += 1;
        std::mem::swap(&mut self.done, &mut p.buf);
        Some(Reassembled {
            key: frag.key,
            payload: &self.done,
        })
    }
}

fn insert_range(have: &mut Vec<(u32, u32)>, start: u32, end: u32) {
    if start >= end {
        return;
    }
    let mut s = start;
    let mut e = end;
    // Remove every range touching [s, e) and widen the new one to cover them.
    have.retain(|&(a, b)| {
        if b < s || a > e {
            true
        } else {
            s = s.min(a);
            e = e.max(b);
            false
        }
    });
    let at = have.partition_point(|&(a, _)| a < s);
    have.insert(at, (s, e));
}
