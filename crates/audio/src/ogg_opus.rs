//! Incremental Ogg Opus writer (RFC 7845) on libopus (`audiopus`) and the `ogg` crate.
//!
//! Layout: page 0 holds only `OpusHead` (BOS), page 1 only `OpusTags`; audio pages follow, one about every
//! second, each granule position counting 48 kHz samples including the pre-skip; the last page carries EOS and
//! a granule position that trims the padding of the final frame (end trimming, RFC 7845 §4.4). Pre-skip is the
//! encoder's lookahead scaled to 48 kHz.

use audiopus::{coder::Encoder, Application, Bandwidth, Bitrate, Channels, Signal};
use ogg::writing::{PacketWriteEndInfo, PacketWriter};

use crate::codec::opus::opus_rate;
use crate::AudioSink;

/// Encoder application mode (libopus `OPUS_APPLICATION_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpusApplication {
    /// Speech-optimised (SILK-heavy, speech enhancements).
    Voip,
    /// General audio (favours fidelity).
    Audio,
    /// CELT only (`OPUS_APPLICATION_RESTRICTED_LOWDELAY`): no SILK, lowest delay.
    LowDelay,
}

/// Widest audio band the encoder may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpusBandwidth {
    /// 4 kHz audio band.
    Narrowband,
    /// 6 kHz.
    Mediumband,
    /// 8 kHz (matches 16 kHz wideband calls).
    Wideband,
    /// 12 kHz.
    Superwideband,
    /// 20 kHz.
    Fullband,
}

/// Encoder settings of [`OggOpusSink`]. The defaults were chosen by measurement (crates/audio/BENCHMARKS.md):
/// speech quality kept, encoding cheap enough for the ≥ 500 calls per core goal: CELT-only (`LowDelay`),
/// complexity 0, 20 kbit/s mono / 32 kbit/s stereo, VBR, up to wideband, 20 ms frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusSettings {
    /// Application mode.
    pub application: OpusApplication,
    /// Encoder complexity 0 (cheapest) ..= 10.
    pub complexity: u8,
    /// Target bitrate of a mono stream in bit/s.
    pub mono_bitrate: i32,
    /// Target bitrate of a stereo stream in bit/s.
    pub stereo_bitrate: i32,
    /// Widest band encoded.
    pub max_bandwidth: OpusBandwidth,
    /// Variable bitrate (true) or constant.
    pub vbr: bool,
    /// Frame duration in ms: 10, 20, 40 or 60 (longer frames cost less CPU and container overhead).
    pub frame_ms: u8,
}

impl Default for OpusSettings {
    fn default() -> Self {
        Self {
            application: OpusApplication::LowDelay,
            complexity: 0,
            mono_bitrate: 20_000,
            stereo_bitrate: 32_000,
            max_bandwidth: OpusBandwidth::Wideband,
            vbr: true,
            frame_ms: 20,
        }
    }
}

/// Why an [`OggOpusSink`] could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpusSinkError {
    /// Opus encodes 8, 12, 16, 24 or 48 kHz only.
    #[error("Opus cannot encode at {0} Hz (8000, 12000, 16000, 24000 or 48000)")]
    UnsupportedRate(u32),
    /// Mono or stereo only.
    #[error("Opus sink takes 1 or 2 channels, not {0}")]
    UnsupportedChannels(u16),
    /// Frame duration not one of 10, 20, 40, 60 ms.
    #[error("Opus frame of {0} ms is not supported (10, 20, 40 or 60)")]
    UnsupportedFrame(u8),
    /// libopus refused a setting.
    #[error("libopus rejected the {what} setting: {reason}")]
    Encoder {
        /// Which setting.
        what: &'static str,
        /// libopus' message.
        reason: String,
    },
}

/// Ogg Opus sink: interleaved PCM in, Ogg pages out.
pub struct OggOpusSink {
    enc: Encoder,
    writer: PacketWriter<'static, Vec<u8>>,
    serial: u32,
    rate: u32,
    channels: u16,
    /// Samples per channel in one frame at the input rate.
    frame: usize,
    /// The same frame in 48 kHz units.
    frame48: u64,
    pending: Vec<i16>,
    packet: Vec<u8>,
    pre_skip: u16,
    /// Input samples per channel received.
    samples_in: u64,
    /// Granule position after the last packet written.
    granule: u64,
    packets_on_page: u32,
    packets_per_page: u32,
    headers_written: bool,
    finished: bool,
    encode_errors: u64,
    /// Vorbis comments for `OpusTags` (taken until the headers are written).
    comments: Vec<String>,
}

