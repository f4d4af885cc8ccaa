//! Shared helpers of the timeline/mixer/RED/DTMF tests: a test-local G.711 μ-law codec (ITU-T G.711 algorithm,
//! written from the standard), a signal generator, an RTP sender model, a collecting sink and signal metrics.
#![allow(dead_code)]

use rec_audio::{
    AudioSink, DecodeError, Decoder, Mixer, MixerConfig, RtpIn, Timeline, TimelineConfig,
};

/// G.711 μ-law encoder (BIAS 0x84, clip 32635).
pub fn ulaw_encode(pcm: i16) -> u8 {
    let mut s = i32::from(pcm);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(32635) + 0x84;
    let top = (s >> 7) as u32;
    let exp = if top == 0 {
        0
    } else {
        31 - top.leading_zeros()
    };
    let mant = (s >> (exp + 3)) & 0x0f;
    !(sign | ((exp as i32) << 4) | mant) as u8
}

/// G.711 μ-law decoder.
pub fn ulaw_decode(b: u8) -> i16 {
    let u = !b;
    let exp = (u >> 4) & 7;
    let mant = i32::from(u & 0x0f);
    let s = (((mant << 3) + 0x84) << exp) - 0x84;
    if u & 0x80 != 0 {
        -s as i16
    } else {
        s as i16
    }
}

/// Test-local PCMU decoder; concealment = silence.
pub struct TestPcmu;

impl Decoder for TestPcmu {
    fn name(&self) -> &'static str {
        "PCMU"
    }
    fn sample_rate(&self) -> u32 {
        8000
    }
    fn rtp_clock_rate(&self) -> u32 {
        8000
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, DecodeError> {
        if out.len() < payload.len() {
            return Err(DecodeError::BufferTooSmall {
                codec: "PCMU",
                needed: payload.len(),
                capacity: out.len(),
            });
        }
        for (o, &b) in out.iter_mut().zip(payload) {
            *o = ulaw_decode(b);
        }
        Ok(payload.len())
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let n = samples.min(out.len());
        out[..n].fill(0);
        n
    }
}

/// Small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A speech-like test signal: several tones with a syllable-rate envelope, a different set per `voice`.
pub struct Voice {
    tones: Vec<(f64, f64, f64)>,
}

impl Voice {
    pub fn new(voice: u64) -> Self {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (voice + 1).wrapping_mul(0x1234_5678_9ABC_DEF1));
        let tones = (0..6)
            .map(|_| {
                (
                    200.0 + 3000.0 * rng.unit(),
                    0.5 + 0.5 * rng.unit(),
                    std::f64::consts::TAU * rng.unit(),
                )
            })
            .collect();
        Self { tones }
    }
    /// Value at real time `t` seconds.
    pub fn at(&self, t: f64) -> f64 {
        let env = 0.6 + 0.4 * (std::f64::consts::TAU * 3.1 * t).sin();
        let sum: f64 = self
            .tones
            .iter()
            .map(|&(f, a, p)| a * (std::f64::consts::TAU * f * t + p).sin())
            .sum();
        env * sum * 2500.0
    }
    /// `n` samples at 8 kHz starting at time 0.
    pub fn samples(&self, n: usize) -> Vec<i16> {
        (0..n).map(|k| self.at(k as f64 / 8000.0) as i16).collect()
    }
}

/// One RTP packet as captured.
#[derive(Clone, Debug)]
pub struct Pkt {
    pub capture_us: i64,
    pub seq: u16,
    pub ts: u32,
    pub marker: bool,
    pub pt: u8,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

impl Pkt {
    pub fn rtp(&self) -> RtpIn<'_> {
        RtpIn {
            capture_us: self.capture_us,
            seq: self.seq,
            ts: self.ts,
            marker: self.marker,
            pt: self.pt,
            ssrc: self.ssrc,
            payload: &self.payload,
        }
    }
}

/// Packetizes 8 kHz PCM into 20 ms PCMU packets (PT 0), captured at `delay_us` + sample time.
pub fn packetize(pcm: &[i16], seq0: u16, ts0: u32, ssrc: u32, delay_us: i64) -> Vec<Pkt> {
    pcm.chunks_exact(160)
        .enumerate()
        .map(|(i, c)| Pkt {
            capture_us: delay_us + i as i64 * 20_000,
            seq: seq0.wrapping_add(i as u16),
            ts: ts0.wrapping_add(i as u32 * 160),
            marker: i == 0,
            pt: 0,
            ssrc,
            payload: c.iter().map(|&s| ulaw_encode(s)).collect(),
        })
        .collect()
}

