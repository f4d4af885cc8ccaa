//! Cost of metric updates on the daemon's hot paths, and of rendering `/metrics`.
//!
//! `cargo bench -p rec-admin --bench metrics`

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rec_admin::{DropReason, Metrics, Queue};

fn updates(c: &mut Criterion) {
    let m = Metrics::new();
    c.bench_function("counter_inc_by", |b| {
        b.iter(|| m.packets_captured.inc_by(black_box(1)))
    });
    c.bench_function("counter_vec_inc_by", |b| {
        b.iter(|| {
            m.packets_dropped
                .inc_by(black_box(DropReason::Unmatched), 1)
        })
    });
    c.bench_function("gauge_vec_set", |b| {
        b.iter(|| m.queue_depth.set(black_box(Queue::Capture), black_box(12)))
    });
    c.bench_function("histogram_observe", |b| {
        b.iter(|| m.rewrite_latency.observe(black_box(0.000_4)))
    });
    c.bench_function("render", |b| b.iter(|| black_box(m.render())));
}

criterion_group!(benches, updates);
criterion_main!(benches);
