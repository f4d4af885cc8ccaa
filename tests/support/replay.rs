//! Scenario harness: a capture made by the generator (`rec-gen`) is fed frame by frame into the engine
//! (`rec-engine`) exactly as `recorder replay` feeds it (timers every 100 ms of capture time, `finish` at
//! the end); the recordings are decoded back to PCM so tests can compare them with the generator's known
//! source signals.

use std::collections::BTreeMap;

use rec_engine::{
    AudioFormat, CallHandle, CallReport, CaptureTimers, Engine, EngineConfig, Input, Output,
};
use rec_gen::{GenConfig, Generator};
use rec_packet::LinkType;

pub use rec_gen::{source_signal, CallOptions, Codec, Direction, Impairments, Topology};

/// What one replay produced.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Final reports, in the order calls ended.
    pub reports: Vec<CallReport>,
    /// The recording file of each call (header patches applied), by call.
    pub files: BTreeMap<CallHandle, Vec<u8>>,
    /// Decrypted RTP packets kept per call.
    pub rtp_packets: BTreeMap<CallHandle, usize>,
    /// Handles in the order their reports came.
    pub handles: Vec<CallHandle>,
    /// The generator's own account of each call (what was sent and captured).
    pub generated: Vec<rec_gen::CallReport>,
    /// Engine counters at the end.
    pub stats: rec_engine::EngineStats,
}

impl Replayed {
    /// The only call's report (panics unless exactly one call ended).
    pub fn only(&self) -> &CallReport {
        assert_eq!(
            self.reports.len(),
            1,
            "expected one call, got {:?}",
            self.reports
        );
        &self.reports[0]
    }

    /// The only call's WAV decoded: `(sample_rate, channels of samples)`.
    pub fn only_wav(&self) -> (u32, Vec<Vec<i16>>) {
        assert_eq!(self.files.len(), 1, "expected one recording");
        let bytes = self.files.values().next().expect("one file");
        parse_wav(bytes)
    }
}

/// Generates the capture described by `gen` and replays it with `engine_cfg`.
pub fn replay(gen: GenConfig, engine_cfg: EngineConfig) -> Replayed {
    let mut generator = Generator::new(gen);
    let mut engine = Engine::new(engine_cfg).expect("engine config");
    let mut out = Replayed::default();
    let mut timers = CaptureTimers::new();
    let mut last = 0i64;
    for frame in generator.by_ref() {
        let at = frame.at_us as i64;
        timers.before(&mut engine, at);
        engine.handle_input(Input::Packet {
            at_us: at,
            link: LinkType::Ethernet,
            frame: &frame.data,
        });
        last = at;
        collect(&mut engine, &mut out);
    }
    engine.finish(last);
    collect(&mut engine, &mut out);
    out.stats = engine.stats();
    out.generated = generator.into_reports();
    out
}

fn collect(engine: &mut Engine, out: &mut Replayed) {
    while let Some(o) = engine.poll_output() {
        match o {
            Output::CallStarted { .. } | Output::CallUpdated { .. } => {}
            Output::Audio { call, chunk } => {
                let file = out.files.entry(call).or_default();
                file.extend_from_slice(&chunk.bytes);
                if let Some((off, patch)) = &chunk.header_patch {
                    let off = *off as usize;
                    file[off..off + patch.len()].copy_from_slice(patch);
                }
            }
            Output::Rtp { call, batch } => {
                *out.rtp_packets.entry(call).or_default() += batch.packets.len();
            }
            Output::CallEnded { call, report } => {
                out.handles.push(call);
                out.reports.push(*report);
            }
        }
    }
}

/// A generator configuration for one call of `secs` seconds with `options` changed by `edit`.
pub fn one_call(secs: u64, edit: impl FnOnce(&mut CallOptions)) -> GenConfig {
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = secs * 1000;
    edit(&mut cfg.call);
    cfg
}

/// Engine defaults (stereo WAV at the codec's rate).
pub fn wav_engine() -> EngineConfig {
    EngineConfig {
        format: AudioFormat::Wav,
        ..EngineConfig::default()
    }
}

