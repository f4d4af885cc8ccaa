//! TCP reassembly for signaling: per direction, the payload bytes in sequence order exactly once,
//! despite retransmissions, overlaps and reordering, with bounded buffering.
//!
//! Each direction of a connection is a stream keyed by (source, destination). A stream starts at
//! the SYN (data from `seq + 1`) or, when the capture started mid-connection, at the first segment
//! carrying data. Bytes before the next expected sequence number are trimmed (retransmissions and
//! overlaps: the first copy wins, as in Wireshark's "follow TCP stream"); segments ahead of it wait,
//! up to a per-stream byte budget. When the budget is exceeded the stream skips over the hole and
//! reports a [`TcpEvent::Gap`] so the consumer (a SIP stream framer) can resynchronise. Time is an
//! input: idle streams are closed by [`TcpReassembler::expire`].

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::link::TcpSegment;

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamKey {
    /// Sender of the bytes.
    pub src: SocketAddr,
    /// Receiver of the bytes.
    pub dst: SocketAddr,
}

/// Why a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The sender's FIN was reached in sequence.
    Fin,
    /// A RST was seen.
    Reset,
    /// No segment for longer than the idle timeout.
    Idle,
    /// A SYN with a new initial sequence number reused the addresses.
    Reused,
}

/// What the reassembler tells its consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent<'a> {
    /// The next in-order bytes of a stream.
    Data {
        /// The stream.
        stream: StreamKey,
        /// Bytes, following the previously delivered ones without gap.
        bytes: &'a [u8],
    },
    /// Bytes were lost (never captured, or over the buffer budget): the next data does not follow
    /// the previous data.
    Gap {
        /// The stream.
        stream: StreamKey,
        /// Number of sequence numbers skipped.
        missing: u32,
    },
    /// The stream ended; no more events for it unless a new connection reuses its addresses.
    Closed {
        /// The stream.
        stream: StreamKey,
        /// Why.
        reason: CloseReason,
    },
}

/// Limits of a [`TcpReassembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Most streams (directions) tracked at once. When full, a closed stream is forgotten to make
    /// room; if none is closed, segments of new streams are dropped (and counted).
    pub max_streams: usize,
    /// Most out-of-order bytes buffered per stream before skipping a hole.
    pub max_buffered_per_stream: usize,
    /// Most out-of-order bytes buffered over all streams; beyond it the stream receiving the
    /// segment skips its hole.
    pub max_buffered_total: usize,
    /// Streams without a segment for this long are closed by [`TcpReassembler::expire`].
    pub idle_timeout_micros: u64,
}

impl Default for TcpConfig {
    /// 4096 streams, 256 KiB per stream, 64 MiB in all, 5 minutes idle.
    fn default() -> Self {
        TcpConfig {
            max_streams: 4096,
            max_buffered_per_stream: 256 << 10,
            max_buffered_total: 64 << 20,
            idle_timeout_micros: 300_000_000,
        }
    }
}

/// Counters of a [`TcpReassembler`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Segments pushed.
    pub segments: u64,
    /// Payload bytes delivered in order.
    pub bytes_delivered: u64,
    /// Payload bytes received again (retransmissions, overlaps) and trimmed.
    pub duplicate_bytes: u64,
    /// Segments that arrived ahead of a hole and were buffered.
    pub out_of_order_segments: u64,
    /// Holes skipped.
    pub gaps: u64,
    /// Sequence numbers skipped in holes.
    pub gap_bytes: u64,
    /// Segments dropped because `max_streams` was reached.
    pub dropped_streams_full: u64,
    /// Streams opened.
    pub streams_opened: u64,
    /// Streams closed (FIN, RST, idle, reuse).
    pub streams_closed: u64,
    /// Out-of-order bytes currently buffered over all streams (a gauge, not a counter).
    pub buffered_bytes: usize,
}

#[derive(Debug)]
struct Stream {
    start: u32,
    next: u32,
    last_at: u64,
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    fin_at: Option<u32>,
    closed: bool,
}

/// Reassembles the TCP streams of many connections.
#[derive(Debug)]
pub struct TcpReassembler {
    cfg: TcpConfig,
    streams: HashMap<StreamKey, Stream>,
    stats: TcpStats,
}

/// Signed distance from `b` to `a` in sequence space.
fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

