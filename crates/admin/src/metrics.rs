//! The recorder's metrics: a small registry of atomic counters, gauges and histograms (no global state: the
//! daemon creates one [`Metrics`], shares it in an `Arc`, and the admin API renders it at `GET /metrics`) in
//! the Prometheus text exposition format (version 0.0.4).
//!
//! Every update is one or a few relaxed atomic operations: no lock and no allocation, so the packet path
//! may update counters per packet (batching with [`Counter::inc_by`] is cheaper still). Labelled families
//! ([`CounterVec`], [`GaugeVec`]) have a fixed label set given by an enum ([`Label`]), so every series
//! exists from the start (at zero) and rendering never meets an unknown label.
//!
//! The names and their meaning are documented in `docs/metrics.md`; [`Metrics::NAMES`] lists them.

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use rec_catalog::CallStatus;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Raises the count to `total` when `total` is larger (never lowers it): for mirroring a cumulative
    /// count kept elsewhere (the engine's statistics, libpcap's kernel counters) without double counting.
    pub fn set_total(&self, total: u64) {
        self.0.fetch_max(total, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one, never going below zero (a count of things, such as active calls, cannot be negative:
    /// an unmatched decrement is ignored rather than wrapping).
    pub fn dec(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(if v > 0 { v - 1 } else { v })
            });
    }

    /// Adds `d` (may be negative).
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram with fixed bucket upper bounds (cumulative `le` buckets when rendered).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Non-cumulative counts: `buckets[i]` counts observations in `(bounds[i-1], bounds[i]]`; the last one
    /// counts those above every bound.
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    /// Sum of observations as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    /// A histogram with these upper bounds (ascending, finite).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Records one observation (NaN is ignored; negative values count in the first bucket).
    pub fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let i = self.bounds.partition_point(|b| *b < v);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut old = self.sum.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + v).to_bits();
            match self
                .sum
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(cur) => old = cur,
            }
        }
    }

    /// Records a duration in seconds.
    pub fn observe_duration(&self, d: std::time::Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }

    /// The upper bounds.
    pub fn bounds(&self) -> &'static [f64] {
        self.bounds
    }
}

/// A fixed set of label values, one series each.
pub trait Label: Copy + 'static {
    /// The label's name (`reason`).
    const NAME: &'static str;
    /// Every value, in rendering order.
    const ALL: &'static [Self];
    /// Position in [`ALL`](Label::ALL).
    fn index(self) -> usize;
    /// The label value (`unmatched`).
    fn value(self) -> &'static str;
}

/// One counter per value of the label `L`.
#[derive(Debug)]
pub struct CounterVec<L: Label> {
    counters: Box<[Counter]>,
    _label: PhantomData<L>,
}

impl<L: Label> Default for CounterVec<L> {
    fn default() -> Self {
        CounterVec {
            counters: L::ALL.iter().map(|_| Counter::default()).collect(),
            _label: PhantomData,
        }
    }
}

impl<L: Label> CounterVec<L> {
    /// The counter of `label`.
    pub fn with(&self, label: L) -> &Counter {
        &self.counters[label.index()]
    }

    /// Adds `n` to the counter of `label`.
    pub fn inc_by(&self, label: L, n: u64) {
        self.with(label).inc_by(n);
    }

    /// Adds one to the counter of `label`.
    pub fn inc(&self, label: L) {
        self.with(label).inc();
    }

    /// Raises the counter of `label` to `total` (see [`Counter::set_total`]).
    pub fn set_total(&self, label: L, total: u64) {
        self.with(label).set_total(total);
    }

    /// The count of `label`.
    pub fn get(&self, label: L) -> u64 {
        self.with(label).get()
    }
}

/// One gauge per value of the label `L`.
#[derive(Debug)]
pub struct GaugeVec<L: Label> {
    gauges: Box<[Gauge]>,
    _label: PhantomData<L>,
}

impl<L: Label> Default for GaugeVec<L> {
    fn default() -> Self {
        GaugeVec {
            gauges: L::ALL.iter().map(|_| Gauge::default()).collect(),
            _label: PhantomData,
        }
    }
}

