//! Waveform peaks: the minimum and maximum of every `samples_per_pixel` samples of each channel, so a player
//! can draw an hour-long recording at once without the audio.
//!
//! The encoding is the BBC audiowaveform binary `.dat` format, version 2, 8-bit resolution (all fields
//! little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 4 | version, `2` (i32) |
//! | 4 | flags, `1` = 8-bit values (u32) |
//! | 4 | sample rate, Hz (i32) |
//! | 4 | samples per pixel (i32) |
//! | 4 | length: pixels (u32) |
//! | 4 | channels (i32) |
//! | … | per pixel, per channel: min, max (i8 each: the 16-bit sample's high byte) |
//!
//! Pure: samples in, bytes out.

/// Size of the `.dat` v2 header.
pub const PEAKS_HEADER_LEN: usize = 24;

/// Samples per pixel for a sample rate: one pixel per 20 ms (a one-hour call is 180,000 pixels, 720 kB
/// for stereo).
pub fn samples_per_pixel_for(sample_rate: u32) -> u32 {
    (sample_rate / 50).max(1)
}

/// Builds the peaks of interleaved 16-bit PCM fed in pieces of any size.
#[derive(Debug, Clone)]
pub struct PeaksBuilder {
    channels: usize,
    sample_rate: u32,
    samples_per_pixel: u32,
    /// Samples (per channel) in the pixel being built.
    in_pixel: u32,
    /// The channel the next interleaved sample belongs to.
    next_channel: usize,
    min: Vec<i16>,
    max: Vec<i16>,
    data: Vec<u8>,
    pixels: u32,
}

impl PeaksBuilder {
    /// A builder for `channels` (at least 1) interleaved channels at `sample_rate`, one min/max pair per
    /// `samples_per_pixel` (at least 1) samples of each channel.
    pub fn new(channels: u16, sample_rate: u32, samples_per_pixel: u32) -> PeaksBuilder {
        let channels = usize::from(channels.max(1));
        PeaksBuilder {
            channels,
            sample_rate,
            samples_per_pixel: samples_per_pixel.max(1),
            in_pixel: 0,
            next_channel: 0,
            min: vec![i16::MAX; channels],
            max: vec![i16::MIN; channels],
            data: Vec::new(),
            pixels: 0,
        }
    }

    /// Adds interleaved samples (a piece may end in the middle of a frame; the next one continues it).
    pub fn push(&mut self, samples: &[i16]) {
        for &s in samples {
            let c = self.next_channel;
            self.min[c] = self.min[c].min(s);
            self.max[c] = self.max[c].max(s);
            self.next_channel += 1;
            if self.next_channel == self.channels {
                self.next_channel = 0;
                self.in_pixel += 1;
                if self.in_pixel == self.samples_per_pixel {
                    self.flush_pixel();
                }
            }
        }
    }

    /// Adds interleaved little-endian 16-bit PCM bytes (an odd trailing byte is ignored).
    pub fn push_le_bytes(&mut self, bytes: &[u8]) {
        let mut buf = [0i16; 512];
        for chunk in bytes.chunks(buf.len() * 2) {
            let n = chunk.len() / 2;
            for (out, pair) in buf.iter_mut().zip(chunk.chunks_exact(2)) {
                *out = i16::from_le_bytes([pair[0], pair[1]]);
            }
            self.push(&buf[..n]);
        }
    }

    fn flush_pixel(&mut self) {
        for c in 0..self.channels {
            self.data.push(to_i8(self.min[c]) as u8);
            self.data.push(to_i8(self.max[c]) as u8);
            self.min[c] = i16::MAX;
            self.max[c] = i16::MIN;
        }
        self.in_pixel = 0;
        self.pixels += 1;
    }

    /// Pixels completed so far.
    pub fn pixels(&self) -> u32 {
        self.pixels
    }

    /// The `.dat` v2 bytes: header and every pixel, a last partial pixel included.
    pub fn finish(mut self) -> Vec<u8> {
        if self.in_pixel > 0 {
            self.flush_pixel();
        }
        let mut out = Vec::with_capacity(PEAKS_HEADER_LEN + self.data.len());
        out.extend_from_slice(&2i32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(self.sample_rate as i32).to_le_bytes());
        out.extend_from_slice(&(self.samples_per_pixel as i32).to_le_bytes());
        out.extend_from_slice(&self.pixels.to_le_bytes());
        out.extend_from_slice(&(self.channels as i32).to_le_bytes());
        out.extend_from_slice(&self.data);
        out
    }
}

