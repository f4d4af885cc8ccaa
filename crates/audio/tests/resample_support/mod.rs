//! Shared by `tests/resample_vs_rubato.rs` and `benches/resample.rs`: the resamplers under comparison behind one
//! streaming interface (20 ms frames of i16 in, i16 out), and the test signals.
#![allow(dead_code)]

use rec_audio::Resampler;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync};

/// Which converter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `rec_audio::Resampler` (32-tap polyphase windowed sinc).
    Ours,
    /// rubato `Fft` (synchronous FFT resampler, `FixedSync::Both`, chunk = one 20 ms frame): rubato's
    /// recommendation for fixed ratios ("both fast and high quality"). (rubato's `Async` sinc resampler was
    /// left out: its actual delay did not match `output_delay()`, so it could not be aligned sample-exactly.)
    RubatoFft,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 2] = [Kind::Ours, Kind::RubatoFft];
    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::RubatoFft => "rubato_fft",
        }
    }
}

/// One mono stream converter fed 20 ms frames.
pub struct Converter {
    kind: Kind,
    ours: Resampler,
    rubato: Option<Box<dyn rubato::Resampler<f32>>>,
    fifo: Vec<f32>,
    inbuf: Vec<f32>,
    outbuf: Vec<f32>,
    /// Delay of the converter in input samples (for alignment).
    pub delay_in: f64,
}

impl Converter {
    /// A converter of `kind` from `in_rate` to `out_rate`.
    pub fn new(kind: Kind, in_rate: u32, out_rate: u32) -> Self {
        let frame = (in_rate / 50) as usize;
        let ratio = f64::from(out_rate) / f64::from(in_rate);
        let rubato: Option<Box<dyn rubato::Resampler<f32>>> = match kind {
            Kind::Ours => None,
            Kind::RubatoFft => Some(Box::new(
                Fft::<f32>::new(
                    in_rate as usize,
                    out_rate as usize,
                    frame,
                    1,
                    FixedSync::Both,
                )
                .unwrap(),
            )),
        };
        let ours = Resampler::new(in_rate, out_rate);
        let delay_in = match &rubato {
            None => ours.latency() as f64,
            Some(r) => r.output_delay() as f64 / ratio,
        };
        let (max_in, max_out) = match &rubato {
            None => (frame, frame * 8),
            Some(r) => (r.input_frames_max(), r.output_frames_max()),
        };
        Self {
            kind,
            ours,
            rubato,
            fifo: Vec::with_capacity(max_in + frame),
            inbuf: vec![0.0; max_in],
            outbuf: vec![0.0; max_out],
            delay_in,
        }
    }

    /// Converts one frame, appending the output samples to `out` (no allocation when `out` has room).
    pub fn process(&mut self, frame: &[i16], out: &mut Vec<i16>) {
        let Some(r) = self.rubato.as_mut() else {
            self.ours.process(frame, |s| out.push(s));
            return;
        };
        self.fifo.extend(frame.iter().map(|&s| f32::from(s)));
        loop {
            let need = r.input_frames_next();
            if self.fifo.len() < need {
                break;
            }
            self.inbuf[..need].copy_from_slice(&self.fifo[..need]);
            self.fifo.drain(..need);
            let input = InterleavedSlice::new(&self.inbuf[..need], 1, need).unwrap();
            let cap = self.outbuf.len();
            let mut output = InterleavedSlice::new_mut(&mut self.outbuf[..], 1, cap).unwrap();
            let (_, written) = r.process_into_buffer(&input, &mut output, None).unwrap();
            out.extend(
                self.outbuf[..written]
                    .iter()
                    .map(|&y| y.round().clamp(-32768.0, 32767.0) as i16),
            );
        }
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// A test signal as a function of time (seconds): amplitude 16000 (−6 dBFS).
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    /// Sine of the given frequency.
    Sine(f64),
    /// Linear sweep from `f0` to `f1` Hz over `secs` seconds.
    Sweep { f0: f64, f1: f64, secs: f64 },
}

impl Signal {
    /// The ideal value at time `t` (the signal is zero before 0).
    pub fn at(self, t: f64) -> f64 {
        use std::f64::consts::TAU;
        if t < 0.0 {
            return 0.0;
        }
        16000.0
            * match self {
                Signal::Sine(f) => (TAU * f * t).sin(),
                Signal::Sweep { f0, f1, secs } => {
                    (TAU * (f0 * t + (f1 - f0) * t * t / (2.0 * secs))).sin()
                }
            }
    }

    /// `n` samples at `rate`, rounded to i16.
    pub fn samples(self, rate: u32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| self.at(i as f64 / f64::from(rate)).round() as i16)
            .collect()
    }
}

/// Runs `signal` (`secs` long) through a converter of `kind` in 20 ms frames and returns the output aligned to
/// the ideal signal at the output rate: `out[n]` ≈ `signal.at(n / out_rate)`. The converter's delay is made a
/// whole number of output samples by prepending zero input samples first (e.g. 16 input samples at 48 → 16 kHz
/// are 5⅓ output samples: 2 zeros make it 6), so that different converters can be compared sample by sample.
pub fn convert_aligned(
    kind: Kind,
    in_rate: u32,
    out_rate: u32,
    signal: Signal,
    secs: f64,
) -> Vec<i16> {
    let mut c = Converter::new(kind, in_rate, out_rate);
    let (i, o) = (u64::from(in_rate), u64::from(out_rate));
    let delay_in = c.delay_in.round() as u64;
    assert!(
        (c.delay_in - delay_in as f64).abs() < 1e-9,
        "{kind:?}: delay {} input samples",
        c.delay_in
    );
    let pad = (0..i)
        .find(|k| ((delay_in + k) * o).is_multiple_of(i))
        .unwrap();
    let delay_out = ((delay_in + pad) * o / i) as usize;
    let mut input = vec![0i16; pad as usize];
    input.extend(signal.samples(in_rate, (f64::from(in_rate) * secs) as usize));
    let mut out = Vec::new();
    for f in input.chunks((in_rate / 50) as usize) {
        c.process(f, &mut out);
    }
    out.drain(..delay_out.min(out.len()));
    out
}
