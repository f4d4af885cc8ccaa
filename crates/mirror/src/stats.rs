//! Counters of the mirror server, shared with the daemon's metrics exporter.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub use rec_packet::hep_input::Refusal;

/// Upper bounds (inclusive, microseconds) of the rewrite latency histogram buckets; a last bucket counts the rest
/// (`+Inf`). The latency is the time from a decoded frame to its reply being ready to send.
pub const LATENCY_BUCKETS_US: [u64; 10] = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// Counters of the mirror server and the plain HEP listeners (monotonic, relaxed atomics).
#[derive(Debug, Default)]
pub struct MirrorStats {
    /// TLS connections accepted (handshake and subject check passed).
    pub connections: AtomicU64,
    /// TLS handshakes refused (no certificate, untrusted CA, subject not allowed, timeout, not TLS).
    pub refused_handshakes: AtomicU64,
    /// Connections closed because of bytes that are not mirror frames.
    pub bad_streams: AtomicU64,
    /// Frames received carrying a SIP message (TLS mirror and plain HEP).
    pub frames: AtomicU64,
    /// Replies sent.
    pub replies: AtomicU64,
    /// Replies carrying a rewritten message.
    pub rewritten: AtomicU64,
    /// Replies saying "unchanged" (any reason, fail open included).
    pub unchanged: AtomicU64,
    /// "Unchanged" replies because the rewrite was not available in time (fail open).
    pub fail_open: AtomicU64,
    /// Messages received again (same id from the same client subject): acknowledged, not forwarded.
    pub duplicates: AtomicU64,
    /// Plain HEP messages lost because the engine's queue was full (plain HEP cannot be refused nor resent).
    pub dropped: AtomicU64,
    /// Filter messages refused because the engine's queue was full (NACK): not acknowledged, the filter keeps them
    /// and sends them again; not a loss.
    pub refused: AtomicU64,
    /// Plain HEP packets or connections refused because of their source address.
    pub hep_refused: AtomicU64,
    /// Plain HEP packets refused for any reason but their source (not HEP, bad version, truncated, ...).
    pub hep_bad: AtomicU64,
    /// Plain HEP packets refused, per [`Refusal`] reason (index [`Refusal::index`]).
    pub hep_refusals: [AtomicU64; Refusal::ALL.len()],
    /// Connections closed right after accept by a connection cap (total or per source).
    pub refused_limit: AtomicU64,
    /// Connections still in their handshake dropped to make room for a newer one (total cap reached).
    pub evicted: AtomicU64,
    /// Connections closed because nothing moved for `idle_timeout_s`.
    pub closed_idle: AtomicU64,
    /// Connections closed because the peer did not read its replies for `write_timeout_ms`.
    pub closed_write_stalled: AtomicU64,
    /// Rewrite latency histogram: counts per [`LATENCY_BUCKETS_US`] bucket, then `+Inf`.
    pub latency_buckets: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    /// Sum of the rewrite latencies, nanoseconds.
    pub latency_sum_ns: AtomicU64,
}

/// A copy of the counters at one moment (Prometheus-friendly).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// See [`MirrorStats::connections`].
    pub connections: u64,
    /// See [`MirrorStats::refused_handshakes`].
    pub refused_handshakes: u64,
    /// See [`MirrorStats::bad_streams`].
    pub bad_streams: u64,
    /// See [`MirrorStats::frames`].
    pub frames: u64,
    /// See [`MirrorStats::replies`].
    pub replies: u64,
    /// See [`MirrorStats::rewritten`].
    pub rewritten: u64,
    /// See [`MirrorStats::unchanged`].
    pub unchanged: u64,
    /// See [`MirrorStats::fail_open`].
    pub fail_open: u64,
    /// See [`MirrorStats::duplicates`].
    pub duplicates: u64,
    /// See [`MirrorStats::dropped`].
    pub dropped: u64,
    /// See [`MirrorStats::refused`].
    pub refused: u64,
    /// See [`MirrorStats::hep_refused`].
    pub hep_refused: u64,
    /// See [`MirrorStats::hep_bad`].
    pub hep_bad: u64,
    /// See [`MirrorStats::hep_refusals`]: counts per [`Refusal::ALL`] reason.
    pub hep_refusals: [u64; Refusal::ALL.len()],
    /// See [`MirrorStats::refused_limit`].
    pub refused_limit: u64,
    /// See [`MirrorStats::evicted`].
    pub evicted: u64,
    /// See [`MirrorStats::closed_idle`].
    pub closed_idle: u64,
    /// See [`MirrorStats::closed_write_stalled`].
    pub closed_write_stalled: u64,
    /// Cumulative counts (Prometheus `le` buckets): `(upper bound µs, count)`, the last bound being `u64::MAX`.
    pub latency_cumulative: Vec<(u64, u64)>,
    /// See [`MirrorStats::latency_sum_ns`].
    pub latency_sum_ns: u64,
}

impl MirrorStats {
    /// Records one rewrite latency.
    pub fn observe_latency(&self, d: Duration) {
        let us = d.as_micros();
        let i = LATENCY_BUCKETS_US
            .iter()
            .position(|&b| us <= u128::from(b))
            .unwrap_or(LATENCY_BUCKETS_US.len());
        self.latency_buckets[i].fetch_add(1, Relaxed);
        self.latency_sum_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Copies every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut acc = 0;
        let latency_cumulative = self
            .latency_buckets
            .iter()
            .enumerate()
            .map(|(i, c)| {
                acc += c.load(Relaxed);
                (LATENCY_BUCKETS_US.get(i).copied().unwrap_or(u64::MAX), acc)
            })
            .collect();
        StatsSnapshot {
            connections: self.connections.load(Relaxed),
            refused_handshakes: self.refused_handshakes.load(Relaxed),
            bad_streams: self.bad_streams.load(Relaxed),
            frames: self.frames.load(Relaxed),
            replies: self.replies.load(Relaxed),
            rewritten: self.rewritten.load(Relaxed),
            unchanged: self.unchanged.load(Relaxed),
            fail_open: self.fail_open.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            refused: self.refused.load(Relaxed),
            hep_refused: self.hep_refused.load(Relaxed),
            hep_bad: self.hep_bad.load(Relaxed),
            hep_refusals: std::array::from_fn(|i| self.hep_refusals[i].load(Relaxed)),
            refused_limit: self.refused_limit.load(Relaxed),
            evicted: self.evicted.load(Relaxed),
            closed_idle: self.closed_idle.load(Relaxed),
            closed_write_stalled: self.closed_write_stalled.load(Relaxed),
            latency_cumulative,
            latency_sum_ns: self.latency_sum_ns.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let s = MirrorStats::default();
        s.observe_latency(Duration::from_micros(5));
        s.observe_latency(Duration::from_micros(10));
        s.observe_latency(Duration::from_micros(11));
        s.observe_latency(Duration::from_secs(1));
        let snap = s.snapshot();
        assert_eq!(snap.latency_cumulative[0], (10, 2));
        assert_eq!(snap.latency_cumulative[1], (25, 3));
        assert_eq!(*snap.latency_cumulative.last().unwrap(), (u64::MAX, 4));
        assert_eq!(snap.latency_sum_ns, 1_000_026_000);
    }
}