impl<L: Label> GaugeVec<L> {
    /// The gauge of `label`.
    pub fn with(&self, label: L) -> &Gauge {
        &self.gauges[label.index()]
    }

    /// Sets the gauge of `label`.
    pub fn set(&self, label: L, v: i64) {
        self.with(label).set(v);
    }

    /// The value of `label`.
    pub fn get(&self, label: L) -> i64 {
        self.with(label).get()
    }
}

/// Why a captured packet was not recorded (`recorder_packets_dropped_total{reason=…}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The frame could not be decoded (truncated, not IP, bad lengths).
    Malformed,
    /// RTP/RTCP-looking UDP that matched no call.
    Unmatched,
    /// Other traffic (non-media UDP, non-SIP TCP, other protocols).
    Ignored,
    /// A malformed TURN/MS-TURN message.
    TurnError,
    /// Dropped by the kernel because the capture buffer was full (libpcap `ps_drop`).
    KernelBuffer,
    /// Dropped by the interface or its driver (libpcap `ps_ifdrop`).
    Interface,
    /// Dropped by the recorder because one of its queues was full.
    QueueFull,
}

impl Label for DropReason {
    const NAME: &'static str = "reason";
    const ALL: &'static [DropReason] = &[
        DropReason::Malformed,
        DropReason::Unmatched,
        DropReason::Ignored,
        DropReason::TurnError,
        DropReason::KernelBuffer,
        DropReason::Interface,
        DropReason::QueueFull,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::Unmatched => "unmatched",
            DropReason::Ignored => "ignored",
            DropReason::TurnError => "turn_error",
            DropReason::KernelBuffer => "kernel_buffer",
            DropReason::Interface => "interface",
            DropReason::QueueFull => "queue_full",
        }
    }
}

/// How far a call pushed out of the full call table had got (`recorder_calls_evicted_total{class=…}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvictClass {
    /// No response to its INVITE at all (what an INVITE flood looks like).
    Unanswered,
    /// A provisional response only.
    Provisional,
    /// An answer or media, not both.
    HalfEstablished,
    /// Not evicted: a new INVITE refused because every tracked call is answered with media (or more trusted).
    Refused,
}

impl Label for EvictClass {
    const NAME: &'static str = "class";
    const ALL: &'static [EvictClass] = &[
        EvictClass::Unanswered,
        EvictClass::Provisional,
        EvictClass::HalfEstablished,
        EvictClass::Refused,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            EvictClass::Unanswered => "unanswered",
            EvictClass::Provisional => "provisional",
            EvictClass::HalfEstablished => "half_established",
            EvictClass::Refused => "refused",
        }
    }
}

/// Why the engine refused what a SIP message asked for (`recorder_signaling_refused_total{reason=…}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalingRefusal {
    /// The message's source ranks below the source that created its call (trust order).
    Untrusted,
    /// The message's source is not in `[engine] trust`.
    SourceNotTrusted,
    /// The message's tags name another dialog than its Call-ID's call.
    ForeignDialog,
    /// An SDP named media addresses or SSRCs another call owns.
    FlowTakeover,
}

impl Label for SignalingRefusal {
    const NAME: &'static str = "reason";
    const ALL: &'static [SignalingRefusal] = &[
        SignalingRefusal::Untrusted,
        SignalingRefusal::SourceNotTrusted,
        SignalingRefusal::ForeignDialog,
        SignalingRefusal::FlowTakeover,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            SignalingRefusal::Untrusted => "untrusted",
            SignalingRefusal::SourceNotTrusted => "source_not_trusted",
            SignalingRefusal::ForeignDialog => "foreign_dialog",
            SignalingRefusal::FlowTakeover => "flow_takeover",
        }
    }
}

