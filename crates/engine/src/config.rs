//! What the engine is told at construction: output format, timers, limits, keys given by hand.

use rec_audio::OpusSettings;
use rec_rewrite::PolicyConfig;
use rec_srtp::KeyParams;

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
    /// Calls tracked at once; further INVITEs are counted and ignored.
    pub max_calls: usize,
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
            manual_keys: Vec::new(),
            record_unmatched_rtp: false,
        }
    }
}
