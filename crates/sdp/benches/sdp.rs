//! Criterion benches: parsing the ICE part of the Lync 2013 example INVITE (example a) and
//! computing + applying the relay-forcing rewrite on it.
//!
//! Run: `cargo bench -p rec-sdp -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rec_sdp::{force_relay, RelayPolicy, Sdp};

const EXAMPLE_A: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/domain/examples/example_a_lync2013_invite_multipart.sip"
));

/// The second (ICE) SDP part of example a: from its `v=0` to the closing delimiter.
fn ice_part() -> &'static [u8] {
    let text = core::str::from_utf8(EXAMPLE_A).expect("ASCII example");
    let start = text.rfind("\r\n\r\nv=0").expect("second part") + 4;
    let end = start
        + text[start..]
            .find("\r\n------=_NextPart")
            .expect("closing delimiter")
        + 2;
    &EXAMPLE_A[start..end]
}

fn benches(c: &mut Criterion) {
    let sdp = ice_part();
    let mut g = c.benchmark_group("example_a_ice_part");
    g.throughput(Throughput::Bytes(sdp.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| Sdp::parse(black_box(sdp)).expect("parses"))
    });
    g.bench_function("parse_and_candidates", |b| {
        b.iter(|| {
            let p = Sdp::parse(black_box(sdp)).expect("parses");
            p.media().map(|m| m.candidates().count()).sum::<usize>()
        })
    });
    let policy = RelayPolicy {
        edge_addresses: &[],
        invalid_port: 1,
        video: false,
        drop_codecs: &[],
    };
    g.bench_function("force_relay_and_apply", |b| {
        b.iter(|| {
            let rw = force_relay(black_box(sdp), &policy).expect("parses");
            rw.apply(sdp)
        })
    });
    g.finish();
}

criterion_group!(sdp_benches, benches);
criterion_main!(sdp_benches);
