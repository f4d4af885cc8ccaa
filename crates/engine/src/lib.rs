//! The recorder's state machine, sans-IO: SIP messages, captured frames and timeouts go in with their
//! capture times; call events, encoded audio and reports come out. It never reads a clock, a file or a
//! socket, so the daemon and `recorder replay` drive it the same way and a replay is deterministic.
//!
//! Shape (as str0m's `Rtc`): [`Engine::handle_input`] takes one [`Input`], [`Engine::poll_output`] yields
//! the [`Output`]s it produced.
//!
//! * Signaling: dialogs by Call-ID; the caller is the sender of the initial INVITE. Every SDP (INVITE, 18x,
//!   200, ACK, re-INVITE, UPDATE, each multipart part) adds its sender's addresses (m=/c=, a=rtcp, every
//!   candidate of both ICE formats), payload types, `x-ssrc-range` and SRTP keys to the call.
//! * Media: frames are decoded (L2–L4, IP fragments), TURN / MS-TURN is unwrapped keeping the real peer, the
//!   flow is looked up by address (source, then destination, then SSRC), decrypted in place with the sending
//!   side's keys, counted (copies seen on both legs of a relay are counted once) and decoded into the call's
//!   mixer; undecodable streams are kept as decrypted RTP.
//! * A call ends on BYE ([`BYE_LINGER_US`] later, for media captured after the BYE), CANCEL, a final failure,
//!   a timeout or [`Engine::finish`], always with a report.

mod call;
mod config;
mod dialog;
mod evict;
mod flows;
mod keys;
mod media;
mod recording;
mod report;
mod signaling;
mod trust;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use rec_packet::defrag::Defragmenter;
use rec_packet::{LinkType, TurnTracker};
use rec_rewrite::{Policy, RuleError};

pub use config::{AudioFormat, EngineConfig, ManualKey, SipTcpLimits};
pub use recording::{AudioChunk, RtpBatch};
pub use report::{CallMeta, CallReport, CallStatus, DtmfRecord, Party, Side, StreamReport};
pub use trust::SipOrigin;

use call::Call;
use flows::FlowTable;
use signaling::TcpSip;

/// How long a call stays open after its BYE (capture time) so that media sent before the BYE but captured
/// after it (network delay, jitter, reordering, a second path to the SPAN port) is still counted and recorded.
pub const BYE_LINGER_US: i64 = 500_000;

/// Identifies a call for the lifetime of the engine (Call-IDs can repeat).
pub type CallHandle = u64;

/// Where a SIP message handed to the engine came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SipMeta {
    /// Sender address, when known.
    pub src: Option<SocketAddr>,
    /// Receiver address, when known.
    pub dst: Option<SocketAddr>,
    /// Which source handed the message in: decides what it may change (see [`EngineConfig::trust`]).
    pub origin: SipOrigin,
}

/// One input. Times are capture (or receive) times in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A SIP message (from the mirror, a journal or a trace log).
    Sip {
        /// Receive time.
        at_us: i64,
        /// Addresses.
        meta: SipMeta,
        /// The whole message.
        bytes: &'a [u8],
    },
    /// A captured frame; SIP and HEP found in it are handled as signaling.
    Packet {
        /// Capture time.
        at_us: i64,
        /// Link type of the capture.
        link: LinkType,
        /// The frame from its link-layer header on.
        frame: &'a [u8],
    },
    /// Time has passed (call it every ~100 ms of capture time): timers run, held audio is flushed.
    Timeout {
        /// Current capture time.
        at_us: i64,
    },
}

/// What the engine produced.
#[derive(Debug, Clone)]
pub enum Output {
    /// A call to be recorded started (initial INVITE seen, or the first packet of a stream recorded on its own).
    CallStarted {
        /// The call.
        call: CallHandle,
        /// Metadata so far.
        meta: Box<CallMeta>,
    },
    /// Metadata of a running call changed (answered, transfer).
    CallUpdated {
        /// The call.
        call: CallHandle,
        /// Metadata now.
        meta: Box<CallMeta>,
    },
    /// Encoded audio for the call's file.
    Audio {
        /// The call.
        call: CallHandle,
        /// Bytes to append (and header patch).
        chunk: AudioChunk,
    },
    /// Decrypted RTP of streams whose codec cannot be decoded, to be kept beside the recording.
    Rtp {
        /// The call.
        call: CallHandle,
        /// The packets.
        batch: RtpBatch,
    },
    /// The call ended; no further output for it.
    CallEnded {
        /// The call.
        call: CallHandle,
        /// The final account.
        report: Box<CallReport>,
    },
}