/// Why something the recorder had accepted, other than a captured packet, was not kept in full
/// (`recorder_dropped_total{reason=…}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossReason {
    /// Audio chunks or RTP batches of a call not written because the writer queue was full (the call's row ends
    /// `partial` with the reason).
    WriterQueueFull,
    /// Plain HEP messages lost because the engine's queue was full (plain HEP cannot be refused).
    HepQueueFull,
    /// Mirrored messages the signaling journal could not write (they still reached the engine).
    JournalWrite,
    /// Recording files or catalog writes that failed (disk full, permissions; the calls' rows say so).
    StorageWrite,
    /// Admin requests answered without an audit line (health and metrics only; see `recorder_audit_errors_total`).
    AuditWrite,
}

impl Label for LossReason {
    const NAME: &'static str = "reason";
    const ALL: &'static [LossReason] = &[
        LossReason::WriterQueueFull,
        LossReason::HepQueueFull,
        LossReason::JournalWrite,
        LossReason::StorageWrite,
        LossReason::AuditWrite,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            LossReason::WriterQueueFull => "writer_queue_full",
            LossReason::HepQueueFull => "hep_queue_full",
            LossReason::JournalWrite => "journal_write",
            LossReason::StorageWrite => "storage_write",
            LossReason::AuditWrite => "audit_write",
        }
    }
}

/// The recorder's internal queues (`recorder_queue_depth{queue=…}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Captured frames waiting for the engine.
    Capture,
    /// Mirrored SIP messages waiting for the engine.
    Signaling,
    /// Encoded audio and RTP waiting to be written to files.
    Writer,
    /// Catalog writes waiting.
    Catalog,
}

impl Label for Queue {
    const NAME: &'static str = "queue";
    const ALL: &'static [Queue] = &[
        Queue::Capture,
        Queue::Signaling,
        Queue::Writer,
        Queue::Catalog,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            Queue::Capture => "capture",
            Queue::Signaling => "signaling",
            Queue::Writer => "writer",
            Queue::Catalog => "catalog",
        }
    }
}

/// What the mirror did with what it received (`recorder_mirror_events_total{event=…}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorEvent {
    /// Frames received from filters and HEP agents.
    Frames,
    /// Replies sent (rewritten or unchanged).
    Replies,
    /// Replies carrying a rewritten message.
    Rewritten,
    /// Replies saying "unchanged" (any reason).
    Unchanged,
    /// "Unchanged" because no rewrite could be produced in time (fail open).
    FailOpen,
    /// Messages received again after a resend (acknowledged, not forwarded twice).
    Duplicates,
    /// Plain HEP messages lost because the engine's queue was full.
    Dropped,
    /// Filter messages refused (NACK) because the engine's queue was full: the filter keeps and resends them.
    Refused,
    /// TLS handshakes refused (no or untrusted client certificate, subject not allowed).
    RefusedHandshakes,
    /// HEP packets refused (source not allowed).
    HepRefused,
}

impl Label for MirrorEvent {
    const NAME: &'static str = "event";
    const ALL: &'static [MirrorEvent] = &[
        MirrorEvent::Frames,
        MirrorEvent::Replies,
        MirrorEvent::Rewritten,
        MirrorEvent::Unchanged,
        MirrorEvent::FailOpen,
        MirrorEvent::Duplicates,
        MirrorEvent::Dropped,
        MirrorEvent::Refused,
        MirrorEvent::RefusedHandshakes,
        MirrorEvent::HepRefused,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            MirrorEvent::Frames => "frames",
            MirrorEvent::Replies => "replies",
            MirrorEvent::Rewritten => "rewritten",
            MirrorEvent::Unchanged => "unchanged",
            MirrorEvent::FailOpen => "fail_open",
            MirrorEvent::Duplicates => "duplicates",
            MirrorEvent::Dropped => "dropped",
            MirrorEvent::Refused => "refused",
            MirrorEvent::RefusedHandshakes => "refused_handshakes",
            MirrorEvent::HepRefused => "hep_refused",
        }
    }
}

/// `reason` label of `recorder_hep_refused_total`: why a plain HEP packet was refused (the same reasons as
/// `rec_packet::hep_input::Refusal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HepRefusal {
    /// Not a HEP packet.
    NotHep,
    /// Unknown HEP version, family or header length.
    BadVersion,
    /// Shorter than its headers or announced length.
    Truncated,
    /// A HEPv3 chunk with a bad length or size.
    BadChunk,
    /// No SIP message in it.
    NotSip,
    /// Source address not in `hep_sources`.
    SourceNotAllowed,
    /// A compressed payload that does not decompress.
    DecompressFailed,
}

