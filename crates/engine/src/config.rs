//! What the engine is told at construction: output format, timers, limits, keys given by hand.

use rec_audio::OpusSettings;
use rec_packet::defrag::DefragConfig;
use rec_rewrite::PolicyConfig;
use rec_srtp::KeyParams;

use crate::SipOrigin;

/// Container and codec of the recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioFormat {
    /// RIFF WAVE, PCM 16-bit.
    #[default]
    Wav,
    /// Ogg Opus (RFC 7845).
    Opus,
}

impl AudioFormat {
    /// File name extension (`wav`, `opus`).
    pub fn extension(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Opus => "opus",
        }
    }
}

/// An SRTP key supplied by hand (`--key`), for captures without signaling.
#[derive(Debug, Clone)]
pub struct ManualKey {
    /// Only for this SSRC; `None`: for every stream without a key from signaling.
    pub ssrc: Option<u32>,
    /// Suite and key parameters.
    pub params: KeyParams,
}

/// Engine settings. Times are microseconds of capture time.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Recording format.
    pub format: AudioFormat,
    /// Mix both directions into one channel instead of stereo (caller left, callee right).
    pub mono: bool,
    /// Output sample rate; `None`: the rate of the first decoded stream (8000 for G.711, 16000 for G.722,
    /// 48000 for Opus), so G.711 calls are never resampled.
    pub sample_rate: Option<u32>,
    /// Ogg Opus encoder settings.
    pub opus: OpusSettings,
    /// Which calls are recorded.
    pub policy: PolicyConfig,
    /// A call with media whose streams and signaling are all silent this long ends as partial ("media timeout").
    pub media_timeout_us: i64,
    /// A call never answered and silent this long ends ("setup timeout").
    pub setup_timeout_us: i64,
    /// Encoded audio is handed out at least this often while a call runs (the file stays playable).
    pub flush_interval_us: i64,
    /// Calls tracked at once. At the bound a new INVITE pushes out the call that got least far (no response,
    /// then provisional only, then answer or media; least trusted source first, then oldest); calls with an
    /// answer and media are never pushed out: when only those remain the INVITE is refused.
    pub max_calls: usize,
    /// Signaling sources, most trusted first (default mirror, HEP, capture). A message changes a call only
    /// if its source ranks at least as high as the source of the INVITE that created the call; SIP from a
    /// source not listed is ignored. Signaling files (`SipOrigin::Journal`) rank above every source.
    pub trust: Vec<SipOrigin>,
    /// Media addresses and SSRCs one call may register (every SDP adds its candidates; bounds the flow table
    /// at `max_calls` times this).
    pub max_flow_entries_per_call: usize,
    /// IP defragmentation bounds (timeout, bytes, datagrams).
    pub defrag: DefragConfig,
    /// Bounds of SIP over TCP found in the capture.
    pub sip_tcp: SipTcpLimits,
    /// Keys given by hand; streams matching no call are decrypted with them and recorded one file per stream.
    pub manual_keys: Vec<ManualKey>,
    /// Record RTP streams that match no call and need no key (plain RTP), one file per stream.
    pub record_unmatched_rtp: bool,
}

impl Default for EngineConfig {
    /// WAV, stereo, automatic rate, record every call, 60 s media timeout, 5 min setup timeout, flush every 500 ms.
    fn default() -> Self {
        EngineConfig {
            format: AudioFormat::Wav,
            mono: false,
            sample_rate: None,
            opus: OpusSettings::default(),
            policy: PolicyConfig::default(),
            media_timeout_us: 60_000_000,
            setup_timeout_us: 300_000_000,
            flush_interval_us: 500_000,
            max_calls: 100_000,
            trust: SipOrigin::default_order(),
            max_flow_entries_per_call: 256,
            defrag: DefragConfig::default(),
            sip_tcp: SipTcpLimits::default(),
            manual_keys: Vec::new(),
            record_unmatched_rtp: false,
        }
    }
}

/// Bounds of SIP-over-TCP following (reassembly and framing of connections seen in the capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipTcpLimits {
    /// Connections (directions) followed at once; SIP on further ones is not seen until some close.
    pub max_streams: usize,
    /// Largest SIP message accepted; a longer one resynchronises the stream on the next start line.
    pub max_message: usize,
    /// Out-of-order bytes held per connection before a hole is skipped.
    pub max_out_of_order_per_stream: usize,
    /// Out-of-order bytes held over all connections.
    pub max_out_of_order_total: usize,
    /// Bytes of incomplete messages held by the framers over all connections; beyond it the connection
    /// receiving data loses its incomplete message (counted in `sip_streams_dropped`).
    pub max_framed_total: usize,
    /// A connection without a segment for this long is forgotten, microseconds.
    pub idle_timeout_us: i64,
}

impl Default for SipTcpLimits {
    /// 4096 connections, 256 KiB messages, 512 KiB / 32 MiB out of order, 32 MiB in framers, 15 min idle.
    fn default() -> Self {
        SipTcpLimits {
            max_streams: 4096,
            max_message: 256 << 10,
            max_out_of_order_per_stream: 512 << 10,
            max_out_of_order_total: 32 << 20,
            max_framed_total: 32 << 20,
            idle_timeout_us: 900_000_000,
        }
    }
}
