#![allow(missing_docs, clippy::disallowed_methods)]
fn main() {
    let m = std::fs::read("/work/shared/domain/examples/example_a_lync2013_invite_multipart.sip").unwrap();
    let config = rec_rewrite::RewriteConfig { edge_addresses: vec!["198.51.100.20".parse().unwrap()], ..Default::default() };
    let mut r = rec_rewrite::Rewriter::new(config, &Default::default()).unwrap();
    for _ in 0..2000 { std::hint::black_box(r.rewrite(&m).unwrap()); }
}
