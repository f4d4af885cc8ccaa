//! G.711 μ-law (PCMU) and A-law (PCMA): table decoders plus the matching encoders (ITU-T G.711).
//!
//! Decoding is one table lookup per byte; the tables are built at compile time. The encoders are used by
//! tests and benchmarks and by anyone who needs to synthesise G.711 payloads.

use crate::codec::{DecodeError, Decoder};

/// Expands one μ-law byte to linear PCM (G.711 §2, the 14-bit value scaled to 16 bits).
pub const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Expands one A-law byte to linear PCM (G.711 §3, the 13-bit value scaled to 16 bits).
pub const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let segment = (a >> 4) & 0x07;
    let mut magnitude = ((a & 0x0F) as i32) << 4;
    magnitude += if segment == 0 { 8 } else { 0x108 };
    if segment > 1 {
        magnitude <<= segment - 1;
    }
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// Compresses one linear sample to μ-law (G.711 §2 on the 14-bit value: bias 33, segment search).
pub const fn linear_to_ulaw(sample: i16) -> u8 {
    let mut v = (sample as i32) >> 2;
    let mask: u8 = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    if v > 8159 {
        v = 8159;
    }
    v += 33;
    // segment: v in 0x20..=0x3F → 0, doubling up to 0x1000..=0x1FFF → 7
    let segment = (31 - (v as u32).leading_zeros() as i32) - 5;
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let uval = ((segment as u8) << 4) | ((v >> (segment + 1)) & 0x0F) as u8;
    uval ^ mask
}

/// Compresses one linear sample to A-law (13-bit segment search, G.711 §3).
pub const fn linear_to_alaw(sample: i16) -> u8 {
    let mut v = (sample as i32) >> 3;
    let mask: u8 = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    // segment = number of significant bits above the 5 lowest, clamped
    let mut segment = 0u8;
    let mut limit = 0x1F;
    while segment < 8 && v > limit {
        segment += 1;
        limit = (limit << 1) | 1;
    }
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let mut aval = segment << 4;
    if segment < 2 {
        aval |= ((v >> 1) & 0x0F) as u8;
    } else {
        aval |= ((v >> segment) & 0x0F) as u8;
    }
    aval ^ mask
}

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if alaw {
            alaw_to_linear(i as u8)
        } else {
            ulaw_to_linear(i as u8)
        };
        i += 1;
    }
    t
}

/// μ-law byte → linear sample.
pub static ULAW_TABLE: [i16; 256] = build_table(false);
/// A-law byte → linear sample.
pub static ALAW_TABLE: [i16; 256] = build_table(true);

/// Decoder of PCMU or PCMA payloads (8 kHz). Stereo payloads (sample-interleaved, RFC 3551 §4.3) are averaged
/// to mono.
#[derive(Debug, Clone)]
pub struct G711Decoder {
    alaw: bool,
    channels: u16,
}

impl G711Decoder {
    /// A μ-law (PCMU) decoder for `channels` (1 or 2) interleaved channels.
    pub fn ulaw(channels: u16) -> Self {
        Self {
            alaw: false,
            channels: channels.clamp(1, 2),
        }
    }
    /// An A-law (PCMA) decoder for `channels` (1 or 2) interleaved channels.
    pub fn alaw(channels: u16) -> Self {
        Self {
            alaw: true,
            channels: channels.clamp(1, 2),
        }
    }
}

impl Decoder for G711Decoder {
    fn name(&self) -> &'static str {
        if self.alaw {
            "PCMA"
        } else {
            "PCMU"
        }
    }
    fn sample_rate(&self) -> u32 {
        8000
    }
    fn rtp_clock_rate(&self) -> u32 {
        8000
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, DecodeError> {
        let table = if self.alaw { &ALAW_TABLE } else { &ULAW_TABLE };
        let ch = usize::from(self.channels);
        if !payload.len().is_multiple_of(ch) {
            return Err(DecodeError::Malformed {
                codec: self.name(),
                len: payload.len(),
            });
        }
        let needed = payload.len() / ch;
        if out.len() < needed {
            return Err(DecodeError::BufferTooSmall {
                codec: self.name(),
                needed,
                capacity: out.len(),
            });
        }
        if ch == 1 {
            for (o, &b) in out.iter_mut().zip(payload) {
                *o = table[usize::from(b)];
            }
        } else {
            for (o, pair) in out.iter_mut().zip(payload.chunks_exact(2)) {
                let sum =
                    i32::from(table[usize::from(pair[0])]) + i32::from(table[usize::from(pair[1])]);
                *o = (sum >> 1) as i16;
            }
        }
        Ok(needed)
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let n = samples.min(out.len());
        out[..n].fill(0);
        n
    }
}
