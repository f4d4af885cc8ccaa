//! Many calls merged into one capture-time-ordered stream of frames, and the manifest.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::call::{CallGen, CallOptions, CallTimes, Frame, StreamStats};
use crate::codec::{Codec, SignalTables};
use crate::plan::{CallPlan, Topology};
use crate::signal::Direction;

/// 2026-01-01T00:00:00Z, the default capture start.
pub const DEFAULT_START_UNIX_US: u64 = 1_767_225_600_000_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Number of calls.
    pub calls: u32,
    /// Start of call `i` = `start_unix_us + i * stagger_us`.
    pub stagger_us: u64,
    /// PRNG seed: same seed, same bytes.
    pub seed: u64,
    /// Capture start, µs since the Unix epoch.
    pub start_unix_us: u64,
    /// Options of every call.
    pub call: CallOptions,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            calls: 1,
            stagger_us: 50_000,
            seed: 1,
            start_unix_us: DEFAULT_START_UNIX_US,
            call: CallOptions::default(),
        }
    }
}

impl GenConfig {
    /// The default stagger for `calls` calls of `duration_ms`: all calls start within the first tenth
    /// of a call's duration, at most 1 s apart and at least 1 ms apart.
    pub fn default_stagger_us(calls: u32, duration_ms: u64) -> u64 {
        (duration_ms * 100 / u64::from(calls.max(1))).clamp(1_000, 1_000_000)
    }
}

/// One direction of a call in the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamReport {
    /// Direction.
    pub direction: Direction,
    /// SSRCs in order of use.
    pub ssrcs: Vec<u32>,
    /// SDES keys in order of use (`inline:…|2^31|1:1`, or `inline:…` for plain calls).
    pub keys: Vec<String>,
    /// The `--key` form of the keys for `recorder replay` (`ssrc=0x…,suite=…,inline=…`), per SSRC and key.
    pub replay_keys: Vec<String>,
    /// First RTP sequence number per SSRC.
    pub first_seqs: Vec<u16>,
    /// Counters.
    #[serde(flatten)]
    pub stats: StreamStats,
}

/// One call in the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallReport {
    /// Index in the capture.
    pub index: u32,
    /// SIP Call-ID.
    pub call_id: String,
    /// `Ms-Conversation-ID`.
    pub conversation_id: String,
    /// Caller URI.
    pub from: String,
    /// Callee URI.
    pub to: String,
    /// Caller display name.
    pub from_name: String,
    /// Callee display name.
    pub to_name: String,
    /// Topology.
    pub topology: Topology,
    /// Codec.
    pub codec: Codec,
    /// RTP payload type of the codec.
    pub payload_type: u8,
    /// Caller's signaling socket.
    pub caller_sip: String,
    /// Caller's media address on the wire (relay for Edge calls).
    pub caller_media: String,
    /// Caller's host candidate.
    pub caller_host: String,
    /// Caller's TURN socket (internal side of the Edge), if relayed.
    pub caller_turn: Option<String>,
    /// Callee's media address on the wire.
    pub callee_media: String,
    /// Times.
    #[serde(flatten)]
    pub times: CallTimes,
    /// DTMF digits sent by the caller.
    pub digits: String,
    /// SIP messages generated (also when not captured).
    pub sip_messages: u64,
    /// Signaling frames in the capture.
    pub signaling_frames: u64,
    /// TURN control (ChannelBind) and ICE check frames in the capture.
    pub control_frames: u64,
    /// The two directions, caller's first.
    pub streams: Vec<StreamReport>,
}

/// A report of one call (final when the call is over).
pub fn call_report(c: &CallGen) -> CallReport {
    let p: &CallPlan = c.plan();
    let (signaling_frames, sip_messages) = c.signaling_counts();
    let streams = Direction::BOTH
        .iter()
        .map(|&dir| {
            let d = dir.index();
            let ssrcs: Vec<u32> = p.ssrcs.iter().map(|s| s[d]).collect();
            let keys: Vec<String> = p.keys.iter().map(|k| k[d].inline(p.mki)).collect();
            let mut replay_keys = Vec::new();
            for s in &ssrcs {
                for k in &p.keys {
                    let inline = k[d].inline(p.mki);
                    replay_keys.push(format!(
                        "ssrc={s:#010x},suite=AES_CM_128_HMAC_SHA1_80,inline={}",
                        inline.trim_start_matches("inline:")
                    ));
                }
            }
            StreamReport {
                direction: dir,
                ssrcs,
                keys,
                replay_keys,
                first_seqs: p.first_seqs.iter().map(|s| s[d]).collect(),
                stats: c.stats()[d].clone(),
            }
        })
        .collect();
    CallReport {
        index: p.index,
        call_id: p.call_id.clone(),
        conversation_id: p.conversation_id.clone(),
        from: p.caller.uri.clone(),
        to: p.callee.uri.clone(),
        from_name: p.caller.display.clone(),
        to_name: p.callee.display.clone(),
        topology: p.topology,
        codec: p.codec,
        payload_type: p.codec.payload_type(),
        caller_sip: p.caller.sip.to_string(),
        caller_media: p.caller.media.to_string(),
        caller_host: p.caller.host.to_string(),
        caller_turn: p.caller.turn_base.map(|a| a.to_string()),
        callee_media: p.callee.media.to_string(),
        times: c.times(),
        digits: c.digits(),
        sip_messages,
        signaling_frames,
        control_frames: c.control_frames(),
        streams,
    }
}

