//! How fast the generator produces a capture: frames (and pcap bytes) per second, into memory.
//! `cargo bench -p rec-gen`.
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rec_gen::{CallOptions, GenConfig, Generator, PcapWriter};

fn cfg(calls: u32, duration_ms: u64) -> GenConfig {
    GenConfig {
        calls,
        stagger_us: GenConfig::default_stagger_us(calls, duration_ms),
        call: CallOptions {
            duration_ms,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("generate");
    g.sample_size(10);
    // 20 calls × 10 s, PCMA through the Edge (each RTP packet written twice).
    let frames = Generator::new(cfg(20, 10_000)).count() as u64;
    g.throughput(Throughput::Elements(frames));
    g.bench_function("edge_pcma_20x10s_frames", |b| {
        b.iter(|| Generator::new(cfg(20, 10_000)).count())
    });
    g.bench_function("edge_pcma_20x10s_pcap_to_memory", |b| {
        b.iter(|| {
            let mut w = PcapWriter::new(Vec::with_capacity(64 << 20)).unwrap();
            for f in Generator::new(cfg(20, 10_000)) {
                w.write_frame(f.at_us, &f.data).unwrap();
            }
            w.finish().unwrap().len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
