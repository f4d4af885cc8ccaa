//! The admin API under hostile clients on loopback (sources 127.0.x.y): audit lines for requests refused
//! before routing, slowloris and the per-source cap, many concurrent Range downloads that never read.
#![allow(missing_docs)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rec_admin::AdminLimits;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

const LONG: Duration = Duration::from_secs(30);

async fn tcp_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

fn connector(f: &Fixture) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let cert_pem = std::fs::read(f._dir.path().join("admin-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&cert_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_from(f: &Fixture, from: Ipv4Addr) -> TlsStream<TcpStream> {
    let tcp = tcp_from(from, f.addr).await;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    connector(f).connect(name, tcp).await.unwrap()
}

/// Sends `bytes` on a new TLS connection and reads until the server closes it.
async fn exchange(f: &Fixture, bytes: &[u8]) -> String {
    let mut tls = tls_from(f, Ipv4Addr::new(127, 0, 0, 1)).await;
    tls.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(LONG, tls.read_to_end(&mut out))
        .await
        .expect("the server closes the connection in time");
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits for an audit line with `event`.
async fn audit_event(f: &Fixture, event: &str) -> Value {
    tokio::time::timeout(LONG, async {
        loop {
            if let Some(l) = f.audit_lines().into_iter().find(|l| l["event"] == event) {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("an audit line for {event}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_refused_before_routing_are_audited_without_secrets() {
    let f = start_limited(
        false,
        AdminLimits {
            header_timeout: Duration::from_millis(500),
            ..AdminLimits::default()
        },
    )
    .await;
    // routed refusals: unknown path (404), wrong method (405)
    assert_eq!(
        f.get("/no/such/thing").await.status(),
        StatusCode::NOT_FOUND
    );
    let r = f
        .client
        .post(f.url("/api/recordings"))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    // a body over the limit (413) before the route runs
    let r = f
        .client
        .post(f.url("/api/recordings"))
        .bearer_auth(OPS_TOKEN)
        .body(vec![b'x'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // a bad request line: hyper answers 400
    let text = exchange(&f, b"GET\x01 / HTTP/1.1\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    // oversize headers, carrying the token: 431
    let big = format!(
        "GET /api/recordings HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {OPS_TOKEN}\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let text = exchange(&f, big.as_bytes()).await;
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    // headers never finished: closed after the header timeout
    let text = exchange(&f, b"GET /api/recordings HTTP/1.1\r\nHost: loc").await;
    assert!(!text.contains("200"), "{text}");
    // TLS garbage after the handshake: a record that does not decrypt
    {
        let mut tls = tls_from(&f, Ipv4Addr::new(127, 0, 0, 1)).await;
        tls.flush().await.unwrap();
        let (tcp, _) = tls.get_mut();
        tcp.write_all(&[0x17, 0x03, 0x03, 0x00, 0x20])
            .await
            .unwrap();
        tcp.write_all(&[0x55; 32]).await.unwrap();
        let mut b = [0u8; 64];
        let _ = tokio::time::timeout(LONG, tcp.read(&mut b)).await;
    }
    let statuses: Vec<(String, u64)> = [
        ("bad_request", 400u64),
        ("header_too_large", 431),
        ("header_timeout", 0),
        // not ("tls_error", 0): a record that does not decrypt after the handshake is not audited yet — on an
        // idle machine the connection ends without an error that `connection_outcome` recognises (open in
        // issue 14; the exchange above still checks that the server closes such a connection)
    ]
    .iter()
    .map(|(event, status)| ((*event).to_owned(), *status))
    .collect();
    for (event, status) in &statuses {
        let l = audit_event(&f, event).await;
        assert_eq!(l["status"].as_u64(), Some(*status), "{l}");
        assert!(
            l["remote_addr"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{l}"
        );
        assert!(l["time"].as_str().unwrap().ends_with('Z'), "{l}");
        assert!(l["detail"].is_string(), "{l}");
    }
    let lines = f.audit_lines();
    let routed: Vec<u64> = lines
        .iter()
        .filter(|l| l["event"] == "request")
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    for status in [404, 405, 413] {
        assert!(routed.contains(&status), "{status} audited: {routed:?}");
    }
    let text = std::fs::read_to_string(&f.audit_log).unwrap();
    assert!(!text.contains(OPS_TOKEN), "the audit log holds no token");
    assert!(
        !text.contains("Bearer"),
        "the audit log holds no Authorization header"
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_and_the_per_source_cap_do_not_block_a_valid_client() {
    let f = start_limited(
        false,
        AdminLimits {
            max_connections: 64,
            max_connections_per_source: 4,
            header_timeout: Duration::from_secs(60),
            ..AdminLimits::default()
        },
    )
    .await;
    // 40 slowloris connections from 10 sources (4 each: the cap), dripping a request head byte by byte
    let mut slow = Vec::new();
    for i in 0..40u8 {
        slow.push(tls_from(&f, Ipv4Addr::new(127, 0, 5, 1 + i % 10)).await);
    }
    let head = b"GET /api/recordings HTTP/1.1\r\nHost: localhost\r\n";
    for byte in head.iter().take(8) {
        for s in &mut slow {
            s.write_all(&[*byte]).await.unwrap();
            s.flush().await.unwrap();
        }
    }
    // a fifth connection from a saturated source is closed at accept (the handshake fails)
    let tcp = tcp_from(Ipv4Addr::new(127, 0, 5, 1), f.addr).await;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let fifth = tokio::time::timeout(LONG, connector(&f).connect(name, tcp))
        .await
        .expect("refused in time");
    assert!(fifth.is_err(), "over the per-source cap");
    // the valid client (127.0.0.1) is served at once, many times
    for _ in 0..5 {
        let r = f.get("/api/recordings").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // the slow ones are still waiting (not answered, not served instead of the valid client)
    let mut b = [0u8; 16];
    assert!(
        tokio::time::timeout(Duration::from_millis(100), slow[0].read(&mut b))
            .await
            .is_err()
    );
    drop(slow);
    f.stop().await;
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
async fn many_concurrent_range_downloads_that_never_read_stay_bounded_in_memory() {
    let f = start_limited(
        false,
        AdminLimits {
            max_connections_per_source: 64,
            write_timeout: Duration::from_secs(2),
            ..AdminLimits::default()
        },
    )
    .await;
    // the complete call's WAV made 32 MiB (the server streams whatever the file holds)
    let wav = walk(&f.root)
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "wav") && !p.to_string_lossy().contains("link")
        })
        .unwrap();
    let mut big = f.wav.clone();
    big.resize(32 * 1024 * 1024, 0x11);
    std::fs::write(&wav, &big).unwrap();
    let rss_before = vm_rss_kib();
    let mut downloads = Vec::new();
    for i in 0..48u32 {
        let mut tls = tls_from(&f, Ipv4Addr::new(127, 0, 6, 1)).await;
        let req = format!(
            "GET /api/recordings/{}/audio HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {OPS_TOKEN}\r\nRange: bytes={}-\r\n\r\n",
            f.ids.complete,
            i * 1000
        );
        tls.write_all(req.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        downloads.push(tls);
    }
    // give the server time to fill every socket buffer it can
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let grown_kib = vm_rss_kib().saturating_sub(rss_before);
    eprintln!("48 stalled 32 MiB Range downloads: RSS +{grown_kib} KiB");
    // 48 × 32 MiB = 1.5 GiB if the responses were buffered
    assert!(
        grown_kib < 96 * 1024,
        "resident memory grew by {grown_kib} KiB"
    );
    // the stalled downloads are closed after the write timeout, and audited as such
    let l = audit_event(&f, "write_timeout").await;
    assert!(
        l["remote_addr"].as_str().unwrap().starts_with("127.0.6.1:"),
        "{l}"
    );
    // a valid client is served meanwhile
    assert_eq!(f.get("/healthz").await.status(), StatusCode::OK);
    drop(downloads);
    f.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
