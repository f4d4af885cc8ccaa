//! The audio file of one call while it is being written: mixer, encoder and the bytes not yet handed out,
//! plus the decrypted RTP of streams that cannot be decoded.

use rec_audio::{
    rfc3339_seconds, AudioSink, Mixer, MixerConfig, OggOpusSink, RecordingTags, WavSink,
};

use crate::config::{AudioFormat, EngineConfig};

/// Playout delay of a call's mixer: audio this much older than the newest packet is final. It covers the
/// timelines' reorder hold (100 ms) plus network jitter and reordering (200 ms was measured too short for 30 ms
/// jitter with 30–50 ms reordering: audio slipped).
pub(crate) const MIXER_PLAYOUT_US: i64 = 300_000;

/// Rates the Opus encoder accepts.
const OPUS_RATES: [u32; 5] = [8000, 12000, 16000, 24000, 48000];

/// Encoded audio ready to be appended to the call's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioChunk {
    /// Bytes to append at the end of the file.
    pub bytes: Vec<u8>,
    /// Bytes to write at this offset afterwards so the file so far is valid (WAV sizes); `None` for Ogg.
    pub header_patch: Option<(u64, Vec<u8>)>,
    /// Format of the file.
    pub format: AudioFormat,
    /// Output sample rate.
    pub sample_rate: u32,
    /// Output channels.
    pub channels: u16,
    /// This is the last chunk of the file.
    pub last: bool,
}

/// Decrypted RTP packets of undecodable streams: `(capture time µs, side index, packet)` records laid out in one
/// buffer so that keeping them allocates nothing per packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtpBatch {
    /// `(capture time µs, side index 0/1, byte range in data)` per packet.
    pub packets: Vec<(i64, u8, std::ops::Range<usize>)>,
    /// Packet bytes back to back.
    pub data: Vec<u8>,
}

impl RtpBatch {
    fn push(&mut self, at_us: i64, side: u8, pkt: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(pkt);
        self.packets.push((at_us, side, start..self.data.len()));
    }

    /// Whether no packet is held.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Iterates `(capture time µs, side index, packet bytes)`.
    pub fn iter(&self) -> impl Iterator<Item = (i64, u8, &[u8])> + '_ {
        self.packets
            .iter()
            .map(|(t, s, r)| (*t, *s, &self.data[r.clone()]))
    }
}

pub(crate) struct Recording {
    pub mixer: Option<Mixer>,
    sink: Option<Box<dyn AudioSink>>,
    pub pending: Vec<u8>,
    pub rtp: RtpBatch,
    last_flush_us: i64,
    format: AudioFormat,
    failed: Option<String>,
    /// The call's metadata for the file (handed to the encoder when it is created, and again at the end).
    tags: RecordingTags,
}

/// A party as one line of a file's tags: `"Display" <uri>`, or the URI alone.
fn party_line(p: &crate::Party) -> String {
    match &p.display {
        Some(d) if !d.is_empty() => format!("\"{d}\" <{}>", p.uri),
        _ => p.uri.clone(),
    }
}

