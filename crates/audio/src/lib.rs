//! Audio pipeline of the recorder: per-stream timelines, decoders, mixing and incremental encoders.
//!
//! Pure: time and bytes are inputs; encoders write into caller-supplied buffers.
//! The two halves meet at two small traits defined here: [`Decoder`] (payload → PCM) and
//! [`AudioSink`] (mixed PCM → encoded bytes).

pub mod codec;
pub mod sink;

pub use codec::{DecodeError, Decoder};
pub use sink::AudioSink;