/// The 8-bit value of a 16-bit sample (its high byte, as audiowaveform does).
fn to_i8(s: i16) -> i8 {
    (s >> 8) as i8
}

/// A parsed `.dat` file (v1 or v2, 8- or 16-bit values widened to i16 at 16-bit scale).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peaks {
    /// Sample rate of the audio, Hz.
    pub sample_rate: u32,
    /// Samples per pixel.
    pub samples_per_pixel: u32,
    /// Channels.
    pub channels: u16,
    /// Per pixel, per channel: (min, max).
    pub pairs: Vec<(i16, i16)>,
}

/// Parses `.dat` bytes; `None` for a truncated or malformed file.
pub fn parse_peaks(bytes: &[u8]) -> Option<Peaks> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let version = word(0)?;
    let flags = word(4)?;
    let sample_rate = word(8)?;
    let samples_per_pixel = word(12)?;
    let length = word(16)? as usize;
    let (channels, start) = match version {
        1 => (1u16, 20usize),
        2 => (u16::try_from(word(20)?).ok()?, 24),
        _ => return None,
    };
    let eight = flags & 1 == 1;
    let size = if eight { 1 } else { 2 };
    let need = length
        .checked_mul(usize::from(channels))?
        .checked_mul(2 * size)?;
    let body = bytes.get(start..start.checked_add(need)?)?;
    let value = |i: usize| -> i16 {
        if eight {
            i16::from(body[i] as i8) << 8
        } else {
            i16::from_le_bytes([body[2 * i], body[2 * i + 1]])
        }
    };
    let pairs = (0..length * usize::from(channels))
        .map(|k| (value(2 * k), value(2 * k + 1)))
        .collect();
    Some(Peaks {
        sample_rate,
        samples_per_pixel,
        channels,
        pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_left_silence_right() {
        // 1 s of a 400 Hz tone of amplitude 12000 on the left, silence on the right, 8 kHz
        let rate = 8000;
        let mut pcm = Vec::new();
        for i in 0..rate {
            let t = f64::from(i) / f64::from(rate);
            pcm.push((12000.0 * (2.0 * std::f64::consts::PI * 400.0 * t).sin()) as i16);
            pcm.push(0);
        }
        let mut b = PeaksBuilder::new(2, rate, samples_per_pixel_for(rate));
        // odd-sized pieces, splitting frames
        for piece in pcm.chunks(37) {
            b.push(piece);
        }
        let bytes = b.finish();
        let p = parse_peaks(&bytes).unwrap();
        assert_eq!(
            (p.sample_rate, p.samples_per_pixel, p.channels),
            (8000, 160, 2)
        );
        assert_eq!(p.pairs.len(), 50 * 2);
        assert_eq!(bytes.len(), PEAKS_HEADER_LEN + 50 * 2 * 2);
        for px in p.pairs.chunks(2) {
            let (lmin, lmax) = px[0];
            // 160 samples hold 8 periods of the tone: its extremes are in every pixel
            assert!(lmax >= 11_000 && lmin <= -11_000, "{px:?}");
            assert_eq!(px[1], (0, 0));
        }
    }

    #[test]
    fn partial_pixel_bytes_and_bad_files() {
        let mut b = PeaksBuilder::new(1, 100, 4);
        let pcm: Vec<u8> = [100i16, -300, 2000, 5, 7, -32768]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        b.push_le_bytes(&pcm);
        let bytes = b.finish();
        let p = parse_peaks(&bytes).unwrap();
        // high bytes: -300 >> 8 = -2, 2000 >> 8 = 7; -32768 >> 8 = -128
        assert_eq!(p.pairs, vec![(-2 << 8, 7 << 8), (-128 << 8, 0)]);
        assert!(parse_peaks(&bytes[..bytes.len() - 1]).is_none());
        assert!(parse_peaks(&bytes[..10]).is_none());
        let mut v3 = bytes.clone();
        v3[0] = 3;
        assert!(parse_peaks(&v3).is_none());
        // an absurd length does not overflow or allocate
        let mut huge = bytes;
        huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_peaks(&huge).is_none());
    }
}
