//! Criterion benchmarks of the codec and encoder paths.
//!
//! Run: `cargo bench -p rec-audio --bench encode -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ezk_g722::libg722::{decoder::Decoder as EzkDecoder, encoder::Encoder as EzkEncoder, Bitrate};
use rec_audio::codec::g711::linear_to_ulaw;
use rec_audio::ogg_opus::OpusApplication;
use rec_audio::{decoder_for, AudioSink, OggOpusSink, OpusSettings, WavSink};

/// A voiced, speech-band test tone with a moving pitch (cheap stand-in for speech).
fn tone(rate: u32, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let f0 = 150.0 + 50.0 * (6.0 * t).sin();
            let v: f64 = (1..12)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            (v * 6000.0 * (0.5 + 0.5 * (3.0 * t).sin().abs())) as i16
        })
        .collect()
}

fn decode(c: &mut Criterion) {
    let pcm = tone(8000, 160);
    let ulaw: Vec<u8> = pcm.iter().map(|&s| linear_to_ulaw(s)).collect();
    let mut g = c.benchmark_group("decode_20ms");
    g.throughput(Throughput::Elements(1));
    let mut out = vec![0i16; 960];
    let mut dec = decoder_for("PCMU", 8000, 1).unwrap();
    g.bench_function("pcmu", |b| {
        b.iter(|| dec.decode(black_box(&ulaw), &mut out).unwrap())
    });
    let g722 = EzkEncoder::new(Bitrate::Mode1_64000, false, false).encode(&tone(16000, 320));
    let mut dec = decoder_for("G722", 8000, 1).unwrap();
    g.bench_function("g722", |b| {
        b.iter(|| dec.decode(black_box(&g722), &mut out).unwrap())
    });
    // 20 ms of nibble-interleaved stereo: 320 octets, two decoder states, downmixed to 320 samples
    let stereo = [g722.as_slice(), g722.as_slice()].concat();
    let mut dec = decoder_for("G722", 8000, 2).unwrap();
    g.bench_function("g722_stereo", |b| {
        b.iter(|| dec.decode(black_box(&stereo), &mut out).unwrap())
    });
    // ezk-g722, the crate the own decoder replaced (returns a fresh Vec per call)
    let mut ezk = EzkDecoder::new(Bitrate::Mode1_64000, false, false);
    g.bench_function("g722_ezk", |b| b.iter(|| ezk.decode(black_box(&g722))));
    g.finish();
}

fn wav(c: &mut Criterion) {
    let mut g = c.benchmark_group("wav_write_20ms");
    g.throughput(Throughput::Elements(1));
    for (rate, ch) in [(8000u32, 2u16), (16000, 2)] {
        let frame: Vec<i16> = tone(rate, (rate / 50) as usize)
            .iter()
            .flat_map(|&s| [s, s / 2])
            .collect();
        let mut sink = WavSink::new(rate, ch);
        let mut out = Vec::with_capacity(1 << 16);
        sink.write(&frame, &mut out);
        g.bench_function(BenchmarkId::new("stereo", rate), |b| {
            b.iter(|| {
                out.clear();
                sink.write(black_box(&frame), &mut out);
            })
        });
    }
    g.finish();
}

fn opus(c: &mut Criterion) {
    let mut g = c.benchmark_group("opus_encode_call_second");
    g.sample_size(10);
    let d = OpusSettings::default();
    let voip = |complexity| OpusSettings {
        application: OpusApplication::Voip,
        complexity,
        ..d
    };
    let variants: Vec<(String, u32, u16, OpusSettings)> = vec![
        ("default".into(), 8000, 1, d),
        ("default".into(), 16000, 1, d),
        ("default".into(), 8000, 2, d),
        ("default".into(), 16000, 2, d),
        (
            "lowdelay_c5".into(),
            16000,
            1,
            OpusSettings { complexity: 5, ..d },
        ),
        (
            "lowdelay_60ms".into(),
            16000,
            1,
            OpusSettings { frame_ms: 60, ..d },
        ),
        ("voip_c0".into(), 8000, 1, voip(0)),
        ("voip_c0".into(), 16000, 1, voip(0)),
        ("voip_c5".into(), 16000, 1, voip(5)),
        ("voip_c10".into(), 16000, 1, voip(10)),
        ("voip_c0".into(), 16000, 2, voip(0)),
        (
            "audio_c0".into(),
            16000,
            1,
            OpusSettings {
                application: OpusApplication::Audio,
                ..d
            },
        ),
    ];
    for (label, rate, ch, settings) in variants {
        let mono = tone(rate, rate as usize);
        let pcm: Vec<i16> = if ch == 2 {
            mono.iter().flat_map(|&s| [s, s / 2]).collect()
        } else {
            mono
        };
        let mut sink = OggOpusSink::new(rate, ch, settings, 1).unwrap();
        let mut out = Vec::with_capacity(1 << 16);
        g.bench_function(BenchmarkId::new(format!("{label}/{ch}ch"), rate), |b| {
            b.iter(|| {
                out.clear();
                for f in pcm.chunks(rate as usize / 50 * usize::from(ch)) {
                    sink.write(black_box(f), &mut out);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode, wav, opus);
criterion_main!(benches);