/// Parses a canonical 44-byte-header PCM16 WAV (samples, then possibly the call's `LIST`/`INFO` tags) into
/// `(rate, per-channel samples)`.
pub fn parse_wav(bytes: &[u8]) -> (u32, Vec<Vec<i16>>) {
    assert!(
        bytes.len() >= 44 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE",
        "not a WAV file"
    );
    let channels = u16::from_le_bytes([bytes[22], bytes[23]]) as usize;
    let rate = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
    let data_len = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]) as usize;
    let riff_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    assert_eq!(
        riff_len,
        bytes.len() - 8,
        "WAV RIFF size in the header matches the file"
    );
    let tail = &bytes[44 + data_len..];
    assert!(
        tail.is_empty() || &tail[..4] == b"LIST",
        "WAV data size in the header matches the file (only the tags may follow the samples)"
    );
    let mut chans = vec![Vec::new(); channels];
    for (i, s) in bytes[44..44 + data_len].chunks_exact(2).enumerate() {
        chans[i % channels].push(i16::from_le_bytes([s[0], s[1]]));
    }
    (rate, chans)
}

/// Normalised correlation of `a` with `b` at lag 0 (1 = same shape).
pub fn correlation(a: &[i16], b: &[i16]) -> f64 {
    rec_gen::correlation(a, b)
}

