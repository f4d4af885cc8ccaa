//! Opus decoding (RFC 6716 / RFC 7587) through libopus via `audiopus`.
//!
//! The RTP clock of Opus is always 48 kHz; the decoder produces mono at a chosen rate (libopus downmixes a
//! stereo stream itself). Loss is concealed with libopus PLC; when the next packet is at hand, its in-band FEC
//! (LBRR) data is used instead.

use audiopus::{coder::Decoder as OpusLib, packet::Packet, Channels, MutSignals, SampleRate};

use crate::codec::{DecodeError, Decoder};

/// Maps a rate in Hz to the libopus rates (8, 12, 16, 24, 48 kHz).
pub(crate) fn opus_rate(rate: u32) -> Option<SampleRate> {
    Some(match rate {
        8000 => SampleRate::Hz8000,
        12000 => SampleRate::Hz12000,
        16000 => SampleRate::Hz16000,
        24000 => SampleRate::Hz24000,
        48000 => SampleRate::Hz48000,
        _ => return None,
    })
}

/// Decoder of Opus RTP payloads into mono PCM.
pub struct OpusDecoder {
    lib: OpusLib,
    rate: u32,
    sample_rate: SampleRate,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("rate", &self.rate)
            .finish()
    }
}

impl OpusDecoder {
    /// A mono decoder producing PCM at `rate` (8000, 12000, 16000, 24000 or 48000 Hz); `None` for other rates.
    /// Decoding straight at the recording rate saves a resampling step.
    pub fn new(rate: u32) -> Option<Self> {
        let sample_rate = opus_rate(rate)?;
        let lib = OpusLib::new(sample_rate, Channels::Mono).ok()?;
        Some(Self {
            lib,
            rate,
            sample_rate,
        })
    }

    /// Decodes `samples` samples into `out` standing in for the frame before `next_payload`, from the in-band FEC
    /// data of `next_payload` when it carries some (libopus otherwise falls back to PLC). Returns samples written.
    pub fn decode_fec(&mut self, next_payload: &[u8], samples: usize, out: &mut [i16]) -> usize {
        let total = samples.min(out.len());
        let n = self.plc_len(total);
        if n > 0 {
            if let (Ok(p), Ok(sig)) = (
                Packet::try_from(next_payload),
                MutSignals::try_from(&mut out[..n]),
            ) {
                if let Ok(got) = self.lib.decode(Some(p), sig, true) {
                    let got = got.min(n);
                    out[got..total].fill(0);
                    return total;
                }
            }
        }
        self.conceal(samples, out)
    }

    /// Largest multiple of 2.5 ms not above `samples` (libopus PLC/FEC works in 2.5 ms steps), capped at 120 ms.
    fn plc_len(&self, samples: usize) -> usize {
        let step = (self.rate / 400) as usize;
        (samples / step * step).min(step * 48)
    }
}

impl Decoder for OpusDecoder {
    fn name(&self) -> &'static str {
        "opus"
    }
    fn sample_rate(&self) -> u32 {
        self.rate
    }
    fn rtp_clock_rate(&self) -> u32 {
        48000
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, DecodeError> {
        let malformed = DecodeError::Malformed {
            codec: "opus",
            len: payload.len(),
        };
        let needed = Packet::try_from(payload)
            .and_then(|p| audiopus::packet::nb_samples(p, self.sample_rate))
            .map_err(|_| malformed.clone())?;
        let packet = Packet::try_from(payload).map_err(|_| malformed.clone())?;
        if out.len() < needed {
            return Err(DecodeError::BufferTooSmall {
                codec: "opus",
                needed,
                capacity: out.len(),
            });
        }
        let signals = MutSignals::try_from(&mut out[..needed]).map_err(|_| malformed.clone())?;
        self.lib
            .decode(Some(packet), signals, false)
            .map_err(|_| malformed)
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let total = samples.min(out.len());
        let mut done = 0;
        // PLC in chunks of at most 120 ms, each a multiple of 2.5 ms; the sub-2.5 ms tail is silence
        loop {
            let n = self.plc_len(total - done);
            if n == 0 {
                break;
            }
            let Ok(sig) = MutSignals::try_from(&mut out[done..done + n]) else {
                break;
            };
            match self.lib.decode(None, sig, false) {
                Ok(got) if got > 0 => done += got.min(n),
                _ => break,
            }
        }
        out[done..total].fill(0);
        total
    }
    fn conceal_before(&mut self, next_payload: &[u8], samples: usize, out: &mut [i16]) -> usize {
        self.decode_fec(next_payload, samples, out)
    }
}
