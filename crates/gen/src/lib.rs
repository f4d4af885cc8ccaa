//! Synthetic Lync / Skype for Business calls as captured frames, for tests and benchmarks of the
//! recorder.
//!
//! A pure library: no clocks, files or sockets. [`Generator`] yields Ethernet [`Frame`]s with their
//! capture times, in capture-time order, by merging per-call generators ([`CallGen`]) so that even
//! thousands of concurrent calls need little memory; [`PcapWriter`] turns them into a classic pcap
//! stream on any `Write` (the `recorder-gen` binary opens the files).
//!
//! Each call: INVITE (multipart/alternative offer: a draft-6 part and an ICE-19 part, Lync crypto
//! lines with MKI) → 100 → 183 (answer SDP) → 200 (single-part ICE-19 answer, the answerer's key)
//! → ACK → re-INVITE with `a=remote-candidates` → media → BYE → 200. Media: SRTP
//! (AES_CM_128_HMAC_SHA1_80, MKI 1) carrying a known signal per direction ([`source_signal`]),
//! through the Edge (MS-TURN Send/Data on the internal side plus the raw external leg), through
//! standard TURN ChannelData, directly, or as a plain non-Lync call; PCMA, PCMU, G.722, Opus or
//! the undecodable x-msrta; optionally SRTCP sender reports and ICE connectivity checks.
//! Impairments: loss, reorder, duplicates, jitter, clock drift, a capture starting after a
//! sequence wrap (ROC 1), a wrap inside the capture, re-key, hold, SSRC change, DTMF.
//! [`manifest_json`] describes the result (keys, SSRCs, times, counters per call).

mod call;
mod codec;
mod generator;
mod plan;
mod rng;
mod signal;
pub mod sip;
pub mod turn;
pub mod wire;

pub use call::{
    CallGen, CallOptions, CallTimes, DtmfBurst, Frame, FrameKind, Impairments, SignalingMode,
    StreamStats,
};
pub use codec::{Codec, DTMF_PT, OPUS_PT, PTIME_MS};
pub use generator::{
    call_report, manifest_json, CallReport, GenConfig, Generator, StreamReport,
    DEFAULT_START_UNIX_US,
};
pub use plan::{
    caller_ip, internal_callee_ip, remote_callee_ip, CallPlan, Party, SdesKey, Topology,
    EDGE_INTERNAL, EDGE_PUBLIC, FRONT_END, HEP_AGENT, HEP_COLLECTOR,
};
pub use rng::Rng;
pub use signal::{
    correlation, source_sample, source_signal, Direction, SIGNAL_PEAK, SIGNAL_PERIOD_SECS,
};
pub use wire::PcapWriter;