/// Collects interleaved PCM written by the mixer.
pub struct CollectSink {
    pub rate: u32,
    pub channels: u16,
    pub pcm: Vec<i16>,
    pub writes: usize,
    pub finished: bool,
}

impl CollectSink {
    pub fn new(rate: u32, channels: u16) -> Self {
        Self {
            rate,
            channels,
            pcm: Vec::new(),
            writes: 0,
            finished: false,
        }
    }
    /// Samples of one channel.
    pub fn channel(&self, c: usize) -> Vec<i16> {
        self.pcm
            .iter()
            .skip(c)
            .step_by(usize::from(self.channels))
            .copied()
            .collect()
    }
}

impl AudioSink for CollectSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }
    fn channels(&self) -> u16 {
        self.channels
    }
    fn write(&mut self, interleaved: &[i16], out: &mut Vec<u8>) {
        self.pcm.extend_from_slice(interleaved);
        self.writes += 1;
        out.push(0);
    }
    fn header_patch(&self) -> Option<(u64, Vec<u8>)> {
        None
    }
    fn finish(&mut self, _out: &mut Vec<u8>) {
        self.finished = true;
    }
}

/// Feeds packets (in the given, arrival, order) of several streams through timelines into a mixer with origin 0.
/// `streams[i]` = (packets, channel, timeline config). Returns the sink and the timelines.
pub fn run(
    streams: Vec<(Vec<Pkt>, u16, TimelineConfig)>,
    mcfg: MixerConfig,
) -> (CollectSink, Vec<Timeline>, Mixer) {
    let mut mixer = Mixer::new(mcfg);
    mixer.set_origin(0);
    let mut tls = Vec::new();
    let mut all: Vec<(usize, Pkt)> = Vec::new();
    for (i, (pkts, ch, cfg)) in streams.into_iter().enumerate() {
        let id = mixer.add_stream(ch, 8000);
        assert_eq!(id, i);
        tls.push(Timeline::new(cfg, Box::new(TestPcmu)));
        all.extend(pkts.into_iter().map(|p| (i, p)));
    }
    // stable sort by capture time: arrival order across streams, each stream's own order kept
    all.sort_by_key(|(_, p)| p.capture_us);
    let mut sink = CollectSink::new(mcfg.sample_rate, mcfg.channels);
    let mut out = Vec::new();
    for (k, (i, p)) in all.iter().enumerate() {
        tls[*i].push(&p.rtp(), &mut mixer.input(*i));
        if k % 16 == 0 {
            let now = p.capture_us;
            for (j, tl) in tls.iter_mut().enumerate() {
                tl.advance(now, &mut mixer.input(j));
            }
            mixer.advance(now);
            mixer.drain_into(&mut sink, &mut out);
        }
    }
    for (j, tl) in tls.iter_mut().enumerate() {
        tl.finish(&mut mixer.input(j));
    }
    mixer.finish(&mut sink, &mut out);
    (sink, tls, mixer)
}

/// Normalized cross-correlation of `a[i]` with `b[i + lag]` over the overlap.
pub fn corr_at(a: &[i16], b: &[i16], lag: i64) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (i, &x) in a.iter().enumerate() {
        let j = i as i64 + lag;
        if j < 0 || j >= b.len() as i64 {
            continue;
        }
        let (x, y) = (f64::from(x), f64::from(b[j as usize]));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

/// The lag in `[-max_lag, max_lag]` where `b` best matches `a`, and the correlation there.
pub fn best_lag(a: &[i16], b: &[i16], max_lag: i64) -> (i64, f64) {
    (-max_lag..=max_lag)
        .map(|l| (l, corr_at(a, b, l)))
        .fold((0, f64::MIN), |m, x| if x.1 > m.1 { x } else { m })
}

/// SNR in dB of `got[i + lag]` against reference `a[i]`.
pub fn snr_db(a: &[i16], got: &[i16], lag: i64) -> f64 {
    let (mut sig, mut err) = (0.0, 0.0);
    for (i, &x) in a.iter().enumerate() {
        let j = i as i64 + lag;
        let y = if j < 0 || j >= got.len() as i64 {
            0.0
        } else {
            f64::from(got[j as usize])
        };
        sig += f64::from(x) * f64::from(x);
        err += (f64::from(x) - y) * (f64::from(x) - y);
    }
    10.0 * (sig / err.max(1e-9)).log10()
}

/// Reference: the source as it sounds after μ-law coding (what a loss-free path must reproduce exactly).
pub fn ulaw_roundtrip(pcm: &[i16]) -> Vec<i16> {
    pcm.iter().map(|&s| ulaw_decode(ulaw_encode(s))).collect()
}
