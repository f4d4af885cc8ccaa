//! Per-stream timeline: RTP packets of one direction in, decoded PCM placed on the capture-time axis out.
//!
//! Handles reordering within a window, duplicates, loss (decoder concealment, or RFC 2198 redundancy when the
//! next packet carries it), talk spurts after silence suppression (timestamp jump without sequence gap = silence
//! of that length), comfort noise (PT 13 or a dynamic CN type), resyncs (large or backward jumps), SSRC changes
//! (the timeline continues at the packet's capture time) and RFC 4733 telephone-events.
//!
//! RTP time is mapped to capture time by the smallest observed `capture − rtp` offset (network delay only ever
//! adds), which slowly follows upward so a sender clock slower than the capture clock is tracked too. The mixer
//! re-anchors a stream whose samples drift from that mapping (see [`crate::mixer`]).

use crate::dtmf::{DtmfEvent, DtmfTracker};
use crate::red::parse_red;
use crate::Decoder;

/// One RTP packet as the engine hands it over (header fields already parsed, payload decrypted).
#[derive(Debug, Clone, Copy)]
pub struct RtpIn<'a> {
    /// Capture time of the packet in µs (the caller's clock; the timeline never reads a clock).
    pub capture_us: i64,
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp.
    pub ts: u32,
    /// RTP marker bit.
    pub marker: bool,
    /// RTP payload type.
    pub pt: u8,
    /// RTP SSRC.
    pub ssrc: u32,
    /// Decrypted payload (no padding).
    pub payload: &'a [u8],
}

/// Where a timeline delivers its output (the mixer implements it through [`crate::mixer::MixerInput`]).
pub trait TimelineOutput {
    /// PCM of the stream: `samples` at `sample_rate` Hz whose first sample belongs at capture time `start_us`.
    fn pcm(&mut self, start_us: i64, sample_rate: u32, samples: &[i16]);
    /// A completed telephone event.
    fn dtmf(&mut self, _event: DtmfEvent) {}
}

/// Payload types and limits of a stream.
#[derive(Debug, Clone, Copy)]
pub struct TimelineConfig {
    /// Payload type of the audio codec the decoder handles.
    pub audio_pt: u8,
    /// Dynamic comfort-noise payload type (PT 13 is always treated as CN).
    pub cn_pt: Option<u8>,
    /// RFC 2198 RED payload type, if negotiated.
    pub red_pt: Option<u8>,
    /// RFC 4733 telephone-event payload type, if negotiated.
    pub dtmf_pt: Option<u8>,
    /// Reorder window in packets (a packet this far behind the newest is given up on).
    pub window: u16,
    /// How long (µs of capture time) a missing packet is waited for once later packets are there.
    pub hold_us: i64,
    /// Longest silence (µs) filled explicitly for a timestamp jump; longer jumps are left to the mixer, which
    /// places the next audio by capture time.
    pub max_fill_us: i64,
}

impl TimelineConfig {
    /// Defaults for a stream of payload type `audio_pt`: 32-packet window, 100 ms hold, 10 s fill limit.
    pub fn new(audio_pt: u8) -> Self {
        Self {
            audio_pt,
            cn_pt: None,
            red_pt: None,
            dtmf_pt: None,
            window: 32,
            hold_us: 100_000,
            max_fill_us: 10_000_000,
        }
    }
}

/// Per-stream counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelineStats {
    /// Packets accepted (not duplicates, not late).
    pub packets: u64,
    /// Packets never received (sequence gaps that were given up on).
    pub lost: u64,
    /// Packets seen twice.
    pub duplicates: u64,
    /// Packets that arrived after their place was played (outside the window).
    pub late: u64,
    /// Lost packets restored from RFC 2198 redundancy.
    pub recovered: u64,
    /// Samples produced by loss concealment (including undecodable payloads).
    pub concealed_samples: u64,
    /// Samples of silence or comfort noise inserted for timestamp jumps and CN.
    pub silence_samples: u64,
    /// Payloads the decoder rejected.
    pub decode_errors: u64,
    /// Packets of payload types the stream does not know.
    pub unknown_pt: u64,
    /// Restarts of the sequence/timestamp tracking (resync or SSRC change).
    pub resyncs: u64,
}

const SEQ_RESYNC: i64 = 3000;
/// Decode buffer: 120 ms at 48 kHz (the longest Opus frame).
const PCM_CAPACITY: usize = 5760;
/// Decode buffer at 16 kHz: a whole-MTU G.722 payload (3000 samples).
const PCM_CAPACITY_WIDE: usize = 3000;
/// Decode buffer at 8 kHz: a whole-MTU G.711 payload (1500 samples).
const PCM_CAPACITY_NARROW: usize = 1500;

