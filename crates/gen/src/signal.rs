//! The known source signals carried by each direction, so tests can compare a recording with them.
//!
//! Both signals are periodic with a period of [`SIGNAL_PERIOD_SECS`] seconds (every frequency is a
//! multiple of 0.1 Hz), stay below 3.4 kHz (narrow-band codecs keep them) and are far apart in
//! frequency, so a correlation tells the channels apart:
//! - caller → callee: 440 Hz with a 880 Hz partial, amplitude-modulated at 0.7 Hz and 3 Hz;
//! - callee → caller: 1000 Hz with a 1500 Hz partial, amplitude-modulated at 0.3 Hz and 5 Hz.
//!
//! RTP packing: the 20 ms slot `k` of a stream (counted from the first media packet of the call,
//! slots during hold or DTMF included) carries the samples `[k·N, (k+1)·N)` of the signal at the
//! codec's sample rate (N = rate / 50).

use std::f64::consts::PI;

/// Which party sends a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sent by the caller (the party that sent the initial INVITE); decrypted with the offer's key.
    CallerToCallee,
    /// Sent by the callee; decrypted with the answer's key.
    CalleeToCaller,
}

impl Direction {
    /// Both directions, caller's first.
    pub const BOTH: [Direction; 2] = [Direction::CallerToCallee, Direction::CalleeToCaller];

    /// 0 for the caller's stream, 1 for the callee's.
    pub fn index(self) -> usize {
        match self {
            Direction::CallerToCallee => 0,
            Direction::CalleeToCaller => 1,
        }
    }

    /// `"caller_to_callee"` or `"callee_to_caller"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::CallerToCallee => "caller_to_callee",
            Direction::CalleeToCaller => "callee_to_caller",
        }
    }
}

/// Period of both source signals, in seconds.
pub const SIGNAL_PERIOD_SECS: u32 = 10;

/// Peak amplitude of the source signals (about −6 dBFS).
pub const SIGNAL_PEAK: f64 = 16000.0;

/// Sample `i` of the source signal of `direction` at `sample_rate`.
pub fn source_sample(direction: Direction, sample_rate: u32, i: u64) -> i16 {
    let t = i as f64 / f64::from(sample_rate.max(1));
    let tone = |f: f64| (2.0 * PI * f * t).sin();
    let v = match direction {
        Direction::CallerToCallee => {
            let env = 0.6 + 0.25 * tone(0.7) + 0.15 * tone(3.0);
            env * (0.75 * tone(440.0) + 0.25 * tone(880.0))
        }
        Direction::CalleeToCaller => {
            let env = 0.6 + 0.25 * tone(0.3) + 0.15 * tone(5.0);
            env * (0.7 * tone(1000.0) + 0.3 * tone(1500.0))
        }
    };
    (v * SIGNAL_PEAK).round() as i16
}

/// The first `n` samples of the source signal of `direction` at `sample_rate`.
pub fn source_signal(direction: Direction, sample_rate: u32, n: usize) -> Vec<i16> {
    (0..n as u64)
        .map(|i| source_sample(direction, sample_rate, i))
        .collect()
}

/// Normalised cross-correlation of two equally long signals at lag 0 (1.0 = identical shape).
pub fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let n = a.len().min(b.len());
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let (x, y) = (f64::from(a[i]), f64::from(b[i]));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa.sqrt() * bb.sqrt())
    }
}