/// The lag (in samples, `recorded[k + lag] ≈ source[k]`) within `±max_lag` that best aligns `recorded` with
/// `source` over `len` samples starting at source sample `from`, and the correlation there.
pub fn best_lag(
    recorded: &[i16],
    source: &[i16],
    from: usize,
    len: usize,
    max_lag: i64,
) -> (i64, f64) {
    let src = &source[from..from + len];
    let mut best = (0, f64::MIN);
    for lag in -max_lag..=max_lag {
        let start = from as i64 + lag;
        if start < 0 || start as usize + len > recorded.len() {
            continue;
        }
        let c = correlation(&recorded[start as usize..start as usize + len], src);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

/// Root-mean-square level of a slice.
pub fn rms(x: &[i16]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Samples `first..first + n` of the source signal of `direction` at `rate` (the signal as sent from RTP
/// slot `first / (rate / 50)` on).
pub fn source_from(direction: Direction, rate: u32, first: u64, n: usize) -> Vec<i16> {
    (first..first + n as u64)
        .map(|i| rec_gen::source_sample(direction, rate, i))
        .collect()
}

/// The other direction.
pub fn other(direction: Direction) -> Direction {
    match direction {
        Direction::CallerToCallee => Direction::CalleeToCaller,
        Direction::CalleeToCaller => Direction::CallerToCallee,
    }
}

/// Checks that `recorded` holds the source of `dir` over `len_s` seconds from `from_s` (source time) within
/// ±50 ms: the correlation at the lag [`locate`] finds must exceed `min`, and the other direction's signal must not be
/// there (correlation below 0.2). Returns `(lag in samples, correlation)`.
pub fn assert_source(
    recorded: &[i16],
    rate: u32,
    dir: Direction,
    from_s: f64,
    len_s: f64,
    min: f64,
) -> (i64, f64) {
    let from = (from_s * f64::from(rate)) as usize;
    let len = (len_s * f64::from(rate)) as usize;
    let max_lag = i64::from(rate / 20);
    let n = from + len + max_lag as usize;
    let src = source_signal(dir, rate, n);
    let (lag, c, _) = locate(recorded, &src, rate, from, len, max_lag);
    assert!(
        c > min,
        "{dir:?} at {from_s} s: correlation {c} at lag {lag} (wanted > {min})"
    );
    let wrong_src = source_signal(other(dir), rate, n);
    let (_, wrong) = best_lag(recorded, &wrong_src, from, len, max_lag);
    assert!(
        wrong < 0.2,
        "{dir:?} at {from_s} s also looks like the other direction ({wrong})"
    );
    (lag, c)
}

/// Correlation of each 20 ms frame of `recorded` (shifted by `lag`, as returned by [`best_lag`]) with
/// `source` (at `rate`), for source frames `first..last`.
pub fn frame_correlations(
    recorded: &[i16],
    source: &[i16],
    rate: u32,
    lag: i64,
    first: usize,
    last: usize,
) -> Vec<f64> {
    let n = (rate / 50) as usize;
    (first..last)
        .map(|f| {
            let start = (f * n) as i64 + lag;
            if start < 0 || start as usize + n > recorded.len() || (f + 1) * n > source.len() {
                return 0.0;
            }
            correlation(
                &recorded[start as usize..start as usize + n],
                &source[f * n..(f + 1) * n],
            )
        })
        .collect()
}

/// The lag within `±max_lag` at which the most 20 ms frames `first..last` of `recorded` correlate above
/// `min` with `source`, and that number of frames. Unlike [`best_lag`] on a long window this is not
/// misled by concealed frames, and a single lag explaining every frame proves the audio never slipped.
pub fn frame_lag(
    recorded: &[i16],
    source: &[i16],
    rate: u32,
    first: usize,
    last: usize,
    max_lag: i64,
    min: f64,
) -> (i64, usize) {
    let mut best = (0, 0);
    for lag in -max_lag..=max_lag {
        let good = frame_correlations(recorded, source, rate, lag, first, last)
            .iter()
            .filter(|&&c| c > min)
            .count();
        if good > best.1 {
            best = (lag, good);
        }
    }
    best
}

/// The report's streams sent by `side`, in report order.
pub fn streams_of(report: &CallReport, side: rec_engine::Side) -> Vec<&rec_engine::StreamReport> {
    report
        .streams
        .iter()
        .filter(|s| s.direction == Some(side))
        .collect()
}

/// The engine side matching a generator direction.
pub fn side_of(dir: Direction) -> rec_engine::Side {
    match dir {
        Direction::CallerToCallee => rec_engine::Side::Caller,
        Direction::CalleeToCaller => rec_engine::Side::Callee,
    }
}

/// Short-time energy envelope: mean square over `win` samples starting at each index (length
/// `x.len() + 1 - win`), mean removed.
fn energy_envelope(x: &[i16], win: usize) -> Vec<f64> {
    let mut acc = 0.0f64;
    let mut out = Vec::with_capacity(x.len().saturating_sub(win) + 1);
    for (i, &v) in x.iter().enumerate() {
        acc += f64::from(v) * f64::from(v);
        if i >= win {
            acc -= f64::from(x[i - win]) * f64::from(x[i - win]);
        }
        if i + 1 >= win {
            out.push(acc / win as f64);
        }
    }
    let mean = out.iter().sum::<f64>() / out.len().max(1) as f64;
    out.iter_mut().for_each(|v| *v -= mean);
    out
}

/// Like [`best_lag`], but unambiguous for tonal signals: the lag is first found on the signals' energy
/// envelopes (20 ms windows; the source signals are amplitude-modulated at 0.3–5 Hz, so the envelope has a
/// single peak within ±`max_lag` for `len` of a few seconds), then refined on the waveform within ±1.5 ms of
/// it. [`best_lag`] alone can pick a peak a few periods of the tone away when slips or concealment blur the
/// waveform. Returns `(lag, waveform correlation, envelope lag)`.
pub fn locate(
    recorded: &[i16],
    source: &[i16],
    rate: u32,
    from: usize,
    len: usize,
    max_lag: i64,
) -> (i64, f64, i64) {
    let win = (rate / 50) as usize;
    let src_env = energy_envelope(&source[from..from + len], win);
    let lo = (from as i64 - max_lag).max(0) as usize;
    let hi = (from + len + max_lag as usize).min(recorded.len());
    let rec_env = energy_envelope(&recorded[lo..hi], win);
    let mut env_best = (0i64, f64::MIN);
    for lag in -max_lag..=max_lag {
        let start = from as i64 + lag - lo as i64;
        if start < 0 || start as usize + src_env.len() > rec_env.len() {
            continue;
        }
        // Pearson correlation: the window's own mean and energy removed, so a trend of the envelope does
        // not pull the peak towards louder parts
        let r = &rec_env[start as usize..start as usize + src_env.len()];
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let (mut rs, mut rr) = (0.0, 0.0);
        for (a, b) in r.iter().zip(&src_env) {
            rs += (a - mean) * b;
            rr += (a - mean) * (a - mean);
        }
        let c = if rr > 0.0 { rs / rr.sqrt() } else { f64::MIN };
        if c > env_best.1 {
            env_best = (lag, c);
        }
    }
    let fine = i64::from(rate) * 3 / 2000;
    let mut best = (env_best.0, f64::MIN);
    for lag in env_best.0 - fine..=env_best.0 + fine {
        let start = from as i64 + lag;
        if start < 0 || start as usize + len > recorded.len() {
            continue;
        }
        let c = correlation(
            &recorded[start as usize..start as usize + len],
            &source[from..from + len],
        );
        if c > best.1 {
            best = (lag, c);
        }
    }
    (best.0, best.1, env_best.0)
}
