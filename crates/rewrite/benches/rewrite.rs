//! Rewriter throughput on the Lync 2013 multipart INVITE (example a of `../shared/domain/examples`):
//! parse only, and parse + policy + SDP rewrite of both parts + serialise. Goal: ≥ 100,000 rewrites/s/core.
#![allow(missing_docs, clippy::disallowed_methods)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rec_rewrite::{PolicyConfig, RewriteConfig, Rewriter};

const EXAMPLE_A: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/domain/examples/example_a_lync2013_invite_multipart.sip"
);

fn benches(c: &mut Criterion) {
    let message = std::fs::read(EXAMPLE_A).expect("example a from ../shared");
    let mut group = c.benchmark_group("lync_multipart_invite");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| {
        b.iter(|| {
            let m = rec_sip::Message::parse(std::hint::black_box(&message)).unwrap();
            std::hint::black_box(m.bodies().len())
        })
    });
    for (name, edge) in [
        ("ice_part_only", vec![]),
        ("both_parts", vec!["198.51.100.20".parse().unwrap()]),
    ] {
        let config = RewriteConfig {
            edge_addresses: edge,
            ..RewriteConfig::default()
        };
        let mut rewriter = Rewriter::new(config, &PolicyConfig::default()).unwrap();
        group.bench_with_input(
            BenchmarkId::new("parse_rewrite_serialise", name),
            &message,
            |b, m| {
                b.iter(|| {
                    let account = rewriter.rewrite(std::hint::black_box(m)).unwrap();
                    std::hint::black_box(account.output.map(|o| o.len()))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(all, benches);
criterion_main!(all);
