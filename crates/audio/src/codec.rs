//! The decoder interface shared by the timeline and the codec implementations.

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
}
