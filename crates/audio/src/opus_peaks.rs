//! Waveform peaks of an Ogg Opus recording (RFC 7845): Ogg pages are parsed as bytes arrive, their Opus
//! packets decoded one by one with libopus and the PCM fed to a [`PeaksBuilder`], exactly as a WAV's samples
//! are. A growing `.opus.part` works too: only complete pages whose CRC is right count; a torn last page waits
//! for more bytes (or is ignored at [`OggOpusPeaks::finish`]).
//!
//! Memory stays bounded whatever the length: one Ogg page (at most 65,307 bytes), one packet, one decoded
//! frame (120 ms) and the peaks themselves (200 bytes a second for stereo).
//!
//! Pure: bytes in, peaks bytes out.

use audiopus::{coder::Decoder as OpusLib, packet::Packet, Channels, MutSignals};

use crate::codec::opus::opus_rate;
use crate::peaks::{samples_per_pixel_for, PeaksBuilder};

/// Largest Ogg page: 27-byte header, 255 lacing values, 255 × 255 bytes of body.
const MAX_PAGE: usize = 27 + 255 + 255 * 255;

/// CRC-32 of Ogg pages (polynomial 0x04C11DB7, not reflected, initial value 0).
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04C1_1DB7
            } else {
                r << 1
            };
            k += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
};

fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for (i, &b) in page.iter().enumerate() {
        // the CRC field itself counts as zeros
        let b = if (22..26).contains(&i) { 0 } else { b };
        crc = (crc << 8) ^ CRC_TABLE[(((crc >> 24) as u8) ^ b) as usize];
    }
    crc
}

/// The stream parameters an `OpusHead` packet gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channels (1 or 2 have peaks).
    pub channels: u8,
    /// Samples (at 48 kHz) to drop at the start.
    pub pre_skip: u16,
    /// Sample rate of the original input, Hz (informational; 0 when unknown).
    pub input_rate: u32,
}

/// Parses an `OpusHead` packet (RFC 7845 §5.1); `None` when it is not one.
pub fn parse_opus_head(packet: &[u8]) -> Option<OpusHead> {
    if packet.len() < 19 || &packet[0..8] != b"OpusHead" || packet[8] >> 4 != 0 {
        return None;
    }
    Some(OpusHead {
        channels: packet[9],
        pre_skip: u16::from_le_bytes([packet[10], packet[11]]),
        input_rate: u32::from_le_bytes([packet[12], packet[13], packet[14], packet[15]]),
    })
}

/// Why an Ogg Opus file has no peaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpusPeaksError {
    /// The bytes do not start with an Ogg page.
    #[error("not an Ogg file (no OggS page at the start)")]
    NotOgg,
    /// The first packet is not an `OpusHead`.
    #[error("the Ogg stream is not Opus (no OpusHead)")]
    NotOpus,
    /// Only mono and stereo (channel mapping family 0) have peaks.
    #[error("Opus stream with {0} channels: only mono and stereo have peaks")]
    Channels(u8),
    /// libopus refused to set up a decoder.
    #[error("cannot create an Opus decoder: {0}")]
    Decoder(String),
    /// No complete `OpusHead` page yet (an empty or just-started `.part`).
    #[error("no complete OpusHead page yet")]
    NoHead,
}

struct Stream {
    lib: OpusLib,
    channels: usize,
    rate: u32,
    /// Output samples (per channel) still to drop for the pre-skip.
    skip: u64,
    /// Output samples (per channel) produced after the pre-skip.
    emitted: u64,
    pre_skip_48k: u64,
    builder: PeaksBuilder,
}

/// Incremental peaks of an Ogg Opus file fed in pieces of any size (see the module docs).
pub struct OggOpusPeaks {
    /// Bytes of the page being assembled (never more than one page).
    pending: Vec<u8>,
    /// The packet being assembled across lacing values and pages.
    packet: Vec<u8>,
    /// Decoded PCM of one packet (120 ms at the decoding rate, interleaved).
    pcm: Vec<i16>,
    serial: Option<u32>,
    packets_seen: u64,
    stream: Option<Stream>,
    error: Option<OpusPeaksError>,
    /// Packets libopus could not decode (counted, skipped).
    bad_packets: u64,
}

impl std::fmt::Debug for OggOpusPeaks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OggOpusPeaks")
            .field("packets_seen", &self.packets_seen)
            .field("bad_packets", &self.bad_packets)
            .finish()
    }
}

impl Default for OggOpusPeaks {
    fn default() -> Self {
        Self::new()
    }
}

impl OggOpusPeaks {
    /// An empty parser.
    pub fn new() -> Self {
        Self {
            pending: Vec::with_capacity(MAX_PAGE),
            packet: Vec::new(),
            pcm: Vec::new(),
            serial: None,
            packets_seen: 0,
            stream: None,
            error: None,
            bad_packets: 0,
        }
    }

