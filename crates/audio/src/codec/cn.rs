//! Comfort noise (RFC 3389): the first payload octet is the noise level in −dBov; the optional spectral
//! reflection coefficients that follow are ignored, the noise is white.
//!
//! A CN packet carries no duration: `decode` only takes the level and returns 0 samples; the stretch until the
//! next packet is filled through [`Decoder::conceal`], which generates noise at the last signalled level
//! (silence before any CN packet or at level 127).

use crate::codec::{DecodeError, Decoder};

/// Comfort-noise generator driven by RFC 3389 payloads.
#[derive(Debug, Clone)]
pub struct CnDecoder {
    clock: u32,
    /// Peak of the uniform noise: RMS · √3.
    peak: i32,
    level: u8,
    rng: u32,
}

/// RMS amplitude of a level in −dBov, 0 dBov being a full-scale square wave (RMS 32767).
pub fn level_rms(level_dbov: u8) -> f64 {
    32767.0 * 10f64.powf(-f64::from(level_dbov.min(127)) / 20.0)
}

impl CnDecoder {
    /// A generator on an RTP clock of `clock` Hz (also its output rate), silent until the first CN payload.
    pub fn new(clock: u32) -> Self {
        Self {
            clock: clock.max(1),
            peak: 0,
            level: 127,
            rng: 0x1234_5678,
        }
    }
    /// Last signalled level in −dBov (127 = silence / none yet).
    pub fn level(&self) -> u8 {
        self.level
    }
    /// Sets the noise level in −dBov (values above 127 are treated as 127).
    pub fn set_level(&mut self, level_dbov: u8) {
        self.level = level_dbov.min(127);
        let rms = level_rms(self.level);
        self.peak = if rms < 1.0 {
            0
        } else {
            (rms * 3f64.sqrt()).round() as i32
        };
    }
    /// Writes `samples` samples of noise at the current level into `out`, returning the number written.
    pub fn generate(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let n = samples.min(out.len());
        if self.peak == 0 {
            out[..n].fill(0);
            return n;
        }
        let span = i64::from(self.peak) * 2 + 1;
        for o in &mut out[..n] {
            // xorshift32: deterministic, cheap, good enough for noise
            let mut x = self.rng;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.rng = x;
            let v = ((i64::from(x) * span) >> 32) - i64::from(self.peak);
            *o = v.clamp(-32768, 32767) as i16;
        }
        n
    }
}

impl Decoder for CnDecoder {
    fn name(&self) -> &'static str {
        "CN"
    }
    fn sample_rate(&self) -> u32 {
        self.clock
    }
    fn rtp_clock_rate(&self) -> u32 {
        self.clock
    }
    fn decode(&mut self, payload: &[u8], _out: &mut [i16]) -> Result<usize, DecodeError> {
        match payload.first() {
            Some(&level) if level <= 127 => {
                self.set_level(level);
                Ok(0)
            }
            _ => Err(DecodeError::Malformed {
                codec: "CN",
                len: payload.len(),
            }),
        }
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        self.generate(samples, out)
    }
}