impl TcpReassembler {
    /// A reassembler with the given limits.
    pub fn new(cfg: TcpConfig) -> Self {
        TcpReassembler {
            cfg,
            streams: HashMap::new(),
            stats: TcpStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TcpStats {
        self.stats
    }

    /// Streams currently tracked (including recently closed ones kept to absorb retransmissions).
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Closes and forgets streams idle for longer than the idle timeout at `now_micros`.
    pub fn expire(&mut self, now_micros: u64, mut on: impl FnMut(TcpEvent<'_>)) {
        let timeout = self.cfg.idle_timeout_micros;
        let stats = &mut self.stats;
        self.streams.retain(|key, s| {
            if now_micros.saturating_sub(s.last_at) <= timeout {
                return true;
            }
            stats.buffered_bytes -= s.pending_bytes;
            if !s.closed {
                stats.streams_closed += 1;
                on(TcpEvent::Closed {
                    stream: *key,
                    reason: CloseReason::Idle,
                });
            }
            false
        });
    }

    /// Adds one segment captured at `at_micros`; calls `on` for every resulting event, in order.
    pub fn push(&mut self, at_micros: u64, seg: &TcpSegment<'_>, mut on: impl FnMut(TcpEvent<'_>)) {
        self.stats.segments += 1;
        let key = StreamKey {
            src: seg.src,
            dst: seg.dst,
        };
        let data_seq = if seg.flags.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let cfg = self.cfg;
        let stats = &mut self.stats;
        if !self.streams.contains_key(&key) {
            if seg.flags.rst || (!seg.flags.syn && seg.payload.is_empty()) {
                return;
            }
            if self.streams.len() >= cfg.max_streams {
                // Make room by forgetting a closed stream (kept only to absorb retransmissions).
                let closed = self.streams.iter().find(|(_, s)| s.closed).map(|(k, _)| *k);
                match closed {
                    Some(k) => {
                        self.streams.remove(&k);
                    }
                    None => {
                        stats.dropped_streams_full += 1;
                        return;
                    }
                }
            }
            stats.streams_opened += 1;
            self.streams.insert(key, Stream::new(data_seq, at_micros));
        }
        let Some(s) = self.streams.get_mut(&key) else {
            return;
        };
        s.last_at = at_micros;
        if seg.flags.syn && data_seq != s.start {
            // A new connection on the same addresses (or a SYN for a stream picked up mid-way).
            if !s.closed {
                stats.streams_closed += 1;
                on(TcpEvent::Closed {
                    stream: key,
                    reason: CloseReason::Reused,
                });
            }
            stats.streams_opened += 1;
            stats.buffered_bytes -= s.pending_bytes;
            *s = Stream::new(data_seq, at_micros);
        }
        if s.closed {
            stats.duplicate_bytes += seg.payload.len() as u64;
            return;
        }
        if seg.flags.fin {
            s.fin_at = Some(data_seq.wrapping_add(seg.payload.len() as u32));
        }
        if !seg.payload.is_empty() {
            s.accept(key, data_seq, seg.payload, cfg, stats, &mut on);
        }
        if seg.flags.rst {
            s.close(key, CloseReason::Reset, stats, &mut on);
        } else if s.fin_at == Some(s.next) {
            s.close(key, CloseReason::Fin, stats, &mut on);
        }
    }
}

impl Stream {
    fn new(next: u32, at: u64) -> Self {
        Stream {
            start: next,
            next,
            last_at: at,
            pending: Vec::new(),
            pending_bytes: 0,
            fin_at: None,
            closed: false,
        }
    }

    fn close(
        &mut self,
        key: StreamKey,
        reason: CloseReason,
        stats: &mut TcpStats,
        on: &mut impl FnMut(TcpEvent<'_>),
    ) {
        self.closed = true;
        stats.buffered_bytes -= self.pending_bytes;
        self.pending = Vec::new();
        self.pending_bytes = 0;
        stats.streams_closed += 1;
        on(TcpEvent::Closed {
            stream: key,
            reason,
        });
    }

    /// Delivers `data` (starting at `seq`) if it is at or before `next`, trimming what was seen.
    /// Returns false if it lies entirely ahead of `next`.
    fn deliver(
        &mut self,
        key: StreamKey,
        seq: u32,
        data: &[u8],
        stats: &mut TcpStats,
        on: &mut impl FnMut(TcpEvent<'_>),
    ) -> bool {
        let off = seq_diff(seq, self.next);
        if off > 0 {
            return false;
        }
        let skip = usize::try_from(-off).unwrap_or(usize::MAX);
        if skip >= data.len() {
            stats.duplicate_bytes += data.len() as u64;
            return true;
        }
        stats.duplicate_bytes += skip as u64;
        let fresh = &data[skip..];
        self.next = self.next.wrapping_add(fresh.len() as u32);
        stats.bytes_delivered += fresh.len() as u64;
        on(TcpEvent::Data {
            stream: key,
            bytes: fresh,
        });
        true
    }

    fn drain(&mut self, key: StreamKey, stats: &mut TcpStats, on: &mut impl FnMut(TcpEvent<'_>)) {
        while let Some(i) = self
            .pending
            .iter()
            .position(|(seq, _)| seq_diff(*seq, self.next) <= 0)
        {
            let (seq, data) = self.pending.swap_remove(i);
            self.pending_bytes -= data.len();
            stats.buffered_bytes -= data.len();
            self.deliver(key, seq, &data, stats, on);
        }
    }

    fn accept(
        &mut self,
        key: StreamKey,
        seq: u32,
        data: &[u8],
        cfg: TcpConfig,
        stats: &mut TcpStats,
        on: &mut impl FnMut(TcpEvent<'_>),
    ) {
        if self.deliver(key, seq, data, stats, on) {
            self.drain(key, stats, on);
            return;
        }
        stats.out_of_order_segments += 1;
        self.pending.push((seq, data.to_vec()));
        self.pending_bytes += data.len();
        stats.buffered_bytes += data.len();
        while self.pending_bytes > cfg.max_buffered_per_stream
            || stats.buffered_bytes > cfg.max_buffered_total
        {
            // Skip the hole before the earliest buffered segment.
            let Some(first) = self
                .pending
                .iter()
                .map(|(s, _)| *s)
                .min_by_key(|s| seq_diff(*s, self.next))
            else {
                break;
            };
            let missing = first.wrapping_sub(self.next);
            stats.gaps += 1;
            stats.gap_bytes += u64::from(missing);
            on(TcpEvent::Gap {
                stream: key,
                missing,
            });
            self.next = first;
            self.drain(key, stats, on);
        }
    }
}