/// Engine-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Frames handed in.
    pub frames: u64,
    /// Frames that could not be decoded (truncated, not IP, ...).
    pub malformed_frames: u64,
    /// SIP messages handled.
    pub sip_messages: u64,
    /// SIP messages that did not parse (or had no Call-ID).
    pub sip_errors: u64,
    /// RTP/RTCP packets that belonged to a call.
    pub media_matched: u64,
    /// UDP payloads that looked like RTP/RTCP but matched no call.
    pub media_unmatched: u64,
    /// RTP packets of calls that did not authenticate with any key.
    pub decrypt_failures: u64,
    /// Other traffic ignored (non-media UDP, non-SIP TCP, other protocols).
    pub ignored: u64,
    /// TURN packets that were malformed.
    pub turn_errors: u64,
    /// Calls started.
    pub calls_started: u64,
    /// Calls ended.
    pub calls_ended: u64,
    /// INVITEs ignored because `max_calls` calls were active.
    pub calls_refused: u64,
    /// Calls not recorded because of the policy.
    pub calls_not_recorded: u64,
    /// Calls pushed out of a full call table that had had no response at all (eviction class 0).
    pub evicted_unanswered: u64,
    /// Calls pushed out of a full call table that had a provisional response only (class 1).
    pub evicted_provisional: u64,
    /// Calls pushed out of a full call table that had an answer or media but not both (class 2).
    pub evicted_half_established: u64,
    /// SIP messages ignored because their source ranks below the source that created their call.
    pub sip_untrusted: u64,
    /// SIP messages ignored because their source is not in the trust list at all.
    pub sip_origin_refused: u64,
    /// SIP messages of a call whose tags name another dialog (their SDP and requests are ignored).
    pub sip_foreign_dialog: u64,
    /// Media addresses or SSRCs another call's SDP tried to take from the call that owns them (refused).
    pub flow_takeovers_refused: u64,
    /// Media addresses or SSRCs not registered because the call already has the most it may hold.
    pub flow_entries_over_cap: u64,
    /// SIP-over-TCP connections dropped at a bound (streams, message size, buffered bytes).
    pub sip_streams_dropped: u64,
}

/// The recorder's core. See the crate documentation.
pub struct Engine {
    cfg: EngineConfig,
    policy: Policy,
    country_code: Option<String>,
    calls: HashMap<CallHandle, Call>,
    by_call_id: HashMap<String, CallHandle>,
    next_handle: CallHandle,
    flows: FlowTable,
    trust: trust::TrustOrder,
    evict: evict::EvictionIndex,
    turn: TurnTracker,
    defrag: Defragmenter,
    tcp_sip: TcpSip,
    outputs: VecDeque<Output>,
    stats: EngineStats,
    scratch: Vec<u8>,
    found_sip: Vec<signaling::FoundSip>,
    now_us: i64,
    last_sweep_us: i64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("calls", &self.calls.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with `cfg`; fails when a policy rule is not understood.
    pub fn new(cfg: EngineConfig) -> Result<Engine, RuleError> {
        let policy = Policy::new(&cfg.policy)?;
        let cc = cfg.policy.country_code.trim().trim_start_matches('+');
        let country_code = (!cc.is_empty()).then(|| cc.to_owned());
        Ok(Engine {
            policy,
            country_code,
            calls: HashMap::new(),
            by_call_id: HashMap::new(),
            next_handle: 1,
            flows: FlowTable::default(),
            trust: trust::TrustOrder::new(&cfg.trust),
            evict: evict::EvictionIndex::default(),
            turn: TurnTracker::default(),
            defrag: Defragmenter::new(cfg.defrag),
            tcp_sip: TcpSip::new(&cfg.sip_tcp),
            outputs: VecDeque::new(),
            stats: EngineStats::default(),
            scratch: Vec::with_capacity(2048),
            found_sip: Vec::new(),
            now_us: i64::MIN,
            last_sweep_us: i64::MIN,
            cfg,
        })
    }

    /// Replaces the recording policy (configuration reload): calls that start from now on are decided by
    /// `policy`; calls already running keep the decision they got. On an error the old policy stays.
    pub fn set_policy(&mut self, policy: &rec_rewrite::PolicyConfig) -> Result<(), RuleError> {
        self.policy = Policy::new(policy)?;
        let cc = policy.country_code.trim().trim_start_matches('+');
        self.country_code = (!cc.is_empty()).then(|| cc.to_owned());
        self.cfg.policy = policy.clone();
        Ok(())
    }

    /// Handles one input; its outputs are queued for [`Engine::poll_output`].
    pub fn handle_input(&mut self, input: Input<'_>) {
        match input {
            Input::Sip { at_us, meta, bytes } => {
                self.tick(at_us);
                self.on_sip(at_us, meta, bytes);
            }
            Input::Packet { at_us, link, frame } => {
                self.tick(at_us);
                self.on_frame(at_us, link, frame);
            }
            Input::Timeout { at_us } => {
                self.tick(at_us);
                self.sweep(at_us);
            }
        }
    }

    /// The next queued output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        let mut s = self.stats;
        s.sip_streams_dropped = self.tcp_sip.dropped;
        s
    }

