//! Streaming sample-rate conversion for the mixer (fixed rates such as 8 k ↔ 16 k ↔ 48 k).
//!
//! A polyphase windowed-sinc (Blackman) converter for any rational ratio: the ratio is reduced by the greatest
//! common divisor, one filter phase per output position is computed once at construction, and streaming keeps
//! a fixed history (no allocation per call). Going up in rate the filter has 64 taps at the input rate with its
//! cut-off at 0.95 × the input Nyquist frequency; going down it keeps 64 taps *at the output rate*, i.e.
//! 64 × ⌈M/L⌉ input taps (192 for 48 → 16 kHz, at most [`MAX_FACTOR`] × 64), with the cut-off at 0.95 × the
//! output Nyquist frequency, so high content is filtered instead of aliased and the pass band stays flat to
//! ≈ 0.86 × the lower Nyquist frequency (BENCHMARKS.md, audio section: within ≈ 1 dB of rubato's FFT resampler
//! on speech-band sweeps). Latency: half the filter, constant per rate pair: 32 input samples (4 ms at 8 kHz)
//! going up, 32 × ⌈M/L⌉ input samples going down (96 samples = 2 ms for 48 → 16 kHz).

const HALF: usize = 32;
/// Largest down-sampling factor the filter length follows (48 → 8 kHz); larger factors keep 64 × 6 taps.
pub const MAX_FACTOR: usize = 6;
const MAX_TAPS: usize = 2 * HALF * MAX_FACTOR;

/// Converts a mono stream from `in_rate` to `out_rate`, one chunk at a time.
#[derive(Debug, Clone)]
pub struct Resampler {
    in_rate: u32,
    out_rate: u32,
    /// Output positions per input sample (reduced out_rate).
    l: u32,
    /// Step between output positions in 1/l input samples (reduced in_rate).
    m: u32,
    /// Filter length in input samples.
    taps: usize,
    /// `l` phases of `taps` coefficients each, oldest input first.
    table: Vec<f32>,
    /// The last `taps` inputs, stored twice (`hist[pos..pos + taps]` is always the contiguous window).
    hist: [f32; 2 * MAX_TAPS],
    pos: usize,
    phase: u32,
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Resampler {
    /// A converter from `in_rate` Hz to `out_rate` Hz (both clamped to ≥ 1). Builds the filter table (the only
    /// allocation; `out_rate / gcd` phases, e.g. 6 for 8 k → 48 k, 1 for 48 k → 16 k).
    pub fn new(in_rate: u32, out_rate: u32) -> Self {
        let (in_rate, out_rate) = (in_rate.max(1), out_rate.max(1));
        let g = gcd(in_rate, out_rate);
        let (l, m) = (out_rate / g, in_rate / g);
        let factor = (m.div_ceil(l) as usize).clamp(1, MAX_FACTOR);
        let half = HALF * factor;
        let taps = 2 * half;
        let mut table = Vec::new();
        if in_rate != out_rate && l <= 4096 {
            let fc = (f64::from(l) / f64::from(m)).min(1.0) * 0.95;
            table.reserve(l as usize * taps);
            for ph in 0..l {
                let f = f64::from(ph) / f64::from(l);
                let row_start = table.len();
                for i in 0..taps {
                    // distance (in input samples) from tap i to the output position
                    let x = (half as f64 - 1.0) + f - i as f64;
                    let sinc = if x.abs() < 1e-12 {
                        1.0
                    } else {
                        let a = std::f64::consts::PI * fc * x;
                        a.sin() / a
                    };
                    let u = x / half as f64;
                    let w = if u.abs() >= 1.0 {
                        0.0
                    } else {
                        0.42 + 0.5 * (std::f64::consts::PI * u).cos()
                            + 0.08 * (std::f64::consts::TAU * u).cos()
                    };
                    table.push((fc * sinc * w) as f32);
                }
                let row = &mut table[row_start..];
                let sum: f32 = row.iter().sum();
                if sum.abs() > 1e-6 {
                    row.iter_mut().for_each(|c| *c /= sum);
                }
            }
        }
        Self {
            in_rate,
            out_rate,
            l,
            m,
            taps,
            table,
            hist: [0.0; 2 * MAX_TAPS],
            pos: 0,
            phase: 0,
        }
    }

    /// Input rate in Hz.
    pub fn in_rate(&self) -> u32 {
        self.in_rate
    }

    /// Output rate in Hz.
    pub fn out_rate(&self) -> u32 {
        self.out_rate
    }

    /// Delay the filter adds, in input samples (0 when the rates are equal).
    pub fn latency(&self) -> usize {
        if self.table.is_empty() {
            0
        } else {
            self.taps / 2
        }
    }

    /// Forgets the history (after a discontinuity in the input).
    pub fn reset(&mut self) {
        self.hist = [0.0; 2 * MAX_TAPS];
        self.pos = 0;
        self.phase = 0;
    }

    /// Number of output samples the next `process` call will produce for `n` input samples.
    pub fn output_len(&self, n: usize) -> usize {
        if self.table.is_empty() {
            return n;
        }
        // outputs at positions phase, phase+m, ... below n·l
        let limit = n as u64 * u64::from(self.l);
        let p = u64::from(self.phase);
        if p >= limit {
            0
        } else {
            ((limit - p).div_ceil(u64::from(self.m))) as usize
        }
    }

    /// Converts `input`, calling `emit` for every output sample in order.
    pub fn process(&mut self, input: &[i16], mut emit: impl FnMut(i16)) {
        if self.table.is_empty() {
            input.iter().for_each(|&s| emit(s));
            return;
        }
        let taps = self.taps;
        for &x in input {
            // append x at pos (and its mirror pos + taps); then hist[pos..pos + taps] is the window, oldest first
            let v = f32::from(x);
            self.hist[self.pos] = v;
            self.hist[self.pos + taps] = v;
            self.pos += 1;
            if self.pos == taps {
                self.pos = 0;
            }
            let window = &self.hist[self.pos..self.pos + taps];
            while self.phase < self.l {
                let start = self.phase as usize * taps;
                let Some(coeffs) = self.table.get(start..start + taps) else {
                    return;
                };
                // 8 independent accumulators so the dot product vectorises (f32 sums are not reassociated)
                let mut acc = [0f32; 8];
                for (c8, h8) in coeffs.chunks_exact(8).zip(window.chunks_exact(8)) {
                    for j in 0..8 {
                        acc[j] += c8[j] * h8[j];
                    }
                }
                let y = ((acc[0] + acc[4]) + (acc[1] + acc[5]))
                    + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
                // round half away from zero; `as` saturates to the i16 range
                emit((y + 0.5f32.copysign(y)) as i16);
                self.phase += self.m;
            }
            self.phase -= self.l;
        }
    }
}