impl Label for HepRefusal {
    const NAME: &'static str = "reason";
    const ALL: &'static [HepRefusal] = &[
        HepRefusal::NotHep,
        HepRefusal::BadVersion,
        HepRefusal::Truncated,
        HepRefusal::BadChunk,
        HepRefusal::NotSip,
        HepRefusal::SourceNotAllowed,
        HepRefusal::DecompressFailed,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn value(self) -> &'static str {
        match self {
            HepRefusal::NotHep => "not_hep",
            HepRefusal::BadVersion => "bad_version",
            HepRefusal::Truncated => "truncated",
            HepRefusal::BadChunk => "bad_chunk",
            HepRefusal::NotSip => "not_sip",
            HepRefusal::SourceNotAllowed => "source_not_allowed",
            HepRefusal::DecompressFailed => "decompress_failed",
        }
    }
}

impl Label for CallStatus {
    const NAME: &'static str = "status";
    const ALL: &'static [CallStatus] = &CallStatus::ALL;

    fn index(self) -> usize {
        CallStatus::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or_default()
    }

    fn value(self) -> &'static str {
        self.as_str()
    }
}

/// Upper bounds of `recorder_rewrite_latency_seconds`: 50 µs to 1 s, dense around the 1 ms goal.
pub const REWRITE_LATENCY_BOUNDS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Every metric of the recorder. Create one, share it (`Arc<Metrics>`), update the fields.
#[derive(Debug)]
pub struct Metrics {
    /// `recorder_calls_active`: calls being tracked now.
    pub calls_active: Gauge,
    /// `recorder_calls_total`: calls started since the recorder started.
    pub calls_total: Counter,
    /// `recorder_calls_ended_total{status}`: calls ended, by final catalog status.
    pub calls_ended: CounterVec<CallStatus>,
    /// `recorder_sip_messages_total`: SIP messages received from the mirror.
    pub sip_messages: Counter,
    /// `recorder_packets_captured_total`: frames captured (handed to the engine).
    pub packets_captured: Counter,
    /// `recorder_packets_matched_total`: RTP/RTCP packets that belonged to a call.
    pub packets_matched: Counter,
    /// `recorder_packets_dropped_total{reason}`: packets not recorded, by reason.
    pub packets_dropped: CounterVec<DropReason>,
    /// `recorder_decrypt_failures_total`: SRTP/SRTCP packets that failed authentication or decryption.
    pub decrypt_failures: Counter,
    /// `recorder_rewrite_latency_seconds`: time the relay-forcing rewrite of one mirrored message took.
    pub rewrite_latency: Histogram,
    /// `recorder_bytes_written_total`: bytes written to recording files.
    pub bytes_written: Counter,
    /// `recorder_queue_depth{queue}`: items waiting in each internal queue.
    pub queue_depth: GaugeVec<Queue>,
    /// `recorder_mirror_events_total{event}`: what the mirror did, fail-open answers included.
    pub mirror_events: CounterVec<MirrorEvent>,
    /// `recorder_hep_refused_total{reason}`: plain HEP packets refused, by reason.
    pub hep_refused: CounterVec<HepRefusal>,
    /// `recorder_calls_evicted_total{class}`: calls pushed out of the full call table (and INVITEs refused).
    pub calls_evicted: CounterVec<EvictClass>,
    /// `recorder_signaling_refused_total{reason}`: SIP the trust order or flow ownership kept from a call.
    pub signaling_refused: CounterVec<SignalingRefusal>,
    /// `recorder_dropped_total{reason}`: accepted data (other than captured packets) not kept in full, by reason.
    pub dropped: CounterVec<LossReason>,
    /// `recorder_audit_errors_total`: admin requests whose audit line could not be written.
    pub audit_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// How a family is written.
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Metrics {
    /// Every metric family name, as rendered (histograms add `_bucket`, `_sum`, `_count`).
    pub const NAMES: &'static [&'static str] = &[
        "recorder_calls_active",
        "recorder_calls_total",
        "recorder_calls_ended_total",
        "recorder_sip_messages_total",
        "recorder_packets_captured_total",
        "recorder_packets_matched_total",
        "recorder_packets_dropped_total",
        "recorder_decrypt_failures_total",
        "recorder_rewrite_latency_seconds",
        "recorder_bytes_written_total",
        "recorder_queue_depth",
        "recorder_mirror_events_total",
        "recorder_hep_refused_total",
        "recorder_calls_evicted_total",
        "recorder_signaling_refused_total",
        "recorder_dropped_total",
        "recorder_audit_errors_total",
    ];

