//! Rewrites the Lync multipart INVITE (example a) 2,000 times: a fixed workload for instruction counts that do not
//! depend on machine load, e.g. `valgrind --tool=callgrind target/release/examples/rewrite_loop` (see BENCHMARKS.md).
//! Both SDP parts are rewritten (an Edge address is configured); with the argument `ice-part-only` no Edge
//! address is configured, so only the ICE part is (the embedded defaults).
#![allow(missing_docs, clippy::disallowed_methods)]

const EXAMPLE_A: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/domain/examples/example_a_lync2013_invite_multipart.sip"
);

fn main() {
    let message = std::fs::read(EXAMPLE_A).expect("example a from ../shared");
    let ice_part_only = std::env::args().nth(1).as_deref() == Some("ice-part-only");
    let config = rec_rewrite::RewriteConfig {
        edge_addresses: if ice_part_only {
            Vec::new()
        } else {
            vec!["198.51.100.20".parse().unwrap()]
        },
        ..Default::default()
    };
    let mut rewriter = rec_rewrite::Rewriter::new(config, &Default::default()).unwrap();
    for _ in 0..2000 {
        std::hint::black_box(rewriter.rewrite(std::hint::black_box(&message)).unwrap());
    }
}