/// What the recording file says about its call: Call-ID, parties, start and (once known) end.
pub(crate) fn recording_tags(meta: &crate::CallMeta) -> RecordingTags {
    RecordingTags {
        call_id: meta.call_id.clone(),
        from: party_line(&meta.from),
        to: party_line(&meta.to),
        started: rfc3339_seconds(meta.started_at_us),
        ended: meta.ended_at_us.map(rfc3339_seconds),
    }
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("pending", &self.pending.len())
            .field("rtp_packets", &self.rtp.packets.len())
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Recording {
    pub fn new(format: AudioFormat) -> Self {
        Recording {
            mixer: None,
            sink: None,
            pending: Vec::new(),
            rtp: RtpBatch::default(),
            last_flush_us: i64::MIN,
            format,
            failed: None,
            tags: RecordingTags::default(),
        }
    }

    /// The call's metadata to write into the file (see [`AudioSink::set_tags`] for when each format takes it).
    pub fn set_tags(&mut self, tags: RecordingTags) {
        if let Some(sink) = self.sink.as_mut() {
            sink.set_tags(&tags);
        }
        self.tags = tags;
    }

    /// The encoder could not be created (reason), so the call has no audio file.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The mixer, created on first use with the output rate chosen from `decoder_rate`.
    pub fn mixer(
        &mut self,
        cfg: &EngineConfig,
        mono: bool,
        decoder_rate: u32,
        origin_us: i64,
        serial: u32,
    ) -> Option<&mut Mixer> {
        if self.mixer.is_none() && self.failed.is_none() {
            let mut rate = cfg.sample_rate.unwrap_or(decoder_rate).clamp(8000, 48000);
            let channels = if cfg.mono || mono { 1 } else { 2 };
            let mut sink: Box<dyn AudioSink> = match cfg.format {
                AudioFormat::Wav => Box::new(WavSink::new(rate, channels)),
                AudioFormat::Opus => {
                    if !OPUS_RATES.contains(&rate) {
                        rate = OPUS_RATES
                            .iter()
                            .copied()
                            .find(|&r| r >= rate)
                            .unwrap_or(48000);
                    }
                    match OggOpusSink::new(rate, channels, cfg.opus, serial) {
                        Ok(s) => Box::new(s),
                        Err(e) => {
                            self.failed = Some(format!("Opus encoder not available: {e}"));
                            return None;
                        }
                    }
                }
            };
            sink.set_tags(&self.tags);
            let mut mcfg = MixerConfig::new(rate, channels);
            mcfg.playout_delay_us = MIXER_PLAYOUT_US;
            let mut mixer = Mixer::new(mcfg);
            mixer.set_origin(origin_us);
            self.mixer = Some(mixer);
            self.sink = Some(sink);
        }
        self.mixer.as_mut()
    }

    pub fn keep_rtp(&mut self, at_us: i64, side: u8, pkt: &[u8]) {
        self.rtp.push(at_us, side, pkt);
    }

    /// Encodes what the mixer has finished up to `mix_until_us`; returns a chunk when the flush interval has passed
    /// at `now_us` (or `force`).
    pub fn drain(
        &mut self,
        mix_until_us: i64,
        now_us: i64,
        interval_us: i64,
        force: bool,
    ) -> Option<AudioChunk> {
        let (Some(mixer), Some(sink)) = (self.mixer.as_mut(), self.sink.as_mut()) else {
            return None;
        };
        mixer.advance(mix_until_us);
        mixer.drain_into(sink.as_mut(), &mut self.pending);
        let due = force || now_us.saturating_sub(self.last_flush_us) >= interval_us;
        if !due || self.pending.is_empty() {
            return None;
        }
        self.last_flush_us = now_us;
        Some(self.take_chunk(false))
    }

    fn take_chunk(&mut self, last: bool) -> AudioChunk {
        let sink = self.sink.as_ref().expect("sink exists with mixer");
        AudioChunk {
            bytes: std::mem::take(&mut self.pending),
            header_patch: sink.header_patch(),
            format: self.format,
            sample_rate: sink.sample_rate(),
            channels: sink.channels(),
            last,
        }
    }

    /// Mixes and encodes everything left and ends the stream; the last chunk.
    pub fn finish(&mut self) -> Option<AudioChunk> {
        let (Some(mixer), Some(sink)) = (self.mixer.as_mut(), self.sink.as_mut()) else {
            return None;
        };
        mixer.finish(sink.as_mut(), &mut self.pending);
        Some(self.take_chunk(true))
    }

    /// Output rate and channels, once the encoder exists.
    pub fn format_info(&self) -> Option<(u32, u16)> {
        self.sink.as_ref().map(|s| (s.sample_rate(), s.channels()))
    }
}
