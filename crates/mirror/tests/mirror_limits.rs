//! The mirror's connection limits on loopback (sources 127.0.x.y): silent connections closed by the handshake
//! timeout, the per-source cap, a flood of thousands of silent connections that cannot lock a filter out,
//! the idle timeout, and a filter that never reads its replies.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, missing_docs)]

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use rec_mirror::protocol::{self, Message};
use rec_mirror::{shared_rewriter, ClientEvent, MirrorClient, MirrorStats, OutMessage};
use rustls_pki_types::ServerName;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const LONG: Duration = Duration::from_secs(30);

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    socket.connect(to).await
}

/// Completes when the server has closed `tcp` (EOF or reset); panics if it has not within [`LONG`].
async fn closed_by_server(tcp: &mut TcpStream) {
    let mut buf = [0u8; 256];
    tokio::time::timeout(LONG, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the connection in time");
}

async fn wait_for(stats: &MirrorStats, what: impl Fn(&MirrorStats) -> bool) {
    tokio::time::timeout(LONG, async {
        while !what(stats) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("counter reached in time");
}

fn invite() -> Vec<u8> {
    example("example_a_lync2013_invite_multipart.sip")
}

/// Sends an INVITE with a reply deadline and waits for its reply; `true` when it came back rewritten.
async fn invite_is_answered(s: &Setup, addr: SocketAddr) -> bool {
    let (mut client, mut events) = MirrorClient::connect(s.client_options(addr, &s.filter))
        .await
        .expect("the filter connects");
    let bytes = invite();
    let id = client
        .send(&OutMessage {
            bytes: &bytes,
            src: None,
            dst: None,
            ip_proto: Some(6),
            at_us: None,
            reply_within_ms: Some(5_000),
        })
        .await
        .unwrap();
    let rewritten = loop {
        match tokio::time::timeout(LONG, events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ClientEvent::Reply {
                id: got, rewritten, ..
            } if got == id => break rewritten.is_some(),
            ClientEvent::Disconnected(why) => panic!("disconnected: {why}"),
            _ => {}
        }
    };
    client.close().await;
    rewritten
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_by_the_handshake_timeout() {
    let s = Setup::new();
    let config = rec_mirror::MirrorConfig {
        handshake_timeout_ms: 300,
        ..s.config()
    };
    let server = start(&config, shared_rewriter(rewriter())).await;
    let mut silent = connect_from(Ipv4Addr::new(127, 0, 0, 1), server.addr)
        .await
        .unwrap();
    closed_by_server(&mut silent).await;
    wait_for(&server.stats, |s| s.refused_handshakes.load(Relaxed) == 1).await;
    assert_eq!(server.stats.connections.load(Relaxed), 0);
    // a filter is served as before
    assert!(invite_is_answered(&s, server.addr).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_source_cap_closes_the_excess_at_accept_other_sources_unaffected() {
    let s = Setup::new();
    let config = rec_mirror::MirrorConfig {
        max_connections_per_source: 3,
        handshake_timeout_ms: 60_000,
        ..s.config()
    };
    let server = start(&config, shared_rewriter(rewriter())).await;
    let attacker = Ipv4Addr::new(127, 0, 3, 1);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(attacker, server.addr).await.unwrap());
    }
    let mut fourth = connect_from(attacker, server.addr).await.unwrap();
    // closed at accept, long before the 60 s handshake timeout
    closed_by_server(&mut fourth).await;
    wait_for(&server.stats, |s| s.refused_limit.load(Relaxed) == 1).await;
    assert_eq!(server.stats.refused_handshakes.load(Relaxed), 0);
    // the filter (127.0.0.1) is another source
    assert!(invite_is_answered(&s, server.addr).await);
    // the three held ones are still open (nothing to read, no EOF)
    for tcp in &mut held {
        let mut b = [0u8; 1];
        assert!(
            tokio::time::timeout(Duration::from_millis(50), tcp.read(&mut b))
                .await
                .is_err(),
            "a connection within the cap is kept"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_silent_connections_never_lock_a_filter_out() {
    let s = Setup::new();
    let config = rec_mirror::MirrorConfig {
        max_connections: 200,
        max_connections_per_source: 20,
        handshake_timeout_ms: 60_000, // only the caps free slots here
        ..s.config()
    };
    let mut server = start(&config, shared_rewriter(rewriter())).await;
    let mut silent = Vec::new();
    let mut refused_at_connect = 0u32;
    // 2,000 connections from 100 sources (20 each: at the per-source cap), then 1,000 of them dropped and
    // opened again (the attacker refreshing its connections)
    for round in 0..2 {
        if round == 1 {
            silent.truncate(1000);
        }
        for i in 0..2000usize {
            if round == 1 && i >= 1000 {
                break;
            }
            let from = Ipv4Addr::new(127, 0, 1, 1 + u8::try_from(i % 100).unwrap());
            match connect_from(from, server.addr).await {
                Ok(tcp) => silent.push(tcp),
                Err(_) => refused_at_connect += 1,
            }
        }
    }
    assert!(silent.len() >= 1900, "{} connections opened", silent.len());
    assert_eq!(refused_at_connect, 0);
    // while they are all open (from the attacker's side), the filter connects, gets its reply, and its
    // message reaches the engine
    assert!(invite_is_answered(&s, server.addr).await);
    let m = tokio::time::timeout(LONG, server.rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.bytes, invite());
    // the server held at most 200 of the 3,000: the others were evicted (closed), refused at the per-source
    // cap, or ended by the attacker's own close during their handshake
    wait_for(&server.stats, |s| {
        s.evicted.load(Relaxed) + s.refused_limit.load(Relaxed) + s.refused_handshakes.load(Relaxed)
            >= 2_800
    })
    .await;
    let stats = server.stats.snapshot();
    eprintln!(
        "flood: {} silent connections open on the attacker's side; evicted {}, refused at the cap {}, ended in handshake {}",
        silent.len(),
        stats.evicted,
        stats.refused_limit,
        stats.refused_handshakes
    );
    assert!(stats.evicted >= 1_800, "evicted {}", stats.evicted);
    assert_eq!(stats.connections, 1);
    // the oldest connection was evicted: the server closed it
    closed_by_server(&mut silent[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_authenticated_connection_is_closed_after_the_idle_time() {
    let s = Setup::new();
    let config = rec_mirror::MirrorConfig {
        idle_timeout_s: 1,
        ..s.config()
    };
    let server = start(&config, shared_rewriter(rewriter())).await;
    let (mut client, mut events) = MirrorClient::connect(s.client_options(server.addr, &s.filter))
        .await
        .unwrap();
    let bytes = invite();
    client
        .send(&OutMessage {
            bytes: &bytes,
            src: None,
            dst: None,
            ip_proto: Some(6),
            at_us: None,
            reply_within_ms: Some(5_000),
        })
        .await
        .unwrap();
    let mut replied = false;
    loop {
        match tokio::time::timeout(LONG, events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ClientEvent::Reply { .. } => replied = true,
            ClientEvent::Disconnected(_) => break,
            ClientEvent::Acked(_) => {}
            ClientEvent::Refused(ids) => panic!("messages {ids:?} refused by an idle server"),
        }
    }
    assert!(replied, "served before going idle");
    wait_for(&server.stats, |s| s.closed_idle.load(Relaxed) == 1).await;
    assert_eq!(server.stats.connections.load(Relaxed), 1);
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_that_never_reads_its_replies_is_closed_and_memory_stays_bounded() {
    let s = Setup::new();
    let config = rec_mirror::MirrorConfig {
        write_timeout_ms: 500,
        ..s.config()
    };
    let server = start(&config, shared_rewriter(rewriter())).await;
    let ca = rec_mirror::tls::load_certs(&s.ca.pem).unwrap();
    let tls = rec_mirror::tls::client_config(
        rec_mirror::tls::load_certs(&s.filter.cert).unwrap(),
        rec_mirror::tls::load_key(&s.filter.key).unwrap(),
        &ca,
    )
    .unwrap();
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::clone(&tls))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    // one reply-wanted INVITE frame (5.6 kB), sent 20,000 times (112 MB) with distinct ids; its replies
    // (rewritten, as large) are never read
    let bytes = invite();
    let rss_before = vm_rss_kib();
    let sent = tokio::time::timeout(LONG * 2, async {
        let mut frame = Vec::new();
        let mut sent = 0u64;
        for id in 1..=20_000u64 {
            frame.clear();
            protocol::encode_message(
                &Message {
                    id: Some(id),
                    reply_within_ms: Some(5_000),
                    src: None,
                    dst: None,
                    ip_proto: Some(6),
                    at_us: None,
                    payload: &bytes,
                },
                &mut frame,
            )
            .unwrap();
            if stream.write_all(&frame).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    })
    .await
    .expect("the server closes the connection instead of blocking the writer forever");
    wait_for(&server.stats, |s| s.closed_write_stalled.load(Relaxed) == 1).await;
    let replies = server.stats.replies.load(Relaxed);
    let grown_kib = vm_rss_kib().saturating_sub(rss_before);
    eprintln!("never-reading filter: {sent} frames sent, {replies} replies produced, RSS +{grown_kib} KiB");
    // the server stopped reading once its replies could not be written: far fewer than were sent
    assert!(sent < 20_000, "the writer was stopped ({sent} frames sent)");
    assert!(
        replies < 5_000,
        "{replies} replies produced for {sent} frames"
    );
    // replies for 20,000 frames would be > 100 MB if they were buffered
    assert!(
        grown_kib < 32 * 1024,
        "resident memory grew by {grown_kib} KiB"
    );
}
