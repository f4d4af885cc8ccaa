//! Mixer: places the PCM of several streams on one output timeline by capture time, resamples, sums with
//! saturation into mono or stereo (channel per stream, chosen by the caller) and hands finished audio to an
//! [`AudioSink`] after a bounded playout delay.
//!
//! Each stream writes at its own cursor; PCM whose capture time is within `reanchor_us` of the cursor continues
//! contiguously (so jitter of the capture-time estimate does not chop audio), further off the cursor jumps to the
//! capture time (drop or insert samples). This bounds the offset a ±100 ppm sender clock could build up over a
//! long call, and places audio after a hold or a long silence at the right time.

use crate::dtmf::DtmfEvent;
use crate::resample::Resampler;
use crate::timeline::TimelineOutput;
use crate::AudioSink;

/// Output format and timing of a mixer.
#[derive(Debug, Clone, Copy)]
pub struct MixerConfig {
    /// Output sample rate in Hz.
    pub sample_rate: u32,
    /// Output channels: 1 (all streams summed) or 2 (per-stream channel).
    pub channels: u16,
    /// Audio older than the newest capture time minus this is final and emitted (µs).
    pub playout_delay_us: i64,
    /// A stream whose PCM lands further than this from its cursor is re-anchored to capture time (µs).
    pub reanchor_us: i64,
}

impl MixerConfig {
    /// Defaults: 300 ms playout delay, 20 ms re-anchor threshold.
    pub fn new(sample_rate: u32, channels: u16) -> Self {
        Self {
            sample_rate,
            channels: channels.clamp(1, 2),
            playout_delay_us: 300_000,
            reanchor_us: 20_000,
        }
    }
}

/// Per-stream mixer counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MixStreamStats {
    /// Times the stream's cursor was moved to the capture time.
    pub reanchors: u64,
    /// Single-sample slips (one input sample repeated or dropped) that keep the stream within a quarter of the
    /// re-anchor threshold of its capture time despite sender clock drift.
    pub slips: u64,
    /// Output samples dropped because they arrived after their time was emitted.
    pub dropped_late: u64,
}

#[derive(Debug)]
struct MixStream {
    channel: usize,
    cursor: Option<i64>,
    resampler: Resampler,
    stats: MixStreamStats,
}

/// Mixes streams into interleaved PCM at a fixed rate; see the module docs.
#[derive(Debug)]
pub struct Mixer {
    cfg: MixerConfig,
    streams: Vec<MixStream>,
    /// Interleaved accumulator; frame 0 is output frame `base`.
    acc: Vec<i16>,
    base: i64,
    origin_us: Option<i64>,
    now_us: i64,
    events: Vec<(usize, DtmfEvent)>,
}

impl Mixer {
    /// An empty mixer.
    pub fn new(cfg: MixerConfig) -> Self {
        let cfg = MixerConfig {
            channels: cfg.channels.clamp(1, 2),
            sample_rate: cfg.sample_rate.max(1),
            ..cfg
        };
        Self {
            cfg,
            streams: Vec::new(),
            acc: Vec::new(),
            base: 0,
            origin_us: None,
            now_us: i64::MIN,
            events: Vec::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MixerConfig {
        &self.cfg
    }

    /// Fixes capture time `origin_us` as output frame 0 (call start). Without it, the first PCM pushed is frame 0.
    pub fn set_origin(&mut self, origin_us: i64) {
        if self.origin_us.is_none() {
            self.origin_us = Some(origin_us);
        }
    }

    /// Output frames handed to the sink so far (the length of the recording written).
    pub fn emitted_frames(&self) -> i64 {
        self.base
    }

    /// Capture time of output frame 0, once known.
    pub fn origin_us(&self) -> Option<i64> {
        self.origin_us
    }

    /// Adds a stream whose audio goes to `channel` (0 = caller, 1 = callee; ignored for mono) and returns its id.
    /// `input_rate` is the PCM rate the stream will deliver (the timeline's decoder rate).
    pub fn add_stream(&mut self, channel: u16, input_rate: u32) -> usize {
        let channel = usize::from(channel).min(usize::from(self.cfg.channels) - 1);
        self.streams.push(MixStream {
            channel,
            cursor: None,
            resampler: Resampler::new(input_rate, self.cfg.sample_rate),
            stats: MixStreamStats::default(),
        });
        self.streams.len() - 1
    }

    /// Counters of stream `id` (default when unknown).
    pub fn stream_stats(&self, id: usize) -> MixStreamStats {
        self.streams.get(id).map(|s| s.stats).unwrap_or_default()
    }

    /// An adapter through which a [`crate::timeline::Timeline`] delivers stream `id`'s output to this mixer.
    pub fn input(&mut self, id: usize) -> MixerInput<'_> {
        MixerInput {
            mixer: self,
            stream: id,
        }
    }

    /// Telephone events received so far, with the stream id each came from (drained by the caller).
    pub fn take_events(&mut self) -> std::vec::Drain<'_, (usize, DtmfEvent)> {
        self.events.drain(..)
    }

    fn frame_of(&self, t_us: i64) -> i64 {
        let rel = t_us - self.origin_us.unwrap_or(t_us);
        (i128::from(rel) * i128::from(self.cfg.sample_rate)).div_euclid(1_000_000) as i64
    }

