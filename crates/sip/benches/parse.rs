#![allow(clippy::disallowed_methods, clippy::disallowed_types, missing_docs)]
//! Parse speed of the Lync multipart INVITE and framer throughput.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rec_sip::{replace_bodies, Message, StreamFramer};

fn example(name: &str) -> Vec<u8> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/domain/examples/"
    );
    std::fs::read(format!("{p}{name}")).unwrap()
}

fn benches(c: &mut Criterion) {
    let a = example("example_a_lync2013_invite_multipart.sip");
    let b = example("example_b_200ok_answer.sip");
    let cc = example("example_c_sfb_single_part_invite.sip");

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(a.len() as u64));
    g.bench_function("invite_a_parse", |bench| {
        bench.iter(|| Message::parse(black_box(&a)).unwrap().body().len())
    });
    g.bench_function("invite_a_parse_bodies", |bench| {
        bench.iter(|| {
            let m = Message::parse(black_box(&a)).unwrap();
            m.bodies().len()
        })
    });
    g.bench_function("invite_a_parse_dialog_fields", |bench| {
        bench.iter(|| {
            let m = Message::parse(black_box(&a)).unwrap();
            let from = m.from().unwrap();
            let to = m.to().unwrap();
            (
                m.call_id().unwrap().len(),
                from.tag(),
                to.tag(),
                m.cseq(),
                m.bodies().len(),
            )
        })
    });
    let m = Message::parse(&a).unwrap();
    let parts = m.bodies();
    let reps: Vec<_> = parts
        .iter()
        .map(|p| (p.body_range.clone(), p.body))
        .collect();
    g.bench_function("invite_a_replace_bodies", |bench| {
        bench.iter(|| replace_bodies(black_box(&a), &reps).unwrap().len())
    });
    g.finish();

    let mut stream = Vec::new();
    for _ in 0..20 {
        for m in [&a, &b, &cc] {
            stream.extend_from_slice(m);
            stream.extend_from_slice(b"\r\n\r\n");
        }
    }
    let mut g = c.benchmark_group("framer");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    for chunk in [1460usize, 16384] {
        g.bench_function(format!("stream_60_msgs_chunk_{chunk}"), |bench| {
            bench.iter(|| {
                let mut fr = StreamFramer::default();
                let mut n = 0;
                for piece in stream.chunks(chunk) {
                    fr.push(piece);
                    while let Some(r) = fr.next_frame() {
                        n += r.unwrap().len();
                    }
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(all, benches);
criterion_main!(all);