/// Samples the decode buffer of a decoder producing `rate` Hz must hold.
fn pcm_capacity(rate: i64) -> usize {
    if rate <= 8_000 {
        PCM_CAPACITY_NARROW
    } else if rate <= 16_000 {
        PCM_CAPACITY_WIDE
    } else {
        PCM_CAPACITY
    }
}
/// Upward creep of the RTP→capture offset per packet (µs): follows senders up to ~250 ppm slower.
const OFFSET_CREEP_US: i64 = 5;
/// A `capture − rtp` offset this far from the current one is a new timestamp base, not network jitter.
const TIMING_RESET_US: i64 = 1_000_000;

#[derive(Debug, Clone)]
struct Slot {
    used: bool,
    ext_seq: i64,
    ext_ts: i64,
    arrival_us: i64,
    pt: u8,
    data: Vec<u8>,
}

/// The timeline of one stream direction. Owns the stream's decoder.
pub struct Timeline {
    cfg: TimelineConfig,
    decoder: Box<dyn Decoder>,
    clock: i64,
    rate: i64,
    stats: TimelineStats,
    ssrc: Option<u32>,
    // sequence / timestamp extension
    last_seq: u16,
    last_ext_seq: i64,
    last_ts: u32,
    last_ext_ts: i64,
    // playout state
    next_seq: Option<i64>,
    next_ts: i64,
    played_mask: u64,
    last_frame: i64,
    /// Something was played since the last restart (before that, earlier sequence numbers may still come).
    started: bool,
    // capture mapping: capture_us = ext_ts * 1e6 / clock + offset
    offset_us: Option<i64>,
    // comfort noise
    cn_level: Option<u8>,
    noise_state: u32,
    // reorder buffer
    slots: Vec<Slot>,
    pending: usize,
    pcm: Vec<i16>,
    dtmf: DtmfTracker,
}

impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline")
            .field("codec", &self.decoder.name())
            .field("ssrc", &self.ssrc)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Timeline {
    /// A timeline decoding with `decoder`. All buffers are allocated here, none per packet.
    pub fn new(cfg: TimelineConfig, decoder: Box<dyn Decoder>) -> Self {
        let window = usize::from(cfg.window.max(2));
        let clock = i64::from(decoder.rtp_clock_rate().max(1));
        let rate = i64::from(decoder.sample_rate().max(1));
        let slot = Slot {
            used: false,
            ext_seq: 0,
            ext_ts: 0,
            arrival_us: 0,
            pt: 0,
            // grows to the stream's payload size on first use (once per slot, not per packet)
            data: Vec::new(),
        };
        Self {
            cfg: TimelineConfig {
                window: window as u16,
                ..cfg
            },
            decoder,
            clock,
            rate,
            stats: TimelineStats::default(),
            ssrc: None,
            last_seq: 0,
            last_ext_seq: 0,
            last_ts: 0,
            last_ext_ts: 0,
            next_seq: None,
            next_ts: 0,
            played_mask: 0,
            last_frame: 0,
            started: false,
            offset_us: None,
            cn_level: None,
            noise_state: 0x1234_5678,
            slots: vec![slot; window],
            pending: 0,
            pcm: vec![0; pcm_capacity(rate)],
            dtmf: DtmfTracker::new(clock as u32),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TimelineStats {
        self.stats
    }

    /// Sample rate of the PCM this timeline emits.
    pub fn sample_rate(&self) -> u32 {
        self.rate as u32
    }

    fn ts_to_us(&self, ext_ts: i64) -> i64 {
        ext_ts * 1_000_000 / self.clock
    }

    fn capture_of(&self, ext_ts: i64) -> i64 {
        self.ts_to_us(ext_ts) + self.offset_us.unwrap_or(0)
    }

    fn ticks_to_samples(&self, ticks: i64) -> i64 {
        ticks * self.rate / self.clock
    }

    fn samples_to_ticks(&self, samples: i64) -> i64 {
        samples * self.clock / self.rate
    }

    /// Restarts sequence/timestamp tracking at `pkt` (first packet, SSRC change, resync).
    fn restart(&mut self, pkt: &RtpIn<'_>, out: &mut dyn TimelineOutput) {
        if self.ssrc.is_some() {
            self.flush_all(out);
            self.stats.resyncs += 1;
        }
        self.ssrc = Some(pkt.ssrc);
        self.last_seq = pkt.seq;
        self.last_ext_seq = i64::from(pkt.seq);
        self.last_ts = pkt.ts;
        self.last_ext_ts = i64::from(pkt.ts);
        self.next_seq = None;
        self.started = false;
        self.played_mask = 0;
        self.offset_us = None;
    }

    /// Takes one packet; PCM and events that become final are delivered to `out`.
    pub fn push(&mut self, pkt: &RtpIn<'_>, out: &mut dyn TimelineOutput) {
        if self.ssrc != Some(pkt.ssrc) {
            self.restart(pkt, out);
        }
        // extend sequence number and timestamp relative to the last packet seen
        let mut ext_seq = self.last_ext_seq + i64::from(pkt.seq.wrapping_sub(self.last_seq) as i16);
        let mut ext_ts = self.last_ext_ts + i64::from(pkt.ts.wrapping_sub(self.last_ts) as i32);
        if let Some(next) = self.next_seq {
            let ts_jump_us = self.ts_to_us(ext_ts - self.next_ts).abs();
            let far_seq = (ext_seq - next).abs() > SEQ_RESYNC;
            // a timestamp jump far beyond what the sequence gap explains (with a real sequence gap) = new timing
            let far_ts =
                ts_jump_us > 60_000_000 && (ext_seq - next).abs() > i64::from(self.cfg.window);
            if far_seq || far_ts {
                self.restart(pkt, out);
                ext_seq = i64::from(pkt.seq);
                ext_ts = i64::from(pkt.ts);
            } else if ext_seq < next && !self.started && next - ext_seq < i64::from(self.cfg.window)
            {
                // nothing played yet: an earlier packet overtaken by the first one still belongs in front
                self.next_seq = Some(ext_seq);
                self.next_ts = ext_ts;
            } else if ext_seq < next {
                let back = next - 1 - ext_seq;
                if back < 64 && self.played_mask & (1 << back) != 0 {
                    self.stats.duplicates += 1;
                } else {
                    self.stats.late += 1;
                }
                return;
            }
        }
        if ext_seq > self.last_ext_seq || self.next_seq.is_none() {
            self.last_seq = pkt.seq;
            self.last_ext_seq = ext_seq;
            self.last_ts = pkt.ts;
            self.last_ext_ts = ext_ts;
        }

        // capture-time mapping (telephone-events repeat their start timestamp: not used for timing)
        if Some(pkt.pt) != self.cfg.dtmf_pt || self.offset_us.is_none() {
            let off = pkt.capture_us - self.ts_to_us(ext_ts);
            self.offset_us = Some(match self.offset_us {
                None => off,
                // a jump of the RTP clock against capture time (new timestamp base): follow it at once
                Some(cur) if (off - cur).abs() > TIMING_RESET_US => off,
                Some(cur) if off < cur => off,
                Some(cur) => (cur + OFFSET_CREEP_US).min(off),
            });
        }

        let next = match self.next_seq {
            None => {
                self.next_seq = Some(ext_seq);
                self.next_ts = ext_ts;
                ext_seq
            }
            Some(n) => n,
        };
        if ext_seq == next && self.pending == 0 && self.started {
            // fast path: in order, nothing waiting — decode straight from the caller's buffer
            self.stats.packets += 1;
            self.play(ext_seq, ext_ts, pkt.pt, pkt.payload, out);
            return;
        }
        // store in the reorder window, making room by giving up on the oldest missing packets
        let window = self.slots.len() as i64;
        while let Some(n) = self.next_seq.filter(|&n| ext_seq - n >= window) {
            if self.pending == 0 {
                // nothing waits in the window: the packets in between are lost; play() fills their time
                self.stats.lost += (ext_seq - n) as u64;
                self.next_seq = Some(ext_seq);
                break;
            }
            self.release_one(out);
        }
        let idx = ext_seq.rem_euclid(window) as usize;
        let slot = &mut self.slots[idx];
        if slot.used && slot.ext_seq == ext_seq {
            self.stats.duplicates += 1;
            return;
        }
        self.stats.packets += 1;
        slot.used = true;
        slot.ext_seq = ext_seq;
        slot.ext_ts = ext_ts;
        slot.arrival_us = pkt.capture_us;
        slot.pt = pkt.pt;
        slot.data.clear();
        slot.data.extend_from_slice(pkt.payload);
        self.pending += 1;
        self.release_ready(pkt.capture_us, out);
    }

    /// Releases packets whose missing predecessors were waited for long enough at capture time `now_us`
    /// (the engine calls this on timeouts too, so a stream that stopped still gets its last packets out).
    pub fn advance(&mut self, now_us: i64, out: &mut dyn TimelineOutput) {
        self.release_ready(now_us, out);
    }

    /// Plays everything still waiting (call end) and reports an unfinished telephone event.
    pub fn finish(&mut self, out: &mut dyn TimelineOutput) {
        self.flush_all(out);
        if let Some(ev) = self.dtmf.flush() {
            out.dtmf(ev);
        }
    }

    fn flush_all(&mut self, out: &mut dyn TimelineOutput) {
        while self.pending > 0 {
            self.release_one(out);
        }
    }

    fn slot_index(&self, ext_seq: i64) -> Option<usize> {
        let idx = ext_seq.rem_euclid(self.slots.len() as i64) as usize;
        let s = &self.slots[idx];
        (s.used && s.ext_seq == ext_seq).then_some(idx)
    }

    /// Arrival time of the oldest packet waiting in the reorder window (`now_us` when none waits).
    fn oldest_arrival(&self, now_us: i64) -> i64 {
        self.slots
            .iter()
            .filter(|s| s.used)
            .map(|s| s.arrival_us)
            .min()
            .unwrap_or(now_us)
    }

    fn release_ready(&mut self, now_us: i64, out: &mut dyn TimelineOutput) {
        if !self.started {
            // the first packet waits `hold_us` for packets that it overtook
            let oldest = self.oldest_arrival(now_us);
            if now_us - oldest < self.cfg.hold_us {
                return;
            }
        }
        while self.pending > 0 {
            let Some(next) = self.next_seq else { return };
            if self.slot_index(next).is_some() {
                self.release_one(out);
                continue;
            }
            // next is missing: give up on it once the oldest waiting packet has waited `hold_us`
            let oldest = self.oldest_arrival(now_us);
            if now_us - oldest >= self.cfg.hold_us {
                self.release_one(out);
            } else {
                return;
            }
        }
    }

    /// Plays the next packet in sequence order; if it is missing, moves on to the first waiting one (a loss).
    fn release_one(&mut self, out: &mut dyn TimelineOutput) {
        let Some(mut next) = self.next_seq else {
            return;
        };
        if self.pending == 0 {
            return;
        }
        let mut found = self.slot_index(next);
        for _ in 0..self.slots.len() {
            if found.is_some() {
                break;
            }
            next += 1;
            found = self.slot_index(next);
        }
        let Some(idx) = found else {
            // cannot happen (pending slots are always ahead of `next_seq`); recover by dropping the window
            self.slots.iter_mut().for_each(|s| s.used = false);
            self.pending = 0;
            return;
        };
        let mut data = std::mem::take(&mut self.slots[idx].data);
        let (ext_ts, pt) = (self.slots[idx].ext_ts, self.slots[idx].pt);
        self.slots[idx].used = false;
        self.pending -= 1;
        self.play(next, ext_ts, pt, &data, out);
        data.clear();
        self.slots[idx].data = data;
    }

    /// Places one packet on the timeline: fills the gap before it (loss, silence), then decodes it.
    fn play(
        &mut self,
        ext_seq: i64,
        ext_ts: i64,
        pt: u8,
        payload: &[u8],
        out: &mut dyn TimelineOutput,
    ) {
        self.started = true;
        let expected_seq = self.next_seq.unwrap_or(ext_seq);
        let seq_gap = ext_seq - expected_seq;
        let ts_gap = ext_ts - self.next_ts;
        let is_dtmf = Some(pt) == self.cfg.dtmf_pt;
        if seq_gap > 0 {
            self.stats.lost += seq_gap as u64;
        }
        let gap_us = self.ts_to_us(ts_gap);
        if !is_dtmf && ts_gap > 0 && gap_us <= self.cfg.max_fill_us {
            if seq_gap > 0 {
                self.fill_loss(ext_ts, pt, payload, ts_gap, seq_gap, out);
            } else {
                self.fill_silence(ts_gap, out);
            }
        } else if !is_dtmf && ts_gap != 0 {
            // backward or very long jump: restart timestamp expectations here; capture mapping places the audio
            self.next_ts = ext_ts;
        }
        // shift the duplicate-detection mask to the new position
        let shift = ext_seq + 1 - expected_seq;
        self.played_mask = if shift >= 64 {
            0
        } else {
            self.played_mask << shift
        };
        self.played_mask |= 1;
        self.next_seq = Some(ext_seq + 1);

        if is_dtmf {
            let start = self.capture_of(ext_ts);
            if let Some(ev) = self.dtmf.push(ext_ts, start, payload) {
                out.dtmf(ev);
            }
            return;
        }
        if pt == 13 || Some(pt) == self.cfg.cn_pt {
            // RFC 3389: first byte = noise level in -dBov; the following timestamp gap is filled with noise
            self.cn_level = Some(payload.first().copied().unwrap_or(127) & 0x7f);
            self.next_ts = ext_ts;
            return;
        }
        let (pt, payload) = if Some(pt) == self.cfg.red_pt {
            match parse_red(payload) {
                Ok(red) => (red.primary.pt, red.primary.data),
                Err(_) => {
                    self.stats.decode_errors += 1;
                    (self.cfg.audio_pt, &[][..])
                }
            }
        } else {
            (pt, payload)
        };
        if Some(pt) == self.cfg.dtmf_pt {
            let start = self.capture_of(ext_ts);
            if let Some(ev) = self.dtmf.push(ext_ts, start, payload) {
                out.dtmf(ev);
            }
            return;
        }
        if pt != self.cfg.audio_pt {
            self.stats.unknown_pt += 1;
            return;
        }
        self.cn_level = None;
        self.decode_at(ext_ts, payload, out);
    }

    fn decode_at(&mut self, ext_ts: i64, payload: &[u8], out: &mut dyn TimelineOutput) {
        let start = self.capture_of(ext_ts);
        let n = match self.decoder.decode(payload, &mut self.pcm) {
            Ok(n) if n > 0 => n,
            Ok(_) | Err(_) => {
                self.stats.decode_errors += 1;
                let n = (self.last_frame.max(1) as usize).min(self.pcm.len());
                let n = self.decoder.conceal(n, &mut self.pcm[..n]);
                self.stats.concealed_samples += n as u64;
                n
            }
        };
        out.pcm(start, self.rate as u32, &self.pcm[..n]);
        self.last_frame = n as i64;
        self.next_ts = ext_ts + self.samples_to_ticks(n as i64);
    }

    /// Fills `ts_gap` ticks of lost audio before the packet at `ext_ts`: from the packet's RED redundancy when it
    /// covers exactly the single missing frame, otherwise with the decoder's concealment.
    fn fill_loss(
        &mut self,
        ext_ts: i64,
        pt: u8,
        payload: &[u8],
        ts_gap: i64,
        seq_gap: i64,
        out: &mut dyn TimelineOutput,
    ) {
        if seq_gap == 1 && Some(pt) == self.cfg.red_pt {
            if let Ok(red) = parse_red(payload) {
                if let Some(block) = red.redundant_at(ts_gap as u32) {
                    if block.pt == self.cfg.audio_pt {
                        self.stats.recovered += 1;
                        self.stats.lost -= 1;
                        let from = self.next_ts;
                        self.decode_at(from, block.data, out);
                        return;
                    }
                }
            }
        }
        let mut remaining = self.ticks_to_samples(ts_gap);
        while remaining > 0 {
            let n = (remaining as usize).min(self.pcm.len());
            let start = self.capture_of(self.next_ts);
            let n = self.decoder.conceal(n, &mut self.pcm[..n]).max(1).min(n);
            out.pcm(start, self.rate as u32, &self.pcm[..n]);
            self.stats.concealed_samples += n as u64;
            self.next_ts += self.samples_to_ticks(n as i64);
            remaining -= n as i64;
        }
        self.next_ts = ext_ts;
    }

    /// Silence (or comfort noise after a CN packet) for a talk-spurt gap of `ts_gap` ticks.
    fn fill_silence(&mut self, ts_gap: i64, out: &mut dyn TimelineOutput) {
        let end = self.next_ts + ts_gap;
        let amplitude =
            self.cn_level
                .map_or(0.0, |l| 32767.0 * 10f64.powf(-f64::from(l) / 20.0)) as i32;
        let mut remaining = self.ticks_to_samples(ts_gap);
        while remaining > 0 {
            let n = (remaining as usize).min(self.pcm.len());
            for s in &mut self.pcm[..n] {
                *s = if amplitude == 0 {
                    0
                } else {
                    self.noise_state = self
                        .noise_state
                        .wrapping_mul(1_664_525)
                        .wrapping_add(1_013_904_223);
                    // uniform in [-a·√3, a·√3] has RMS a
                    let u = (self.noise_state >> 16) as i32 - 32768;
                    (i64::from(u) * i64::from(amplitude) * 1732 / 1000 / 32768).clamp(-32768, 32767)
                        as i16
                };
            }
            let start = self.capture_of(self.next_ts);
            out.pcm(start, self.rate as u32, &self.pcm[..n]);
            self.stats.silence_samples += n as u64;
            self.next_ts += self.samples_to_ticks(n as i64);
            remaining -= n as i64;
        }
        self.next_ts = end;
    }
}
