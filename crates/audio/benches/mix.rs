//! Per-packet cost of the receive half: G.711 decode + timeline + stereo mix at 8 kHz (+ WAV sink).
//! Run: `cargo bench -p rec-audio --bench mix -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rec_audio::{
    decoder_for, AudioSink, Mixer, MixerConfig, RtpIn, Timeline, TimelineConfig, WavSink,
};

const FRAMES: usize = 1000;

struct Bench {
    payloads: [Vec<Vec<u8>>; 2],
    tls: Vec<Timeline>,
    mixer: Mixer,
    frame: u64,
    out: Vec<u8>,
}

impl Bench {
    fn new(rate: u32) -> Self {
        let payloads = [0u8, 1].map(|d| {
            (0..FRAMES)
                .map(|i| {
                    (0..160)
                        .map(|k| ((i * 7 + k * 13 + usize::from(d) * 5) % 251) as u8)
                        .collect()
                })
                .collect()
        });
        let mut mixer = Mixer::new(MixerConfig::new(rate, 2));
        mixer.set_origin(0);
        let tls = (0..2)
            .map(|d| {
                mixer.add_stream(d, 8000);
                let dec = decoder_for("PCMU", 8000, 1).expect("PCMU decoder");
                Timeline::new(TimelineConfig::new(0), dec)
            })
            .collect();
        Self {
            payloads,
            tls,
            mixer,
            frame: 0,
            out: Vec::with_capacity(1 << 20),
        }
    }

    /// One 20 ms frame of both directions; drains into `sink` every 50 frames (1 s).
    fn step(&mut self, sink: Option<&mut dyn AudioSink>) {
        let f = self.frame;
        for d in 0..2 {
            let payload = &self.payloads[d][(f % FRAMES as u64) as usize];
            let pkt = RtpIn {
                capture_us: f as i64 * 20_000 + 30_000,
                seq: f as u16,
                ts: (f as u32).wrapping_mul(160),
                marker: false,
                pt: 0,
                ssrc: 100 + d as u32,
                payload,
            };
            self.tls[d].push(&pkt, &mut self.mixer.input(d));
        }
        if f % 50 == 49 {
            if let Some(sink) = sink {
                self.mixer.drain_into(sink, &mut self.out);
                self.out.clear();
            } else {
                let mut null = NullSink;
                self.mixer.drain_into(&mut null, &mut self.out);
            }
        }
        self.frame += 1;
    }
}

struct NullSink;

impl AudioSink for NullSink {
    fn sample_rate(&self) -> u32 {
        8000
    }
    fn channels(&self) -> u16 {
        2
    }
    fn write(&mut self, interleaved: &[i16], _out: &mut Vec<u8>) {
        std::hint::black_box(interleaved);
    }
    fn header_patch(&self) -> Option<(u64, Vec<u8>)> {
        None
    }
    fn finish(&mut self, _out: &mut Vec<u8>) {}
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("mix");
    // one iteration = 1000 frames × 2 directions = 2000 packets
    g.throughput(Throughput::Elements(2 * FRAMES as u64));
    g.bench_function("g711_timeline_stereo8k_wav", |b| {
        let mut st = Bench::new(8000);
        let mut wav = WavSink::new(8000, 2);
        b.iter(|| {
            for _ in 0..FRAMES {
                st.step(Some(&mut wav));
            }
        })
    });
    g.bench_function("g711_timeline_stereo8k_nullsink", |b| {
        let mut st = Bench::new(8000);
        b.iter(|| {
            for _ in 0..FRAMES {
                st.step(None);
            }
        })
    });
    g.bench_function("g711_timeline_stereo48k_wav", |b| {
        let mut st = Bench::new(48_000);
        let mut wav = WavSink::new(48_000, 2);
        b.iter(|| {
            for _ in 0..FRAMES {
                st.step(Some(&mut wav));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
