//! G.722 at 64 kbit/s (RTP `G722/8000`, 16 kHz audio on an 8 kHz RTP clock, RFC 3551 §4.5.2), decoded with the
//! `ezk-g722` crate (a Rust port of the public-domain spandsp/libg722 codec).
//!
//! Stereo (`G722/8000/2`, e.g. Lync payload type 117) is taken as octet-interleaved channels (RFC 3551 §4.3:
//! one octet per channel per 8 kHz sampling instant); each channel keeps its own decoder state and the two
//! decoded channels are averaged to mono.

use ezk_g722::libg722::{decoder::Decoder as LibDecoder, encoder::Encoder as LibEncoder, Bitrate};

use crate::codec::{DecodeError, Decoder};

/// Largest stereo payload de-interleaved without growing the scratch buffers (1 s of stereo G.722).
const SCRATCH: usize = 8000;

/// Decoder of G.722 payloads (mono or octet-interleaved stereo averaged to mono) producing 16 kHz PCM.
pub struct G722Decoder {
    channels: [LibDecoder; 2],
    stereo: bool,
    left: Vec<u8>,
    right: Vec<u8>,
}

impl std::fmt::Debug for G722Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G722Decoder")
            .field("stereo", &self.stereo)
            .finish()
    }
}

impl G722Decoder {
    /// A 64 kbit/s G.722 decoder for `channels` (1, or 2 = octet-interleaved stereo downmixed to mono).
    pub fn new(channels: u16) -> Self {
        let stereo = channels == 2;
        let cap = if stereo { SCRATCH } else { 0 };
        Self {
            channels: [
                LibDecoder::new(Bitrate::Mode1_64000, false, false),
                LibDecoder::new(Bitrate::Mode1_64000, false, false),
            ],
            stereo,
            left: Vec::with_capacity(cap),
            right: Vec::with_capacity(cap),
        }
    }
}

impl Decoder for G722Decoder {
    fn name(&self) -> &'static str {
        "G722"
    }
    fn sample_rate(&self) -> u32 {
        16000
    }
    fn rtp_clock_rate(&self) -> u32 {
        8000
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, DecodeError> {
        if self.stereo && payload.len() % 2 != 0 {
            return Err(DecodeError::Malformed {
                codec: "G722",
                len: payload.len(),
            });
        }
        let needed = if self.stereo {
            payload.len()
        } else {
            payload.len() * 2
        };
        if out.len() < needed {
            return Err(DecodeError::BufferTooSmall {
                codec: "G722",
                needed,
                capacity: out.len(),
            });
        }
        if !self.stereo {
            // ezk-g722 returns a fresh Vec: one allocation per packet (see the crate report).
            let pcm = self.channels[0].decode(payload);
            let n = pcm.len().min(needed);
            out[..n].copy_from_slice(&pcm[..n]);
            return Ok(n);
        }
        self.left.clear();
        self.right.clear();
        for pair in payload.chunks_exact(2) {
            self.left.push(pair[0]);
            self.right.push(pair[1]);
        }
        let [dl, dr] = &mut self.channels;
        let l = dl.decode(&self.left);
        let r = dr.decode(&self.right);
        let n = l.len().min(r.len()).min(needed);
        for ((o, &a), &b) in out[..n].iter_mut().zip(&l).zip(&r) {
            *o = ((i32::from(a) + i32::from(b)) >> 1) as i16;
        }
        Ok(n)
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let n = samples.min(out.len());
        out[..n].fill(0);
        n
    }
}

/// G.722 64 kbit/s encoder (16 kHz PCM → payload bytes), for tests, benchmarks and synthetic streams.
pub struct G722Encoder(LibEncoder);

impl std::fmt::Debug for G722Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("G722Encoder")
    }
}

impl Default for G722Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl G722Encoder {
    /// A fresh 64 kbit/s encoder.
    pub fn new() -> Self {
        Self(LibEncoder::new(Bitrate::Mode1_64000, false, false))
    }
    /// Encodes 16 kHz mono PCM (an even number of samples) and appends the payload bytes to `out`.
    pub fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.encode(pcm));
    }
}