impl std::fmt::Debug for OggOpusSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OggOpusSink")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .field("pre_skip", &self.pre_skip)
            .field("granule", &self.granule)
            .finish()
    }
}

fn lib_err(what: &'static str) -> impl Fn(audiopus::Error) -> OpusSinkError {
    move |e| OpusSinkError::Encoder {
        what,
        reason: e.to_string(),
    }
}

impl OggOpusSink {
    /// A sink encoding `channels` (1 or 2) at `sample_rate` with `settings`; `serial` is the Ogg stream serial
    /// number (the caller picks it, e.g. from a hash of the call id: this crate has no randomness).
    pub fn new(
        sample_rate: u32,
        channels: u16,
        settings: OpusSettings,
        serial: u32,
    ) -> Result<Self, OpusSinkError> {
        let sr = opus_rate(sample_rate).ok_or(OpusSinkError::UnsupportedRate(sample_rate))?;
        let ch = match channels {
            1 => Channels::Mono,
            2 => Channels::Stereo,
            n => return Err(OpusSinkError::UnsupportedChannels(n)),
        };
        if ![10, 20, 40, 60].contains(&settings.frame_ms) {
            return Err(OpusSinkError::UnsupportedFrame(settings.frame_ms));
        }
        let app = match settings.application {
            OpusApplication::Voip => Application::Voip,
            OpusApplication::Audio => Application::Audio,
            OpusApplication::LowDelay => Application::LowDelay,
        };
        let mut enc = Encoder::new(sr, ch, app).map_err(lib_err("application"))?;
        enc.set_complexity(settings.complexity.min(10))
            .map_err(lib_err("complexity"))?;
        let bitrate = if channels == 2 {
            settings.stereo_bitrate
        } else {
            settings.mono_bitrate
        };
        enc.set_bitrate(Bitrate::BitsPerSecond(bitrate))
            .map_err(lib_err("bitrate"))?;
        enc.set_max_bandwidth(match settings.max_bandwidth {
            OpusBandwidth::Narrowband => Bandwidth::Narrowband,
            OpusBandwidth::Mediumband => Bandwidth::Mediumband,
            OpusBandwidth::Wideband => Bandwidth::Wideband,
            OpusBandwidth::Superwideband => Bandwidth::Superwideband,
            OpusBandwidth::Fullband => Bandwidth::Fullband,
        })
        .map_err(lib_err("max bandwidth"))?;
        enc.set_vbr(settings.vbr).map_err(lib_err("vbr"))?;
        enc.set_signal(Signal::Voice).map_err(lib_err("signal"))?;
        let lookahead = enc.lookahead().map_err(lib_err("lookahead"))?;
        let pre_skip = u16::try_from(u64::from(lookahead) * 48_000 / u64::from(sample_rate))
            .unwrap_or(u16::MAX);
        let frame = sample_rate as usize * usize::from(settings.frame_ms) / 1000;
        Ok(Self {
            enc,
            writer: PacketWriter::new(Vec::with_capacity(8192)),
            serial,
            rate: sample_rate,
            channels,
            frame,
            frame48: 48 * u64::from(settings.frame_ms),
            pending: Vec::with_capacity(frame * usize::from(channels)),
            packet: vec![0; 4000],
            pre_skip,
            samples_in: 0,
            granule: 0,
            packets_on_page: 0,
            packets_per_page: 1000 / u32::from(settings.frame_ms),
            headers_written: false,
            finished: false,
            encode_errors: 0,
            comments: Vec::new(),
        })
    }

    /// Pre-skip written in `OpusHead`, in 48 kHz samples.
    pub fn pre_skip(&self) -> u16 {
        self.pre_skip
    }

    /// Frames libopus failed to encode (replaced by nothing; should stay 0).
    pub fn encode_errors(&self) -> u64 {
        self.encode_errors
    }

    /// The `OpusHead` identification header (RFC 7845 §5.1, channel mapping family 0).
    pub fn opus_head(&self) -> [u8; 19] {
        let mut h = [0u8; 19];
        h[0..8].copy_from_slice(b"OpusHead");
        h[8] = 1;
        h[9] = self.channels as u8;
        h[10..12].copy_from_slice(&self.pre_skip.to_le_bytes());
        h[12..16].copy_from_slice(&self.rate.to_le_bytes());
        // output gain 0, mapping family 0
        h
    }