/// The whole capture as an iterator of frames in capture-time order, produced by streaming: only
/// the active calls are in memory, each holding a few pending frames.
pub struct Generator {
    cfg: GenConfig,
    tables: Arc<SignalTables>,
    next_call: u32,
    calls: Vec<Option<CallGen>>,
    free: Vec<usize>,
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    reports: Vec<CallReport>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("next_call", &self.next_call)
            .field("active", &self.heap.len())
            .finish()
    }
}

impl Generator {
    /// A generator for `cfg`.
    pub fn new(cfg: GenConfig) -> Generator {
        let tables = Arc::new(SignalTables::new(cfg.call.codec));
        Generator {
            cfg,
            tables,
            next_call: 0,
            calls: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            reports: Vec::new(),
        }
    }

    fn call_start(&self, i: u32) -> u64 {
        self.cfg.start_unix_us + u64::from(i) * self.cfg.stagger_us
    }

    fn start_call(&mut self) {
        let i = self.next_call;
        self.next_call += 1;
        let mut c = CallGen::new(
            i,
            self.cfg.seed,
            self.call_start(i),
            &self.cfg.call,
            self.tables.clone(),
        );
        let Some(t) = c.peek_time() else {
            self.reports.push(call_report(&c));
            return;
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.calls[s] = Some(c);
                s
            }
            None => {
                self.calls.push(Some(c));
                self.calls.len() - 1
            }
        };
        self.heap.push(Reverse((t, slot)));
    }

    /// Reports of the calls finished so far, in order of completion (all calls once the iterator
    /// is exhausted; sort by `index` for call order).
    pub fn reports(&self) -> &[CallReport] {
        &self.reports
    }

    /// Consumes the generator, returning the reports sorted by call index (call after exhausting it).
    pub fn into_reports(mut self) -> Vec<CallReport> {
        self.reports.sort_by_key(|r| r.index);
        self.reports
    }
}

impl Iterator for Generator {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        loop {
            let top = self.heap.peek().map(|r| r.0 .0);
            if self.next_call < self.cfg.calls {
                let s = self.call_start(self.next_call);
                if top.is_none_or(|t| s <= t) {
                    self.start_call();
                    continue;
                }
            }
            let Reverse((_, slot)) = self.heap.pop()?;
            let call = self.calls[slot].as_mut()?;
            let frame = call.next_frame();
            match call.peek_time() {
                Some(t) => self.heap.push(Reverse((t, slot))),
                None => {
                    if let Some(c) = self.calls[slot].take() {
                        self.reports.push(call_report(&c));
                    }
                    self.free.push(slot);
                }
            }
            if frame.is_some() {
                return frame;
            }
        }
    }
}

/// The manifest of a finished capture as a JSON value.
pub fn manifest_json(cfg: &GenConfig, reports: &[CallReport]) -> serde_json::Value {
    let imp = &cfg.call.impairments;
    serde_json::json!({
        "generator": "recorder-gen",
        "seed": cfg.seed,
        "calls": reports.len(),
        "codec": cfg.call.codec,
        "topology": cfg.call.topology,
        "signaling": cfg.call.signaling,
        "duration_ms": cfg.call.duration_ms,
        "rtcp": cfg.call.rtcp,
        "ice_checks": cfg.call.ice_checks,
        "early_media": cfg.call.early_media,
        "remote_candidates_reinvite": cfg.call.remote_candidates_reinvite,
        "stagger_us": cfg.stagger_us,
        "impairments": {
            "loss_pct": imp.loss_pct,
            "reorder_pct": imp.reorder_pct,
            "duplicate_pct": imp.duplicate_pct,
            "jitter_ms": imp.jitter_ms,
            "drift_ppm": imp.drift_ppm,
            "mid_call_roc": imp.mid_call_roc,
            "seq_wrap": imp.seq_wrap,
            "rekey_at_ms": imp.rekey_at_ms,
            "hold_ms": imp.hold_ms,
            "ssrc_change_at_ms": imp.ssrc_change_at_ms,
            "dtmf": imp.dtmf,
        },
        "signal": {
            "caller_to_callee": "440 Hz + 880 Hz, AM 0.7 Hz / 3 Hz (rec_gen::source_signal)",
            "callee_to_caller": "1000 Hz + 1500 Hz, AM 0.3 Hz / 5 Hz (rec_gen::source_signal)",
            "period_s": crate::signal::SIGNAL_PERIOD_SECS,
        },
        "call_list": reports,
    })
}
