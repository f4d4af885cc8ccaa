#![allow(missing_docs, clippy::disallowed_methods)]
use std::time::Instant;
fn main() {
    let m = std::fs::read("/work/shared/domain/examples/example_a_lync2013_invite_multipart.sip").unwrap();
    let n = 20000;
    let t = Instant::now();
    for _ in 0..n { let msg = rec_sip::Message::parse(&m).unwrap(); std::hint::black_box(msg.bodies()); }
    println!("parse+bodies {:?}", t.elapsed() / n);
    let msg = rec_sip::Message::parse(&m).unwrap();
    let parts = msg.bodies();
    let sdp = &m[parts[1].body_range.clone()];
    let pol = rec_sdp::RelayPolicy { edge_addresses: &["198.51.100.20"], invalid_port: 9, video: false, drop_codecs: &[] };
    let t = Instant::now();
    for _ in 0..n { std::hint::black_box(rec_sdp::Sdp::parse(sdp).unwrap()); }
    println!("sdp parse {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n { std::hint::black_box(rec_sdp::force_relay(sdp, &pol).unwrap()); }
    println!("force_relay {:?}", t.elapsed() / n);
    let r = rec_sdp::force_relay(sdp, &pol).unwrap();
    let t = Instant::now();
    for _ in 0..n { std::hint::black_box(r.apply(sdp)); }
    println!("apply {:?}", t.elapsed() / n);
    let new = r.apply(sdp);
    let t = Instant::now();
    for _ in 0..n { std::hint::black_box(rec_sip::replace_bodies(&m, &[(parts[1].body_range.clone(), &new[..])]).unwrap()); }
    println!("replace_bodies {:?}", t.elapsed() / n);
    let p = rec_rewrite::Policy::new(&Default::default()).unwrap();
    let t = Instant::now();
    for _ in 0..n { std::hint::black_box(p.decide(["sip:alice@contoso.example", "sip:bob@fabrikam.example"])); }
    println!("policy {:?}", t.elapsed() / n);
}