    /// The `OpusTags` comment header (RFC 7845 §5.2) with the vendor string and the call's comments.
    fn opus_tags(&self) -> Vec<u8> {
        let vendor = concat!("rec-audio ", env!("CARGO_PKG_VERSION"), " (libopus)");
        let mut t = Vec::with_capacity(8 + 4 + vendor.len() + 4);
        t.extend_from_slice(b"OpusTags");
        t.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        t.extend_from_slice(vendor.as_bytes());
        t.extend_from_slice(&(self.comments.len() as u32).to_le_bytes());
        for c in &self.comments {
            t.extend_from_slice(&(c.len() as u32).to_le_bytes());
            t.extend_from_slice(c.as_bytes());
        }
        t
    }

    fn drain(&mut self, out: &mut Vec<u8>) {
        let inner = self.writer.inner_mut();
        out.extend_from_slice(inner);
        inner.clear();
    }

    fn ensure_headers(&mut self) {
        if self.headers_written {
            return;
        }
        self.headers_written = true;
        let head = self.opus_head().to_vec();
        // Writing into a Vec cannot fail.
        let _ = self
            .writer
            .write_packet(head, self.serial, PacketWriteEndInfo::EndPage, 0);
        let _ = self.writer.write_packet(
            self.opus_tags(),
            self.serial,
            PacketWriteEndInfo::EndPage,
            0,
        );
    }

    /// Encodes `self.pending` (exactly one frame) and writes the packet; `last` ends the stream with granule
    /// position `final_granule`.
    fn encode_pending(&mut self, last: Option<u64>) {
        self.granule += self.frame48;
        let n = match self.enc.encode(&self.pending, &mut self.packet) {
            Ok(n) => n,
            Err(_) => {
                self.encode_errors += 1;
                0
            }
        };
        self.pending.clear();
        self.packets_on_page += 1;
        let (info, gp) = match last {
            Some(gp) => (PacketWriteEndInfo::EndStream, gp),
            None if self.packets_on_page >= self.packets_per_page => {
                (PacketWriteEndInfo::EndPage, self.granule)
            }
            None => (PacketWriteEndInfo::NormalPacket, self.granule),
        };
        if info != PacketWriteEndInfo::NormalPacket {
            self.packets_on_page = 0;
        }
        // A zero-length packet (after an encoder error) is a valid "lost frame" in Ogg Opus.
        let _ = self
            .writer
            .write_packet(self.packet[..n].to_vec(), self.serial, info, gp);
    }
}

impl AudioSink for OggOpusSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }
    fn channels(&self) -> u16 {
        self.channels
    }
    /// Buffers `interleaved` into frames, encodes each full frame, and appends completed pages to `out`.
    /// Ignored after [`AudioSink::finish`].
    fn write(&mut self, interleaved: &[i16], out: &mut Vec<u8>) {
        if self.finished {
            return;
        }
        self.ensure_headers();
        let ch = usize::from(self.channels);
        let whole = interleaved.len() / ch * ch;
        let mut rest = &interleaved[..whole];
        self.samples_in += (whole / ch) as u64;
        let frame_len = self.frame * ch;
        while !rest.is_empty() {
            let take = (frame_len - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == frame_len {
                self.encode_pending(None);
            }
        }
        self.drain(out);
    }
    fn header_patch(&self) -> Option<(u64, Vec<u8>)> {
        None
    }
    fn set_tags(&mut self, tags: &crate::RecordingTags) {
        if !self.headers_written {
            self.comments = tags.vorbis_comments();
        }
    }
    /// Pads the last frame with silence, encodes until the encoder's lookahead is flushed, and appends the final
    /// page (EOS) whose granule position trims the padding.
    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.finished {
            return;
        }
        self.ensure_headers();
        self.finished = true;
        let target = u64::from(self.pre_skip) + self.samples_in * 48_000 / u64::from(self.rate);
        let frame_len = self.frame * usize::from(self.channels);
        loop {
            self.pending.resize(frame_len, 0);
            let last = self.granule + self.frame48 >= target;
            self.encode_pending(last.then_some(target));
            if last {
                break;
            }
        }
        self.drain(out);
    }
}
