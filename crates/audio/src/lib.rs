//! Audio pipeline of the recorder: per-stream timelines, decoders, mixing and incremental encoders.
//!
//! Pure: time and bytes are inputs; encoders write into caller-supplied buffers.
//! The two halves meet at two small traits defined here: [`Decoder`] (payload → PCM) and
//! [`AudioSink`] (mixed PCM → encoded bytes).

pub mod codec;
pub mod dtmf;
pub mod mixer;
pub mod ogg_opus;
pub mod opus_peaks;
pub mod peaks;
pub mod red;
pub mod resample;
pub mod sink;
pub mod tags;
pub mod timeline;
pub mod wav;

pub use codec::decoder_for;
pub use codec::{DecodeError, Decoder};
pub use dtmf::{DtmfEvent, DtmfTracker};
pub use mixer::{Mixer, MixerConfig, MixerInput};
pub use ogg_opus::{OggOpusSink, OpusSettings};
pub use peaks::{parse_peaks, Peaks, PeaksBuilder};
pub use red::{parse_red, Red, RedBlock, RedError};
pub use resample::Resampler;
pub use sink::AudioSink;
pub use tags::{rfc3339_seconds, trailing_riff_info_len, RecordingTags, MAX_RIFF_INFO_LEN};
pub use timeline::{RtpIn, Timeline, TimelineConfig, TimelineOutput, TimelineStats};
pub use wav::WavSink;
