//! Criterion benchmarks of the own resampler against rubato's `Fft` resampler, per 20 ms mono frame, for the
//! mixer's conversions (the figures and the choice are in BENCHMARKS.md, audio section).
//!
//! Run: `cargo bench -p rec-audio --bench resample -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "../tests/resample_support/mod.rs"]
mod resample_support;
use resample_support::{Converter, Kind, Signal};

fn resample(c: &mut Criterion) {
    let mut g = c.benchmark_group("resample_20ms");
    g.throughput(Throughput::Elements(1));
    for (i, o) in [
        (8000u32, 16000u32),
        (16000, 48000),
        (48000, 16000),
        (8000, 48000),
    ] {
        let frame = Signal::Sweep {
            f0: 100.0,
            f1: 3000.0,
            secs: 0.02,
        }
        .samples(i, (i / 50) as usize);
        for kind in Kind::ALL {
            let mut conv = Converter::new(kind, i, o);
            let mut out = Vec::with_capacity(4 * (o / 50) as usize);
            // warm the converter up to its steady state (rubato fills its first FFT block)
            for _ in 0..4 {
                out.clear();
                conv.process(&frame, &mut out);
            }
            g.bench_function(
                BenchmarkId::new(kind.label(), format!("{}k_to_{}k", i / 1000, o / 1000)),
                |b| {
                    b.iter(|| {
                        out.clear();
                        conv.process(black_box(&frame), &mut out);
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, resample);
criterion_main!(benches);
