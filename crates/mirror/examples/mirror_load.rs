//! Load run of the TLS mirror on loopback: SIP INVITEs with SDP at a fixed rate, each wanting a rewrite reply;
//! prints the round-trip percentiles seen by the filter and the server's counters.
//!
//! `cargo run --release -p rec-mirror --example mirror_load -- [RATE_PER_S] [SECONDS]` (defaults 1000 and 10).
//! The recorder side runs on its own thread and single-threaded tokio runtime, the filter on another, as two
//! processes would; certificates are made on the fly (rcgen).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use rec_mirror::{shared_rewriter, ClientEvent, MirrorClient, OutMessage};

fn main() {
    let mut args = std::env::args().skip(1);
    let rate: u64 = args.next().map_or(1000, |a| a.parse().expect("rate"));
    let seconds: u64 = args.next().map_or(10, |a| a.parse().expect("seconds"));
    let setup = support::Setup::new();
    let config = setup.config();

    // recorder side
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server_config = config.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut running =
                support::start(&server_config, shared_rewriter(support::rewriter())).await;
            addr_tx.send((running.addr, running.stats.clone())).unwrap();
            // the engine: takes every message off the queue
            while running.rx.recv().await.is_some() {}
        });
    });
    let (addr, stats) = addr_rx.recv().unwrap();

    let invite = support::example("example_a_lync2013_invite_multipart.sip");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rtts = rt.block_on(async {
        let (mut client, mut events) =
            MirrorClient::connect(setup.client_options(addr, &setup.filter))
                .await
                .unwrap();
        let total = rate * seconds;
        let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
        let mut rtts = Vec::with_capacity(total as usize);
        let (mut sent, mut rewritten) = (0u64, 0u64);
        let started = Instant::now();
        while (rtts.len() as u64) < total {
            tokio::select! {
                _ = tick.tick(), if sent < total => {
                    client
                        .send(&OutMessage {
                            bytes: &invite,
                            src: Some("192.0.2.10:51234".parse().unwrap()),
                            dst: Some("192.0.2.5:5061".parse().unwrap()),
                            ip_proto: Some(6),
                            at_us: None,
                            reply_within_ms: Some(100),
                        })
                        .await
                        .unwrap();
                    sent += 1;
                }
                e = events.recv() => match e.expect("events") {
                    ClientEvent::Reply { rtt, rewritten: r, .. } => {
                        rewritten += u64::from(r.is_some());
                        rtts.push(rtt);
                    }
                    ClientEvent::Acked(_) | ClientEvent::Refused(_) => {}
                    ClientEvent::Disconnected(why) => panic!("disconnected: {why}"),
                },
            }
        }
        let elapsed = started.elapsed();
        println!(
            "sent {sent} INVITEs ({} bytes each) in {:.2} s ({:.0}/s), {rewritten} rewritten replies",
            invite.len(),
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64()
        );
        rtts
    });
    rtts.sort();
    let p = |q: f64| rtts[((rtts.len() as f64 * q) as usize).min(rtts.len() - 1)];
    println!(
        "round trip: p50 {:?}  p90 {:?}  p99 {:?}  p99.9 {:?}  max {:?}",
        p(0.50),
        p(0.90),
        p(0.99),
        p(0.999),
        rtts[rtts.len() - 1]
    );
    let st = stats.snapshot();
    println!(
        "server: frames {} replies {} rewritten {} unchanged {} fail_open {} refused {} dropped {}; rewrite latency mean {:.1} µs",
        st.frames,
        st.replies,
        st.rewritten,
        st.unchanged,
        st.fail_open,
        st.refused,
        st.dropped,
        st.latency_sum_ns as f64 / st.replies.max(1) as f64 / 1000.0
    );
    println!(
        "server latency buckets (≤ µs: cumulative count): {:?}",
        st.latency_cumulative
    );
}