    /// The `Content-Type` of [`render`](Metrics::render)'s output.
    pub const CONTENT_TYPE: &'static str = "text/plain; version=0.0.4; charset=utf-8";

    /// All metrics at zero.
    pub fn new() -> Metrics {
        Metrics {
            calls_active: Gauge::default(),
            calls_total: Counter::default(),
            calls_ended: CounterVec::default(),
            sip_messages: Counter::default(),
            packets_captured: Counter::default(),
            packets_matched: Counter::default(),
            packets_dropped: CounterVec::default(),
            decrypt_failures: Counter::default(),
            rewrite_latency: Histogram::new(REWRITE_LATENCY_BOUNDS),
            bytes_written: Counter::default(),
            queue_depth: GaugeVec::default(),
            mirror_events: CounterVec::default(),
            hep_refused: CounterVec::default(),
            calls_evicted: CounterVec::default(),
            signaling_refused: CounterVec::default(),
            dropped: CounterVec::default(),
            audit_errors: Counter::default(),
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let head = |out: &mut String, name: &str, kind: Kind, help: &str| {
            let kind = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
            };
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
        };
        let scalar = |out: &mut String, name: &str, v: &dyn std::fmt::Display| {
            let _ = writeln!(out, "{name} {v}");
        };
        fn labelled<L: Label>(out: &mut String, name: &str, get: impl Fn(L) -> String) {
            for l in L::ALL {
                let _ = writeln!(out, "{name}{{{}=\"{}\"}} {}", L::NAME, l.value(), get(*l));
            }
        }

        head(
            &mut out,
            "recorder_calls_active",
            Kind::Gauge,
            "Calls being tracked now.",
        );
        scalar(&mut out, "recorder_calls_active", &self.calls_active.get());
        head(
            &mut out,
            "recorder_calls_total",
            Kind::Counter,
            "Calls started since the recorder started.",
        );
        scalar(&mut out, "recorder_calls_total", &self.calls_total.get());
        head(
            &mut out,
            "recorder_calls_ended_total",
            Kind::Counter,
            "Calls ended, by final recording status.",
        );
        labelled::<CallStatus>(&mut out, "recorder_calls_ended_total", |l| {
            self.calls_ended.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_sip_messages_total",
            Kind::Counter,
            "SIP messages received from the mirror.",
        );
        scalar(
            &mut out,
            "recorder_sip_messages_total",
            &self.sip_messages.get(),
        );
        head(
            &mut out,
            "recorder_packets_captured_total",
            Kind::Counter,
            "Frames captured and handed to the engine.",
        );
        scalar(
            &mut out,
            "recorder_packets_captured_total",
            &self.packets_captured.get(),
        );
        head(
            &mut out,
            "recorder_packets_matched_total",
            Kind::Counter,
            "RTP/RTCP packets that belonged to a call.",
        );
        scalar(
            &mut out,
            "recorder_packets_matched_total",
            &self.packets_matched.get(),
        );
        head(
            &mut out,
            "recorder_packets_dropped_total",
            Kind::Counter,
            "Packets not recorded, by reason.",
        );
        labelled::<DropReason>(&mut out, "recorder_packets_dropped_total", |l| {
            self.packets_dropped.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_decrypt_failures_total",
            Kind::Counter,
            "SRTP/SRTCP packets that failed authentication or decryption.",
        );
        scalar(
            &mut out,
            "recorder_decrypt_failures_total",
            &self.decrypt_failures.get(),
        );
        head(
            &mut out,
            "recorder_rewrite_latency_seconds",
            Kind::Histogram,
            "Time the relay-forcing rewrite of one mirrored message took, seconds.",
        );
        let h = &self.rewrite_latency;
        let mut cumulative = 0u64;
        for (i, bound) in h.bounds.iter().enumerate() {
            cumulative += h.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "recorder_rewrite_latency_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += h.buckets[h.bounds.len()].load(Ordering::Relaxed);
        // +Inf is the total of the buckets read above, so the rendering is self-consistent even while
        // observations race with it (the separate count may then be a little ahead)
        let _ = writeln!(
            out,
            "recorder_rewrite_latency_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(out, "recorder_rewrite_latency_seconds_sum {}", h.sum());
        let _ = writeln!(out, "recorder_rewrite_latency_seconds_count {cumulative}");
        head(
            &mut out,
            "recorder_bytes_written_total",
            Kind::Counter,
            "Bytes written to recording files.",
        );
        scalar(
            &mut out,
            "recorder_bytes_written_total",
            &self.bytes_written.get(),
        );
        head(
            &mut out,
            "recorder_queue_depth",
            Kind::Gauge,
            "Items waiting in each internal queue.",
        );
        labelled::<Queue>(&mut out, "recorder_queue_depth", |l| {
            self.queue_depth.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_mirror_events_total",
            Kind::Counter,
            "What the mirror did with what it received (fail_open: answered unchanged for lack of time).",
        );
        labelled::<MirrorEvent>(&mut out, "recorder_mirror_events_total", |l| {
            self.mirror_events.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_hep_refused_total",
            Kind::Counter,
            "Plain HEP packets refused, by reason.",
        );
        labelled::<HepRefusal>(&mut out, "recorder_hep_refused_total", |l| {
            self.hep_refused.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_calls_evicted_total",
            Kind::Counter,
            "Calls pushed out of the full call table by class, and INVITEs refused at the bound.",
        );
        labelled::<EvictClass>(&mut out, "recorder_calls_evicted_total", |l| {
            self.calls_evicted.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_signaling_refused_total",
            Kind::Counter,
            "SIP kept from changing a call by the trust order or flow ownership, by reason.",
        );
        labelled::<SignalingRefusal>(&mut out, "recorder_signaling_refused_total", |l| {
            self.signaling_refused.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_dropped_total",
            Kind::Counter,
            "Accepted data other than captured packets not kept in full, by reason.",
        );
        labelled::<LossReason>(&mut out, "recorder_dropped_total", |l| {
            self.dropped.get(l).to_string()
        });
        head(
            &mut out,
            "recorder_audit_errors_total",
            Kind::Counter,
            "Admin requests whose audit line could not be written.",
        );
        scalar(
            &mut out,
            "recorder_audit_errors_total",
            &self.audit_errors.get(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A strict reader of the Prometheus text format 0.0.4 (what `promtool check metrics` checks about
    /// syntax): returns each family's type and its samples `(name, labels, value)`.
    type Samples = Vec<(String, Vec<(String, String)>, f64)>;

    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn parse_value(s: &str) -> Result<f64, String> {
        match s {
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            _ => s.parse::<f64>().map_err(|e| format!("value {s:?}: {e}")),
        }
    }

    fn parse(text: &str) -> Result<(HashMap<String, String>, Samples), String> {
        let mut types = HashMap::new();
        let mut helps = HashMap::new();
        let mut samples = Vec::new();
        if !text.ends_with('\n') {
            return Err("no final newline".into());
        }
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# ") {
                let mut parts = rest.splitn(3, ' ');
                let (kw, name, tail) = (parts.next(), parts.next(), parts.next());
                let name = name.ok_or(format!("bad comment {line:?}"))?;
                if !is_name(name) {
                    return Err(format!("bad name in {line:?}"));
                }
                match (kw, tail) {
                    (Some("TYPE"), Some(t))
                        if ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t) =>
                    {
                        if types.insert(name.to_owned(), t.to_owned()).is_some() {
                            return Err(format!("second TYPE for {name}"));
                        }
                        if samples
                            .iter()
                            .any(|(n, _, _): &(String, _, _)| n.starts_with(name))
                        {
                            return Err(format!("TYPE after samples for {name}"));
                        }
                    }
                    (Some("HELP"), Some(_)) => {
                        if helps.insert(name.to_owned(), ()).is_some() {
                            return Err(format!("second HELP for {name}"));
                        }
                    }
                    _ => return Err(format!("bad comment {line:?}")),
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                return Err(format!("unexpected line {line:?}"));
            }
            let (series, value) = line.rsplit_once(' ').ok_or(format!("no value {line:?}"))?;
            let value = parse_value(value)?;
            let (name, labels) = match series.split_once('{') {
                None => (series, Vec::new()),
                Some((name, rest)) => {
                    let inner = rest
                        .strip_suffix('}')
                        .ok_or(format!("unclosed labels {line:?}"))?;
                    let mut labels = Vec::new();
                    for pair in inner.split(',').filter(|p| !p.is_empty()) {
                        let (k, v) = pair.split_once('=').ok_or(format!("label {pair:?}"))?;
                        let v = v
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .ok_or(format!("unquoted label value {pair:?}"))?;
                        if !is_name(k) || v.contains(['"', '\\', '\n']) {
                            return Err(format!("bad label {pair:?}"));
                        }
                        labels.push((k.to_owned(), v.to_owned()));
                    }
                    (name, labels)
                }
            };
            if !is_name(name) {
                return Err(format!("bad metric name {name:?}"));
            }
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            if !types.contains_key(family) {
                return Err(format!("sample {name} before its TYPE"));
            }
            samples.push((name.to_owned(), labels, value));
        }
        Ok((types, samples))
    }

    #[test]
    fn exposition_parses_and_carries_the_values() {
        let m = Metrics::new();
        m.calls_active.set(3);
        m.calls_total.inc_by(10);
        m.calls_ended.inc(CallStatus::Complete);
        m.calls_ended.inc_by(CallStatus::NoMedia, 2);
        m.packets_captured.set_total(1000);
        m.packets_captured.set_total(900); // never goes down
        m.packets_matched.inc_by(700);
        m.packets_dropped.inc_by(DropReason::Unmatched, 250);
        m.packets_dropped.set_total(DropReason::KernelBuffer, 5);
        m.decrypt_failures.inc();
        m.bytes_written.inc_by(123_456);
        m.queue_depth.set(Queue::Writer, 7);
        for v in [0.00003, 0.0007, 0.0007, 0.002, 3.0] {
            m.rewrite_latency.observe(v);
        }
        m.rewrite_latency.observe(f64::NAN);
        let text = m.render();
        let (types, samples) = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for name in Metrics::NAMES {
            assert!(types.contains_key(*name), "{name} missing\n{text}");
        }
        assert_eq!(types.len(), Metrics::NAMES.len());
        let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
            let hits: Vec<f64> = samples
                .iter()
                .filter(|(n, l, _)| {
                    n == name
                        && l.len() == labels.len()
                        && labels
                            .iter()
                            .all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
                })
                .map(|s| s.2)
                .collect();
            assert_eq!(hits.len(), 1, "{name} {labels:?}\n{text}");
            hits[0]
        };
        assert_eq!(value("recorder_calls_active", &[]), 3.0);
        assert_eq!(value("recorder_calls_total", &[]), 10.0);
        assert_eq!(
            value("recorder_calls_ended_total", &[("status", "complete")]),
            1.0
        );
        assert_eq!(
            value("recorder_calls_ended_total", &[("status", "no_media")]),
            2.0
        );
        assert_eq!(
            value("recorder_calls_ended_total", &[("status", "failed")]),
            0.0
        );
        assert_eq!(value("recorder_packets_captured_total", &[]), 1000.0);
        assert_eq!(value("recorder_packets_matched_total", &[]), 700.0);
        assert_eq!(
            value("recorder_packets_dropped_total", &[("reason", "unmatched")]),
            250.0
        );
        assert_eq!(
            value(
                "recorder_packets_dropped_total",
                &[("reason", "kernel_buffer")]
            ),
            5.0
        );
        assert_eq!(value("recorder_decrypt_failures_total", &[]), 1.0);
        assert_eq!(value("recorder_bytes_written_total", &[]), 123_456.0);
        assert_eq!(value("recorder_queue_depth", &[("queue", "writer")]), 7.0);
        assert_eq!(value("recorder_queue_depth", &[("queue", "capture")]), 0.0);
        // histogram: cumulative buckets ending in +Inf == count, sum of the observations
        let b = |le: &str| value("recorder_rewrite_latency_seconds_bucket", &[("le", le)]);
        assert_eq!(b("0.00005"), 1.0);
        assert_eq!(b("0.0005"), 1.0);
        assert_eq!(b("0.001"), 3.0);
        assert_eq!(b("0.0025"), 4.0);
        assert_eq!(b("1"), 4.0);
        assert_eq!(b("+Inf"), 5.0);
        assert_eq!(value("recorder_rewrite_latency_seconds_count", &[]), 5.0);
        let sum = value("recorder_rewrite_latency_seconds_sum", &[]);
        assert!((sum - 3.00343).abs() < 1e-9, "{sum}");
        let buckets: Vec<f64> = samples
            .iter()
            .filter(|s| s.0 == "recorder_rewrite_latency_seconds_bucket")
            .map(|s| s.2)
            .collect();
        assert_eq!(buckets.len(), REWRITE_LATENCY_BOUNDS.len() + 1);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_reader_rejects_what_prometheus_rejects() {
        for bad in [
            "# TYPE a counter\na 1",              // no final newline
            "a 1\n",                              // sample before TYPE
            "# TYPE a counter\na{b=c} 1\n",       // unquoted label
            "# TYPE a counter\na one\n",          // bad value
            "# TYPE 1a counter\n",                // bad name
            "# TYPE a counter\n# TYPE a gauge\n", // duplicate TYPE
            "# TYPE a widget\n",                  // unknown type
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn labels_are_documented_names() {
        for l in DropReason::ALL {
            assert_eq!(DropReason::ALL[l.index()], *l);
        }
        for l in Queue::ALL {
            assert_eq!(Queue::ALL[l.index()], *l);
        }
        for l in <CallStatus as Label>::ALL {
            assert_eq!(<CallStatus as Label>::ALL[l.index()], *l);
        }
    }

    #[test]
    fn docs_list_every_metric_and_label_value() {
        let doc = include_str!("../../../docs/metrics.md");
        for name in Metrics::NAMES {
            assert!(
                doc.contains(&format!("`{name}`")),
                "docs/metrics.md lacks {name}"
            );
        }
        for l in DropReason::ALL {
            assert!(doc.contains(&format!("`{}`", l.value())), "{:?}", l);
        }
        for l in MirrorEvent::ALL {
            assert!(doc.contains(&format!("`{}`", l.value())), "{:?}", l);
        }
        for l in Queue::ALL {
            assert!(doc.contains(&format!("`{}`", l.value())), "{:?}", l);
        }
        for l in EvictClass::ALL {
            assert!(doc.contains(&format!("`{}`", l.value())), "{:?}", l);
        }
        for l in SignalingRefusal::ALL {
            assert!(doc.contains(&format!("`{}`", l.value())), "{:?}", l);
        }
        for l in LossReason::ALL {
            assert!(doc.contains(&format!("`{}`", l.value())), "{:?}", l);
        }
    }

    #[test]
    fn gauges_never_go_below_zero_on_decrement() {
        let g = Gauge::default();
        g.inc();
        g.dec();
        g.dec();
        assert_eq!(g.get(), 0);
        for l in LossReason::ALL {
            assert_eq!(LossReason::ALL[l.index()], *l);
        }
    }
}