    /// Calls being tracked (recorded or not).
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Ends every call at `at_us` (end of the capture, shutdown) as partial, "input ended".
    pub fn finish(&mut self, at_us: i64) {
        let mut handles: Vec<CallHandle> = self.calls.keys().copied().collect();
        handles.sort_unstable();
        for h in handles {
            match self.calls.get_mut(&h).and_then(|c| c.closing.take()) {
                Some((bye_us, reason)) => self.end_call(h, bye_us, &reason, false),
                None => self.end_call(h, at_us, "input ended before the call did", true),
            }
        }
    }

    fn tick(&mut self, at_us: i64) {
        if at_us > self.now_us {
            self.now_us = at_us;
        }
    }

    /// Timers: flush audio of quiet calls, end calls past their timeouts, expire reassembly state.
    fn sweep(&mut self, now_us: i64) {
        if self.last_sweep_us != i64::MIN && now_us - self.last_sweep_us < 50_000 {
            return;
        }
        self.last_sweep_us = now_us;
        let mut ended = Vec::new();
        let mut closed = Vec::new();
        for (h, call) in &mut self.calls {
            if call
                .closing
                .as_ref()
                .is_some_and(|(bye_us, _)| now_us - bye_us >= BYE_LINGER_US)
            {
                closed.push(*h);
                continue;
            }
            let idle = now_us - call.last_activity_us;
            let limit = if call.answered || call.first_media_us.is_some() {
                self.cfg.media_timeout_us
            } else {
                self.cfg.setup_timeout_us
            };
            if idle > limit {
                ended.push(*h);
                continue;
            }
            media::advance_call(call, &self.cfg, now_us, &mut self.outputs);
        }
        closed.sort_unstable();
        for h in closed {
            if let Some((bye_us, reason)) = self.calls.get_mut(&h).and_then(|c| c.closing.take()) {
                self.end_call(h, bye_us, &reason, false);
            }
        }
        ended.sort_unstable();
        for h in ended {
            let reason = if self
                .calls
                .get(&h)
                .is_some_and(|c| c.answered || c.first_media_us.is_some())
            {
                "media timeout"
            } else {
                "setup timeout"
            };
            let at = self.calls.get(&h).map_or(now_us, |c| c.last_activity_us);
            self.end_call(h, at, reason, true);
        }
        self.defrag.expire(u64::try_from(now_us).unwrap_or(0));
        self.tcp_sip.expire(now_us);
    }
}

/// Timer inputs for a shell driven by capture time (a replay): the engine's timers run every
/// [`CaptureTimers::TICK_US`] of capture time, and once at the new time after a jump of more than
/// [`CaptureTimers::MAX_GAP_US`] (files from different days, clock steps) instead of once per tick in between.
/// The daemon runs them by its own clock instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureTimers {
    next_us: Option<i64>,
}

impl CaptureTimers {
    /// Capture time between two timer runs.
    pub const TICK_US: i64 = 100_000;
    /// A capture-time jump larger than this runs the timers once instead of tick by tick.
    pub const MAX_GAP_US: i64 = 10_000_000;

    /// No timer run yet: the first input sets the schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the timers of `engine` that are due before an input captured at `at_us`.
    pub fn before(&mut self, engine: &mut Engine, at_us: i64) {
        let next = match self.next_us {
            Some(n) if (at_us - n).abs() <= Self::MAX_GAP_US => n,
            Some(_) => {
                engine.handle_input(Input::Timeout { at_us });
                at_us + Self::TICK_US
            }
            None => at_us + Self::TICK_US,
        };
        let mut next = next;
        while at_us >= next {
            engine.handle_input(Input::Timeout { at_us: next });
            next += Self::TICK_US;
        }
        self.next_us = Some(next);
    }
}