    /// Adds `samples` (mono, `rate` Hz) of stream `id` whose first sample belongs at capture time `start_us`.
    /// Unknown ids are ignored.
    pub fn push(&mut self, id: usize, start_us: i64, rate: u32, samples: &[i16]) {
        if id >= self.streams.len() || samples.is_empty() {
            return;
        }
        self.set_origin(start_us);
        let end_us = start_us + samples.len() as i64 * 1_000_000 / i64::from(rate.max(1));
        self.now_us = self.now_us.max(end_us);
        let target = self.frame_of(start_us);
        let threshold = self.cfg.reanchor_us * i64::from(self.cfg.sample_rate) / 1_000_000;
        let channels = usize::from(self.cfg.channels);
        let stream = &mut self.streams[id];
        if stream.resampler.in_rate() != rate.max(1) {
            stream.resampler = Resampler::new(rate, self.cfg.sample_rate);
        }
        let mut input = samples;
        let mut repeat_first = false;
        let cursor = match stream.cursor {
            Some(c) if (target - c).abs() <= threshold / 4 => c,
            Some(c) if (target - c).abs() <= threshold => {
                // slowly drifting away (sender clock vs capture clock): slip one input sample per push
                stream.stats.slips += 1;
                if target > c {
                    repeat_first = true;
                } else if input.len() > 1 {
                    input = &input[1..];
                }
                c
            }
            Some(_) => {
                stream.stats.reanchors += 1;
                stream.resampler.reset();
                target
            }
            // a stream's first audio that lands a hair before what was already emitted (its capture-time estimate
            // settled a few µs earlier than the first packet that fixed the origin) starts at the emitted edge
            // instead of losing its first samples; further off, it keeps its capture-time place
            None if target < self.base
                && self.base - target <= i64::from(self.cfg.sample_rate / 500) =>
            {
                self.base
            }
            None => target,
        };
        let extra = if repeat_first { &samples[..1] } else { &[][..] };
        let n_out = stream.resampler.output_len(input.len() + extra.len()) as i64;
        let end = cursor + n_out;
        let needed = ((end - self.base).max(0) as usize) * channels;
        if self.acc.len() < needed {
            self.acc.resize(needed, 0);
        }
        let base = self.base;
        let ch = stream.channel;
        let acc = &mut self.acc;
        let mut pos = cursor;
        let mut late = 0u64;
        if extra.is_empty() && stream.resampler.in_rate() == stream.resampler.out_rate() {
            // same rate: add the input straight into this stream's channel of the accumulator
            let skip = (base - cursor).clamp(0, input.len() as i64) as usize;
            if skip < input.len() {
                let first = (cursor + skip as i64 - base) as usize * channels + ch;
                let dst = acc[first..].iter_mut().step_by(channels);
                for (a, &y) in dst.zip(&input[skip..]) {
                    *a = a.saturating_add(y);
                }
            }
            stream.stats.dropped_late += skip as u64;
            stream.cursor = Some(cursor + input.len() as i64);
            return;
        }
        let mut put = |y: i16| {
            if pos >= base {
                let i = (pos - base) as usize * channels + ch;
                if i >= acc.len() {
                    acc.resize(i + channels, 0);
                }
                acc[i] = acc[i].saturating_add(y);
            } else {
                late += 1;
            }
            pos += 1;
        };
        stream.resampler.process(extra, &mut put);
        stream.resampler.process(input, &mut put);
        stream.stats.dropped_late += late;
        stream.cursor = Some(pos);
    }

    /// Tells the mixer that capture time has reached `now_us` (the engine's Timeout input), so audio of streams
    /// that went quiet (hold, end) is emitted after the playout delay.
    pub fn advance(&mut self, now_us: i64) {
        self.now_us = self.now_us.max(now_us);
    }

    /// Output frame up to which audio is final: past the playout horizon, or already written by every stream.
    fn ready_frame(&self) -> i64 {
        if self.origin_us.is_none() {
            return self.base;
        }
        let horizon = self.frame_of(self.now_us - self.cfg.playout_delay_us);
        let all = self
            .streams
            .iter()
            .map(|s| s.cursor)
            .try_fold(i64::MAX, |m, c| c.map(|c| m.min(c)));
        let ready = match all {
            Some(m) if !self.streams.is_empty() => horizon.max(m),
            _ => horizon,
        };
        ready.max(self.base)
    }

    /// Writes all final audio to `sink`, appending the encoded bytes to `out`.
    pub fn drain_into(&mut self, sink: &mut dyn AudioSink, out: &mut Vec<u8>) {
        let ready = self.ready_frame();
        self.emit_until(ready, sink, out);
    }

    /// Writes everything mixed so far (call end) to `sink`, then lets the sink finish its stream.
    pub fn finish(&mut self, sink: &mut dyn AudioSink, out: &mut Vec<u8>) {
        let channels = usize::from(self.cfg.channels) as i64;
        let mut end = self.base + self.acc.len() as i64 / channels;
        end = self
            .streams
            .iter()
            .filter_map(|s| s.cursor)
            .fold(end, i64::max);
        self.emit_until(end, sink, out);
        sink.finish(out);
    }

    fn emit_until(&mut self, until: i64, sink: &mut dyn AudioSink, out: &mut Vec<u8>) {
        let frames = until - self.base;
        if frames <= 0 {
            return;
        }
        let channels = usize::from(self.cfg.channels);
        let n = frames as usize * channels;
        if self.acc.len() < n {
            self.acc.resize(n, 0);
        }
        sink.write(&self.acc[..n], out);
        self.acc.drain(..n);
        self.base = until;
    }
}

/// Routes one timeline's output into a [`Mixer`] stream.
#[derive(Debug)]
pub struct MixerInput<'a> {
    mixer: &'a mut Mixer,
    stream: usize,
}

impl TimelineOutput for MixerInput<'_> {
    fn pcm(&mut self, start_us: i64, sample_rate: u32, samples: &[i16]) {
        self.mixer.push(self.stream, start_us, sample_rate, samples);
    }

    fn dtmf(&mut self, event: DtmfEvent) {
        self.mixer.events.push((self.stream, event));
    }
}
