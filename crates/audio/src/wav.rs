//! Incremental WAV (RIFF, PCM 16-bit little-endian) writer.
//!
//! `hound` (the workspace's WAV crate) writes through `Write + Seek`; the recorder instead appends to a
//! caller-supplied buffer and patches the header in place, so the 44-byte canonical header is written here by hand
//! and [`AudioSink::header_patch`] returns it with the current sizes. Tests read the files back with `hound` and
//! `soxi`.

use crate::AudioSink;

/// Size of the canonical PCM WAV header (RIFF + fmt + data chunk headers).
pub const WAV_HEADER_LEN: usize = 44;

/// Largest data chunk a RIFF file can describe (its sizes are 32-bit); samples beyond it are dropped.
const MAX_DATA: u64 = u32::MAX as u64 - 36;

/// WAV PCM16 sink: mono or interleaved stereo at any rate.
#[derive(Debug, Clone)]
pub struct WavSink {
    rate: u32,
    channels: u16,
    header_written: bool,
    data_bytes: u64,
    dropped_samples: u64,
    /// The `LIST`/`INFO` chunk to append after the samples at [`AudioSink::finish`].
    tags: Option<Vec<u8>>,
    /// Bytes of chunks written after the data chunk (the tags, once finished).
    trailer_bytes: u32,
}

impl WavSink {
    /// A sink for `channels` (1 or 2; other values are clamped) interleaved channels at `sample_rate` Hz.
    pub fn new(sample_rate: u32, channels: u16) -> Self {
        Self {
            rate: sample_rate,
            channels: channels.clamp(1, 2),
            header_written: false,
            data_bytes: 0,
            dropped_samples: 0,
            tags: None,
            trailer_bytes: 0,
        }
    }

    /// The 44-byte header describing the samples written so far.
    pub fn header(&self) -> [u8; WAV_HEADER_LEN] {
        let data = self.data_bytes.min(MAX_DATA) as u32;
        let block_align = self.channels * 2;
        let byte_rate = self.rate.saturating_mul(u32::from(block_align));
        let mut h = [0u8; WAV_HEADER_LEN];
        h[0..4].copy_from_slice(b"RIFF");
        h[4..8].copy_from_slice(&(36 + data).saturating_add(self.trailer_bytes).to_le_bytes());
        h[8..12].copy_from_slice(b"WAVE");
        h[12..16].copy_from_slice(b"fmt ");
        h[16..20].copy_from_slice(&16u32.to_le_bytes());
        h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
        h[22..24].copy_from_slice(&self.channels.to_le_bytes());
        h[24..28].copy_from_slice(&self.rate.to_le_bytes());
        h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
        h[32..34].copy_from_slice(&block_align.to_le_bytes());
        h[34..36].copy_from_slice(&16u16.to_le_bytes());
        h[36..40].copy_from_slice(b"data");
        h[40..44].copy_from_slice(&data.to_le_bytes());
        h
    }

    /// Bytes of PCM data written so far (excluding the header).
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Samples dropped: a trailing partial frame of a `write` call, or anything past the 4 GiB RIFF limit.
    pub fn dropped_samples(&self) -> u64 {
        self.dropped_samples
    }

    fn ensure_header(&mut self, out: &mut Vec<u8>) {
        if !self.header_written {
            out.extend_from_slice(&self.header());
            self.header_written = true;
        }
    }
}

impl AudioSink for WavSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }
    fn channels(&self) -> u16 {
        self.channels
    }
    /// Appends the header on the first call, then the samples as little-endian i16. A trailing partial frame
    /// (odd sample count in stereo) is dropped so channels never swap.
    fn write(&mut self, interleaved: &[i16], out: &mut Vec<u8>) {
        self.ensure_header(out);
        let ch = usize::from(self.channels);
        let whole = interleaved.len() / ch * ch;
        let room = ((MAX_DATA - self.data_bytes.min(MAX_DATA)) / 2) as usize / ch * ch;
        let take = whole.min(room);
        self.dropped_samples += (interleaved.len() - take) as u64;
        let samples = &interleaved[..take];
        let start = out.len();
        out.resize(start + samples.len() * 2, 0);
        for (dst, s) in out[start..].chunks_exact_mut(2).zip(samples) {
            dst.copy_from_slice(&s.to_le_bytes());
        }
        self.data_bytes += (take * 2) as u64;
    }
    fn header_patch(&self) -> Option<(u64, Vec<u8>)> {
        Some((0, self.header().to_vec()))
    }
    /// Makes sure the header exists (an empty recording is still a valid file) and appends the tags, if any,
    /// as a `LIST`/`INFO` chunk after the samples (so the 44-byte header, patched while the call runs, keeps
    /// its layout); the RIFF size then counts it.
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.ensure_header(out);
        if let Some(list) = self.tags.take() {
            // the data chunk holds whole 16-bit samples: always even, no pad byte needed before the next chunk
            let room = u64::from(u32::MAX) - 36 - self.data_bytes.min(MAX_DATA);
            if (list.len() as u64) <= room {
                self.trailer_bytes = list.len() as u32;
                out.extend_from_slice(&list);
            }
        }
    }
    fn set_tags(&mut self, tags: &crate::RecordingTags) {
        if self.trailer_bytes == 0 {
            self.tags = Some(tags.riff_info());
        }
    }
}
