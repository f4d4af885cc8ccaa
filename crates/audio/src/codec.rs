//! The decoder interface shared by the timeline and the codec implementations, the codecs, and
//! [`decoder_for`] which picks one from an `a=rtpmap` entry.

pub mod cn;
pub mod g711;
pub mod g722;
pub mod opus;

/// Why a payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The payload is malformed for this codec (the frame is treated as lost).
    #[error("malformed {codec} payload of {len} bytes")]
    Malformed {
        /// Codec name.
        codec: &'static str,
        /// Payload length in bytes.
        len: usize,
    },
    /// The output buffer cannot hold the decoded samples.
    #[error("{codec} frame needs {needed} samples, buffer holds {capacity}")]
    BufferTooSmall {
        /// Codec name.
        codec: &'static str,
        /// Samples the frame decodes to.
        needed: usize,
        /// Samples the buffer can hold.
        capacity: usize,
    },
}

/// Turns one RTP payload of one codec into mono PCM at the codec's sample rate.
///
/// One instance per stream (decoders such as G.722 and Opus keep state between frames).
pub trait Decoder: Send {
    /// Codec name as in `a=rtpmap` (e.g. "PCMA").
    fn name(&self) -> &'static str;
    /// Sample rate of the PCM this decoder produces (not the RTP clock rate: G.722 produces 16 kHz on an 8 kHz clock).
    fn sample_rate(&self) -> u32;
    /// RTP timestamp units per output sample numerator/denominator: PCM samples = rtp_ticks * rate / clock.
    fn rtp_clock_rate(&self) -> u32;
    /// Decodes `payload` into `out` (mono i16), returning the number of samples written.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, DecodeError>;
    /// Fills `out` with `samples` samples standing in for a lost frame: the codec's loss concealment where it has
    /// one, silence otherwise. Returns the number written.
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize;
    /// Like [`Decoder::conceal`], when the payload that follows the loss is already known: codecs with in-band
    /// forward error correction (Opus) rebuild the lost frame from it. Default: plain `conceal`.
    fn conceal_before(&mut self, next_payload: &[u8], samples: usize, out: &mut [i16]) -> usize {
        let _ = next_payload;
        self.conceal(samples, out)
    }
}

/// A decoder for the `a=rtpmap` entry `encoding_name/clock_rate/channels` (name case-insensitive), or `None`
/// when the codec is not decodable here (x-msrta, SILK, SIREN, G7221, ...): the engine then keeps its RTP only.
///
/// PCMU/PCMA (8 kHz, 1–2 channels), G722 (8000 clock, 1–2 channels: the own 64 kbit/s decoder of [`g722`], 16 kHz
/// out, stereo nibble-interleaved and downmixed), opus (48000 clock, decoded to 48 kHz mono), CN (any clock).
pub fn decoder_for(
    encoding_name: &str,
    clock_rate: u32,
    channels: u16,
) -> Option<Box<dyn Decoder>> {
    let name = encoding_name.trim();
    let ch = if channels == 0 { 1 } else { channels };
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    if is("PCMU") && clock_rate == 8000 && ch <= 2 {
        Some(Box::new(g711::G711Decoder::ulaw(ch)))
    } else if is("PCMA") && clock_rate == 8000 && ch <= 2 {
        Some(Box::new(g711::G711Decoder::alaw(ch)))
    } else if is("G722") && clock_rate == 8000 && ch <= 2 {
        Some(Box::new(g722::G722Decoder::new(ch)))
    } else if is("opus") && clock_rate == 48000 && ch <= 2 {
        Some(Box::new(opus::OpusDecoder::new(48000)?))
    } else if is("CN") && clock_rate > 0 {
        Some(Box::new(cn::CnDecoder::new(clock_rate)))
    } else {
        None
    }
}