    /// Adds the next bytes of the file.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.error.is_none() {
            let need = self.page_need();
            if self.pending.len() < need {
                let take = (need - self.pending.len()).min(bytes.len());
                self.pending.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                continue;
            }
            self.take_page();
        }
        if self.error.is_none() && self.pending.len() >= self.page_need() {
            self.take_page();
        }
    }

    /// Bytes the page in `pending` needs to be complete (as far as its header tells so far).
    fn page_need(&self) -> usize {
        let p = &self.pending;
        if p.len() < 27 {
            return 27;
        }
        let segs = usize::from(p[26]);
        if p.len() < 27 + segs {
            return 27 + segs;
        }
        27 + segs
            + p[27..27 + segs]
                .iter()
                .map(|&l| usize::from(l))
                .sum::<usize>()
    }

    /// Handles the complete page in `pending` and empties it.
    fn take_page(&mut self) {
        let page = std::mem::take(&mut self.pending);
        if &page[0..4] != b"OggS" || page[4] != 0 {
            if self.serial.is_none() {
                self.error = Some(OpusPeaksError::NotOgg);
            } else {
                // lost sync inside the file: resynchronise at the next "OggS"
                let next = page[1..].windows(4).position(|w| w == b"OggS");
                self.pending = page;
                match next {
                    Some(at) => {
                        self.pending.drain(..=at);
                    }
                    None => {
                        let keep = self.pending.len().saturating_sub(3);
                        self.pending.drain(..keep);
                    }
                }
                return;
            }
            self.pending = page;
            return;
        }
        let crc = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
        let serial = u32::from_le_bytes([page[14], page[15], page[16], page[17]]);
        if ogg_crc(&page) == crc && *self.serial.get_or_insert(serial) == serial {
            let granule = u64::from_le_bytes(page[6..14].try_into().unwrap_or([0xFF; 8]));
            let continued = page[5] & 1 == 1;
            if !continued {
                self.packet.clear();
            }
            let segs = usize::from(page[26]);
            let mut at = 27 + segs;
            for i in 0..segs {
                let len = usize::from(page[27 + i]);
                self.packet.extend_from_slice(&page[at..at + len]);
                at += len;
                if len < 255 {
                    self.packet_done(granule);
                    self.packet.clear();
                }
            }
        } else {
            // a damaged page: its packets are lost, a packet it continued too
            self.packet.clear();
        }
        self.pending = page;
        self.pending.clear();
    }

    /// Handles the complete packet in `packet`; `granule` is its page's granule position.
    fn packet_done(&mut self, granule: u64) {
        let index = self.packets_seen;
        self.packets_seen += 1;
        if index == 0 {
            if let Err(e) = self.start(granule) {
                self.error = Some(e);
            }
            return;
        }
        if index == 1 {
            return; // OpusTags
        }
        let Some(s) = self.stream.as_mut() else {
            return;
        };
        let Ok(packet) = Packet::try_from(&self.packet[..]) else {
            self.bad_packets += 1;
            return;
        };
        let Ok(signals) = MutSignals::try_from(&mut self.pcm[..]) else {
            return;
        };
        let Ok(got) = s.lib.decode(Some(packet), signals, false) else {
            self.bad_packets += 1;
            return;
        };
        let mut frames = got as u64;
        let mut from = 0u64;
        if s.skip > 0 {
            from = s.skip.min(frames);
            s.skip -= from;
        }
        // end trimming: a page's granule position is the end of its last packet (RFC 7845 §4.4)
        if granule != u64::MAX {
            let end = granule.saturating_sub(s.pre_skip_48k) * u64::from(s.rate) / 48_000;
            frames = frames.min(from + end.saturating_sub(s.emitted));
        }
        if frames > from {
            let (a, b) = (from as usize * s.channels, frames as usize * s.channels);
            s.builder.push(&self.pcm[a..b]);
            s.emitted += frames - from;
        }
    }

    fn start(&mut self, _granule: u64) -> Result<(), OpusPeaksError> {
        let head = parse_opus_head(&self.packet).ok_or(OpusPeaksError::NotOpus)?;
        let channels = match head.channels {
            1 => Channels::Mono,
            2 => Channels::Stereo,
            n => return Err(OpusPeaksError::Channels(n)),
        };
        // decode at the input rate when libopus can (the WAV of the same call has that rate), else 48 kHz
        let (rate, lib_rate) = match opus_rate(head.input_rate) {
            Some(r) => (head.input_rate, r),
            None => (48_000, audiopus::SampleRate::Hz48000),
        };
        let lib =
            OpusLib::new(lib_rate, channels).map_err(|e| OpusPeaksError::Decoder(e.to_string()))?;
        let n = usize::from(head.channels);
        self.pcm = vec![0; rate as usize * 120 / 1000 * n];
        self.stream = Some(Stream {
            lib,
            channels: n,
            rate,
            skip: u64::from(head.pre_skip) * u64::from(rate) / 48_000,
            emitted: 0,
            pre_skip_48k: u64::from(head.pre_skip),
            builder: PeaksBuilder::new(u16::from(head.channels), rate, samples_per_pixel_for(rate)),
        });
        Ok(())
    }

    /// Packets libopus could not decode so far (skipped).
    pub fn bad_packets(&self) -> u64 {
        self.bad_packets
    }

    /// The `.dat` v2 peaks of every complete page fed (a torn last page is left out).
    pub fn finish(self) -> Result<Vec<u8>, OpusPeaksError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        match self.stream {
            Some(s) => Ok(s.builder.finish()),
            None if self.serial.is_none()
                && self.packets_seen == 0
                && self.pending.len() >= 4
                && &self.pending[0..4] != b"OggS" =>
            {
                Err(OpusPeaksError::NotOgg)
            }
            None => Err(OpusPeaksError::NoHead),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ogg_opus::OggOpusSink;
    use crate::peaks::parse_peaks;
    use crate::AudioSink;

    fn opus_file(rate: u32, seconds: u32) -> Vec<u8> {
        let mut sink = OggOpusSink::new(rate, 2, Default::default(), 7).unwrap();
        let mut out = Vec::new();
        // left: 400 Hz at 16000 for the first half, then silence; right: silence then 300 Hz at 8000
        let n = rate * seconds;
        let pcm: Vec<i16> = (0..n)
            .flat_map(|i| {
                let t = f64::from(i) / f64::from(rate);
                let first = i < n / 2;
                let l = if first {
                    16000.0 * (std::f64::consts::TAU * 400.0 * t).sin()
                } else {
                    0.0
                };
                let r = if first {
                    0.0
                } else {
                    8000.0 * (std::f64::consts::TAU * 300.0 * t).sin()
                };
                [l as i16, r as i16]
            })
            .collect();
        for piece in pcm.chunks(1234) {
            sink.write(piece, &mut out);
        }
        sink.finish(&mut out);
        out
    }

    #[test]
    fn peaks_follow_the_channels_and_the_length() {
        let file = opus_file(16000, 2);
        let mut p = OggOpusPeaks::new();
        for piece in file.chunks(777) {
            p.push(piece);
        }
        let peaks = parse_peaks(&p.finish().unwrap()).unwrap();
        assert_eq!(
            (peaks.channels, peaks.sample_rate, peaks.samples_per_pixel),
            (2, 16000, 320)
        );
        // 2 s at 20 ms a pixel: pre-skip and end trimming give back the exact length
        assert_eq!(peaks.pairs.len(), 100 * 2);
        for (px, pair) in peaks.pairs.chunks(2).enumerate() {
            let (l, r) = (pair[0].1, pair[1].1);
            if (5..45).contains(&px) {
                assert!(l >= 12_000 && r < 1_500, "pixel {px}: {pair:?}");
            }
            if (55..95).contains(&px) {
                assert!(r >= 5_000 && l < 1_500, "pixel {px}: {pair:?}");
            }
        }
    }

    #[test]
    fn a_torn_part_counts_complete_pages_only_and_bad_input_is_refused() {
        let file = opus_file(8000, 3);
        let mut whole = OggOpusPeaks::new();
        whole.push(&file);
        let whole = parse_peaks(&whole.finish().unwrap()).unwrap();
        let mut torn = OggOpusPeaks::new();
        torn.push(&file[..file.len() * 2 / 3]);
        let torn = parse_peaks(&torn.finish().unwrap()).unwrap();
        assert!(torn.pairs.len() > 40 && torn.pairs.len() < whole.pairs.len());
        // what there is agrees with the whole file (but the last, partial, pixel)
        let full = torn.pairs.len() - 2;
        assert_eq!(torn.pairs[..full], whole.pairs[..full]);
        // a corrupted page is skipped, the rest still decodes
        let mut bad = file.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        let mut p = OggOpusPeaks::new();
        p.push(&bad);
        let p = parse_peaks(&p.finish().unwrap()).unwrap();
        assert!(p.pairs.len() < whole.pairs.len() && p.pairs.len() > whole.pairs.len() / 2);
        // headers only, not Ogg, not Opus
        let mut p = OggOpusPeaks::new();
        p.push(&file[..20]);
        assert_eq!(p.finish().unwrap_err(), OpusPeaksError::NoHead);
        let mut p = OggOpusPeaks::new();
        p.push(b"RIFF\0\0\0\0WAVEfmt ......................................");
        assert_eq!(p.finish().unwrap_err(), OpusPeaksError::NotOgg);
        let mut not_opus = file[..47].to_vec();
        not_opus[28..36].copy_from_slice(b"Vorbis!!");
        let crc = ogg_crc(&not_opus);
        not_opus[22..26].copy_from_slice(&crc.to_le_bytes());
        let mut p = OggOpusPeaks::new();
        p.push(&not_opus);
        assert_eq!(p.finish().unwrap_err(), OpusPeaksError::NotOpus);
    }
}
