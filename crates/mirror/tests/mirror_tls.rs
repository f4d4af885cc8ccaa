//! The mTLS mirror end to end on loopback: authentication, replies, acknowledgements, duplicates, resends,
//! garbage, fail open, plain HEP.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, missing_docs)]

mod support;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use rec_mirror::protocol::UnchangedReason;
use rec_mirror::{
    shared_rewriter, ClientEvent, MirrorClient, MirrorStats, MirroredSip, OutMessage, RewriteSip,
};
use rec_rewrite::{Account, RewriteError};
use rustls_pki_types::ServerName;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const LONG: Duration = Duration::from_secs(20);

const OPTIONS: &[u8] = b"OPTIONS sip:recorder@contoso.example SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.5:5061;branch=z9hG4bK1\r\nFrom: <sip:fe01@contoso.example>;tag=1\r\nTo: <sip:recorder@contoso.example>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

fn sip_with_call_id(n: u64) -> Vec<u8> {
    format!("BYE sip:bob@fabrikam.example SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.5:5061;branch=z9hG4bK{n}\r\nFrom: <sip:alice@contoso.example>;tag=a\r\nTo: <sip:bob@fabrikam.example>;tag=b\r\nCall-ID: call-{n}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<ClientEvent>) -> ClientEvent {
    tokio::time::timeout(LONG, rx.recv())
        .await
        .expect("event in time")
        .expect("event channel open")
}

async fn next_reply(rx: &mut mpsc::UnboundedReceiver<ClientEvent>) -> ClientEvent {
    loop {
        match next_event(rx).await {
            e @ ClientEvent::Reply { .. } => return e,
            ClientEvent::Acked(_) | ClientEvent::Refused(_) => {}
            ClientEvent::Disconnected(why) => panic!("disconnected: {why}"),
        }
    }
}

/// Waits until the client has no unacknowledged message.
async fn all_acked(client: &MirrorClient, rx: &mut mpsc::UnboundedReceiver<ClientEvent>) {
    while client.unacked() > 0 {
        if let ClientEvent::Disconnected(why) = next_event(rx).await {
            panic!("disconnected: {why}");
        }
    }
}

async fn recv(rx: &mut mpsc::Receiver<MirroredSip>) -> MirroredSip {
    tokio::time::timeout(LONG, rx.recv())
        .await
        .expect("message in time")
        .expect("channel open")
}

async fn wait_for(stats: &MirrorStats, what: impl Fn(&MirrorStats) -> bool) {
    tokio::time::timeout(LONG, async {
        while !what(stats) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("counter reached in time");
}

#[tokio::test]
async fn reply_for_an_invite_equals_the_rewriter_and_the_engine_gets_the_original() {
    let s = Setup::new();
    let mut server = start(&s.config(), shared_rewriter(rewriter())).await;
    let (mut client, mut events) = MirrorClient::connect(s.client_options(server.addr, &s.filter))
        .await
        .unwrap();
    let invite = example("example_a_lync2013_invite_multipart.sip");
    let expected = rewriter()
        .rewrite(&invite)
        .unwrap()
        .output
        .expect("example A is rewritten");
    assert_ne!(expected, invite);

    let id = client
        .send(&OutMessage {
            bytes: &invite,
            src: Some("192.0.2.10:51234".parse().unwrap()),
            dst: Some("192.0.2.5:5061".parse().unwrap()),
            ip_proto: Some(6),
            at_us: Some(1_700_000_000_000_000),
            reply_within_ms: Some(1000),
        })
        .await
        .unwrap();
    match next_reply(&mut events).await {
        ClientEvent::Reply {
            id: rid,
            rewritten,
            unchanged,
            ..
        } => {
            assert_eq!(rid, id);
            assert_eq!(unchanged, None);
            assert!(
                rewritten.as_deref() == Some(&expected[..]),
                "reply differs from the rewriter's output"
            );
        }
        e => panic!("{e:?}"),
    }
    let got = recv(&mut server.rx).await;
    assert_eq!(got.id, Some(id));
    assert!(got.bytes == invite);
    assert!(got.rewritten);
    assert_eq!(got.src, Some("192.0.2.10:51234".parse().unwrap()));
    assert_eq!(got.at_us, Some(1_700_000_000_000_000));
    match &got.origin {
        rec_mirror::Origin::Filter { subject } => {
            assert!(subject.contains("CN=fe01.contoso.example"), "{subject}")
        }
        o => panic!("{o:?}"),
    }
    all_acked(&client, &mut events).await;

    // no SDP: "unchanged", reason given, still forwarded to the engine
    let id2 = client
        .send(&OutMessage {
            bytes: OPTIONS,
            reply_within_ms: Some(1000),
            ..OutMessage::default()
        })
        .await
        .unwrap();
    match next_reply(&mut events).await {
        ClientEvent::Reply {
            id,
            rewritten,
            unchanged,
            ..
        } => {
            assert_eq!(
                (id, rewritten, unchanged),
                (id2, None, Some(UnchangedReason::NoSdp))
            );
        }
        e => panic!("{e:?}"),
    }
    let got = recv(&mut server.rx).await;
    assert_eq!(got.id, Some(id2));
    assert!(!got.rewritten);
    let st = server.stats.snapshot();
    assert_eq!(
        (
            st.frames,
            st.replies,
            st.rewritten,
            st.unchanged,
            st.fail_open
        ),
        (2, 2, 1, 1, 0)
    );
    assert_eq!(st.connections, 1);
    assert_eq!(st.latency_cumulative.last().unwrap().1, 2);
}

async fn expect_refused(
    s: &Setup,
    config: rec_mirror::MirrorConfig,
    client_tls: Arc<rustls::ClientConfig>,
) {
    let mut server = start(&config, shared_rewriter(rewriter())).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(client_tls);
    // TLS 1.3: the client may finish its side before the server rejects its certificate; the rejection then
    // shows on the first read.
    if let Ok(mut tls) = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
    {
        let mut frame = Vec::new();
        rec_mirror::protocol::encode_message(
            &rec_mirror::protocol::Message {
                id: Some(1),
                reply_within_ms: Some(100),
                src: None,
                dst: None,
                ip_proto: None,
                at_us: None,
                payload: OPTIONS,
            },
            &mut frame,
        )
        .unwrap();
        let _ = tls.write_all(&frame).await;
        let _ = tls.flush().await;
        let mut buf = [0u8; 1024];
        let r = tokio::time::timeout(LONG, tls.read(&mut buf))
            .await
            .expect("answer in time");
        assert!(matches!(r, Ok(0) | Err(_)), "refused client got {r:?}");
    }
    wait_for(&server.stats, |st| st.refused_handshakes.load(Relaxed) == 1).await;
    let st = server.stats.snapshot();
    assert_eq!((st.connections, st.frames), (0, 0));
    assert!(server.rx.try_recv().is_err());
    let _ = s;
}

fn tls_client(s: &Setup, leaf: Option<&Leaf>) -> Arc<rustls::ClientConfig> {
    let ca = rec_mirror::tls::load_certs(&s.ca.pem).unwrap();
    match leaf {
        Some(l) => rec_mirror::tls::client_config(
            rec_mirror::tls::load_certs(&l.cert).unwrap(),
            rec_mirror::tls::load_key(&l.key).unwrap(),
            &ca,
        )
        .unwrap(),
        None => {
            let mut roots = rustls::RootCertStore::empty();
            for c in ca {
                roots.add(c).unwrap();
            }
            Arc::new(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
            )
        }
    }
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let s = Setup::new();
    expect_refused(&s, s.config(), tls_client(&s, None)).await;
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let s = Setup::new();
    let other = s.pki.ca("other-ca");
    let stranger = s.pki.leaf(&other, "fe01.contoso.example", false);
    expect_refused(&s, s.config(), tls_client(&s, Some(&stranger))).await;
}

#[tokio::test]
async fn a_subject_not_in_the_allow_list_is_refused_and_a_listed_one_accepted() {
    let s = Setup::new();
    let fe99 = s.pki.leaf(&s.ca, "fe99.contoso.example", false);
    let mut config = s.config();
    config.allowed_subjects = vec!["fe01.contoso.example".into()];
    expect_refused(&s, config.clone(), tls_client(&s, Some(&fe99))).await;

    // the listed filter, by common name and by whole subject
    for allowed in ["fe01.contoso.example", "CN=fe01.contoso.example, O=Contoso"] {
        config.allowed_subjects = vec![allowed.into()];
        let server = start(&config, shared_rewriter(rewriter())).await;
        let (mut client, mut events) =
            MirrorClient::connect(s.client_options(server.addr, &s.filter))
                .await
                .unwrap();
        client
            .send(&OutMessage {
                bytes: OPTIONS,
                reply_within_ms: Some(1000),
                ..OutMessage::default()
            })
            .await
            .unwrap();
        next_reply(&mut events).await;
        assert_eq!(server.stats.snapshot().refused_handshakes, 0);
    }
}

#[tokio::test]
async fn duplicate_ids_after_a_reconnect_are_acknowledged_but_not_forwarded_twice() {
    let s = Setup::new();
    let mut server = start(&s.config(), shared_rewriter(rewriter())).await;
    // first connection: ids 1..=5
    let (mut a, mut ea) = MirrorClient::connect(s.client_options(server.addr, &s.filter))
        .await
        .unwrap();
    for n in 1..=5 {
        assert_eq!(
            a.send(&OutMessage {
                bytes: &sip_with_call_id(n),
                ..Default::default()
            })
            .await
            .unwrap(),
            n
        );
    }
    all_acked(&a, &mut ea).await;
    a.close().await;
    // same certificate subject, new connection, ids 3..=7 (3, 4, 5 again)
    let mut opts = s.client_options(server.addr, &s.filter);
    opts.first_id = Some(3);
    let (mut b, mut eb) = MirrorClient::connect(opts).await.unwrap();
    for n in 3..=7 {
        b.send(&OutMessage {
            bytes: &sip_with_call_id(n),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    all_acked(&b, &mut eb).await;
    let mut ids = Vec::new();
    while let Ok(m) = server.rx.try_recv() {
        ids.push(m.id.unwrap());
    }
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6, 7]);
    let st = server.stats.snapshot();
    assert_eq!((st.frames, st.duplicates), (10, 3));

    // another filter (another subject) has its own id space
    let fe02 = s.pki.leaf(&s.ca, "fe02.contoso.example", false);
    let (mut c, mut ec) = MirrorClient::connect(s.client_options(server.addr, &fe02))
        .await
        .unwrap();
    c.send(&OutMessage {
        bytes: &sip_with_call_id(1),
        ..Default::default()
    })
    .await
    .unwrap();
    all_acked(&c, &mut ec).await;
    assert_eq!(recv(&mut server.rx).await.id, Some(1));
}

/// A TLS proxy that passes the filter's frames to the recorder and swallows everything coming back: the
/// recorder receives every message, the filter sees no acknowledgement (as when a connection dies with acks in
/// flight).
async fn ack_eating_proxy(s: &Setup, upstream: std::net::SocketAddr) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_tls = rec_mirror::tls::server_config(
        rec_mirror::tls::load_certs(&s.server.cert).unwrap(),
        rec_mirror::tls::load_key(&s.server.key).unwrap(),
        &rec_mirror::tls::load_certs(&s.ca.pem).unwrap(),
        &[],
    )
    .unwrap();
    let client_tls = tls_client(s, Some(&s.filter));
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut down = tokio_rustls::TlsAcceptor::from(server_tls)
            .accept(tcp)
            .await
            .unwrap();
        let up = TcpStream::connect(upstream).await.unwrap();
        let up = tokio_rustls::TlsConnector::from(client_tls)
            .connect(ServerName::try_from("localhost").unwrap(), up)
            .await
            .unwrap();
        let (mut up_r, mut up_w) = tokio::io::split(up);
        tokio::spawn(async move {
            let mut sink = vec![0u8; 65536];
            while let Ok(n) = up_r.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        });
        let _ = tokio::io::copy(&mut down, &mut up_w).await;
    });
    addr
}

#[tokio::test]
async fn unacknowledged_messages_are_resent_after_a_reconnect_and_delivered_exactly_once() {
    let s = Setup::new();
    let mut server = start(&s.config(), shared_rewriter(rewriter())).await;
    let (mut client, mut events) = MirrorClient::connect(s.client_options(server.addr, &s.filter))
        .await
        .unwrap();
    // 1..=3 acknowledged normally
    for n in 1..=3 {
        client
            .send(&OutMessage {
                bytes: &sip_with_call_id(n),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    all_acked(&client, &mut events).await;
    // 4..=10 through a path that loses every acknowledgement
    let proxy = ack_eating_proxy(&s, server.addr).await;
    client.set_target(proxy.to_string());
    assert_eq!(client.reconnect().await.unwrap(), 0);
    for n in 4..=10 {
        client
            .send(&OutMessage {
                bytes: &sip_with_call_id(n),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for _ in 1..=10 {
        ids.push(recv(&mut server.rx).await.id.unwrap());
    }
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert_eq!(client.unacked(), 7);
    // back to the recorder directly: the seven go again, are acknowledged, and are not forwarded twice
    client.set_target(server.addr.to_string());
    assert_eq!(client.reconnect().await.unwrap(), 7);
    client
        .send(&OutMessage {
            bytes: &sip_with_call_id(11),
            ..Default::default()
        })
        .await
        .unwrap();
    all_acked(&client, &mut events).await;
    assert_eq!(recv(&mut server.rx).await.id, Some(11));
    assert!(
        server.rx.try_recv().is_err(),
        "a message was delivered twice"
    );
    let st = server.stats.snapshot();
    assert_eq!((st.frames, st.duplicates, st.dropped), (18, 7, 0));
}

#[tokio::test]
async fn garbage_closes_that_connection_only() {
    let s = Setup::new();
    let server = start(&s.config(), shared_rewriter(rewriter())).await;
    let (mut good, mut events) = MirrorClient::connect(s.client_options(server.addr, &s.filter))
        .await
        .unwrap();
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut bad = tokio_rustls::TlsConnector::from(tls_client(&s, Some(&s.filter)))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    bad.write_all(b"HEP3\x00\x02 this is not a frame\r\n")
        .await
        .unwrap();
    bad.flush().await.unwrap();
    let mut buf = [0u8; 256];
    let r = tokio::time::timeout(LONG, bad.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    assert_eq!(server.stats.snapshot().bad_streams, 1);
    // the other filter carries on
    let id = good
        .send(&OutMessage {
            bytes: OPTIONS,
            reply_within_ms: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    match next_reply(&mut events).await {
        ClientEvent::Reply { id: rid, .. } => assert_eq!(rid, id),
        e => panic!("{e:?}"),
    }
}

struct Panicking;
impl RewriteSip for Panicking {
    fn rewrite_sip(&mut self, _: &[u8]) -> Result<Account, RewriteError> {
        panic!("rewriter bug");
    }
}

struct Slow(rec_rewrite::Rewriter);
impl RewriteSip for Slow {
    fn rewrite_sip(&mut self, bytes: &[u8]) -> Result<Account, RewriteError> {
        std::thread::sleep(Duration::from_millis(30));
        self.0.rewrite(bytes)
    }
}

#[tokio::test]
async fn a_failing_or_late_rewriter_answers_unchanged_and_says_so() {
    let s = Setup::new();
    let invite = example("example_a_lync2013_invite_multipart.sip");
    for (rewriter, within) in [
        (Box::new(Panicking) as Box<dyn RewriteSip>, 1000),
        (Box::new(Slow(rewriter())), 5),
    ] {
        let mut server = start(&s.config(), Arc::new(std::sync::Mutex::new(rewriter))).await;
        let (mut client, mut events) =
            MirrorClient::connect(s.client_options(server.addr, &s.filter))
                .await
                .unwrap();
        for _ in 0..2 {
            client
                .send(&OutMessage {
                    bytes: &invite,
                    reply_within_ms: Some(within),
                    ..Default::default()
                })
                .await
                .unwrap();
            match next_reply(&mut events).await {
                ClientEvent::Reply {
                    rewritten,
                    unchanged,
                    ..
                } => {
                    assert_eq!(
                        (rewritten, unchanged),
                        (None, Some(UnchangedReason::FailOpen))
                    )
                }
                e => panic!("{e:?}"),
            }
            // the engine still gets the message
            assert!(!recv(&mut server.rx).await.rewritten);
        }
        let st = server.stats.snapshot();
        assert_eq!((st.replies, st.unchanged, st.fail_open), (2, 2, 2));
    }
}

#[tokio::test]
async fn a_full_engine_queue_refuses_messages_never_delays_replies_and_the_resends_are_taken() {
    let s = Setup::new();
    let mut config = s.config();
    config.queue = 2;
    let mut server = start(&config, shared_rewriter(rewriter())).await;
    let (mut client, mut events) = MirrorClient::connect(s.client_options(server.addr, &s.filter))
        .await
        .unwrap();
    let mut refused = Vec::new();
    for _ in 0..5 {
        client
            .send(&OutMessage {
                bytes: OPTIONS,
                reply_within_ms: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        // the reply comes whether or not the engine can take the message; then its ACK or NACK
        next_reply(&mut events).await;
        loop {
            match next_event(&mut events).await {
                ClientEvent::Acked(ids) if !ids.is_empty() => break,
                ClientEvent::Refused(ids) if !ids.is_empty() => {
                    refused.extend(ids);
                    break;
                }
                _ => {}
            }
        }
    }
    let st = server.stats.snapshot();
    assert_eq!((st.replies, st.refused, st.dropped), (5, 3, 0));
    assert_eq!(refused, vec![3, 4, 5]);
    // refused messages are not acknowledged: the filter still holds them
    assert_eq!((client.unacked(), client.refused()), (3, 3));
    assert_eq!(recv(&mut server.rx).await.id, Some(1));
    assert_eq!(recv(&mut server.rx).await.id, Some(2));
    // room for two again: of the three resent, 3 and 4 are taken (not mistaken for duplicates), 5 is refused again
    assert_eq!(client.resend_refused().await.unwrap(), 3);
    wait_for(&server.stats, |st| st.refused.load(Relaxed) == 4).await;
    assert_eq!(recv(&mut server.rx).await.id, Some(3));
    assert_eq!(recv(&mut server.rx).await.id, Some(4));
    while client.refused() == 0 {
        next_event(&mut events).await;
    }
    assert_eq!(client.resend_refused().await.unwrap(), 1);
    assert_eq!(recv(&mut server.rx).await.id, Some(5));
    all_acked(&client, &mut events).await;
    let st = server.stats.snapshot();
    assert_eq!(st.duplicates, 0);
    assert!(server.rx.try_recv().is_err(), "nothing is forwarded twice");
}

#[tokio::test]
async fn plain_hep_is_accepted_from_listed_sources_only() {
    let config = rec_mirror::MirrorConfig {
        hep_enabled: true,
        hep_listen: "127.0.0.1:0".parse().unwrap(),
        hep_sources: vec!["127.0.0.1".parse().unwrap()],
        ..Default::default()
    };
    let stats = Arc::new(MirrorStats::default());
    let (tx, mut rx) = rec_mirror::channel(&config);
    let hep = rec_mirror::HepListeners::bind(&config, tx, stats.clone())
        .await
        .unwrap();
    let (udp_addr, tcp_addr) = hep.local_addrs();
    tokio::spawn(hep.run());

    let mut frame = Vec::new();
    rec_packet::hep::encode(
        &rec_packet::hep::HepFields {
            src_ip: Some("192.0.2.10".parse().unwrap()),
            dst_ip: Some("192.0.2.5".parse().unwrap()),
            src_port: Some(5060),
            dst_port: Some(5060),
            ip_proto: Some(17),
            ts_sec: Some(1_700_000_000),
            ts_usec: Some(5),
            proto_type: Some(1),
            payload: Some(OPTIONS),
            ..Default::default()
        },
        &[],
        &mut frame,
    )
    .unwrap();
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    udp.send_to(&frame, udp_addr).await.unwrap();
    let m = recv(&mut rx).await;
    assert_eq!(
        (m.origin.clone(), m.id, m.at_us),
        (
            rec_mirror::Origin::HepUdp,
            None,
            Some(1_700_000_000_000_005)
        )
    );
    assert!(m.bytes == OPTIONS);
    let mut tcp = TcpStream::connect(tcp_addr).await.unwrap();
    tcp.write_all(&[frame.clone(), frame.clone()].concat())
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(recv(&mut rx).await.origin, rec_mirror::Origin::HepTcp);
    }
    // not SIP (proto type 5, RTCP reports): counted, not forwarded
    let mut rtcp = Vec::new();
    rec_packet::hep::encode(
        &rec_packet::hep::HepFields {
            proto_type: Some(5),
            payload: Some(b"{}"),
            ..Default::default()
        },
        &[],
        &mut rtcp,
    )
    .unwrap();
    udp.send_to(&rtcp, udp_addr).await.unwrap();
    wait_for(&stats, |s| s.hep_bad.load(Relaxed) == 1).await;
    drop(tcp);

    // a listener that accepts only another address
    let config = rec_mirror::MirrorConfig {
        hep_sources: vec!["192.0.2.99".parse().unwrap()],
        ..config
    };
    let stats = Arc::new(MirrorStats::default());
    let (tx, mut rx) = rec_mirror::channel(&config);
    let hep = rec_mirror::HepListeners::bind(&config, tx, stats.clone())
        .await
        .unwrap();
    let (udp_addr, tcp_addr) = hep.local_addrs();
    tokio::spawn(hep.run());
    udp.send_to(&frame, udp_addr).await.unwrap();
    let mut tcp = TcpStream::connect(tcp_addr).await.unwrap();
    let _ = tcp.write_all(&frame).await;
    wait_for(&stats, |s| s.hep_refused.load(Relaxed) == 2).await;
    assert!(rx.try_recv().is_err());
    assert_eq!(stats.frames.load(Relaxed), 0);
}

#[tokio::test]
async fn missing_certificate_files_are_configuration_errors() {
    let s = Setup::new();
    let stats = Arc::new(MirrorStats::default());
    let mut config = s.config();
    config.cert = Default::default();
    let (tx, _rx) = rec_mirror::channel(&config);
    let err = rec_mirror::MirrorServer::bind(
        &config,
        shared_rewriter(rewriter()),
        tx.clone(),
        stats.clone(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("[mirror] cert is required"),
        "{err}"
    );
    let mut config = s.config();
    config.client_ca = s.pki.dir.path().join("missing.crt");
    let err = rec_mirror::MirrorServer::bind(&config, shared_rewriter(rewriter()), tx, stats)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing.crt"), "{err}");
}

#[test]
fn the_service_runs_server_and_hep_on_its_own_runtime_and_stops() {
    let s = Setup::new();
    let mut config = s.config();
    config.hep_enabled = true;
    config.hep_listen = "127.0.0.1:0".parse().unwrap();
    config.hep_sources = vec!["127.0.0.1".parse().unwrap()];
    let stats = Arc::new(MirrorStats::default());
    let (tx, rx) = std::sync::mpsc::sync_channel(16);
    let sink: rec_mirror::SipSink = Arc::new(move |m: MirroredSip| tx.try_send(m).is_ok());
    let service =
        rec_mirror::MirrorService::start(&config, shared_rewriter(rewriter()), sink, stats.clone())
            .unwrap();
    let tls_addr = service.tls_addr.unwrap();
    let (udp_addr, _) = service.hep_addrs.unwrap();
    // a filter and a HEP agent, from another runtime
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut client, mut events) = MirrorClient::connect(s.client_options(tls_addr, &s.filter))
            .await
            .unwrap();
        client
            .send(&OutMessage {
                bytes: OPTIONS,
                reply_within_ms: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        next_reply(&mut events).await;
        let mut frame = Vec::new();
        rec_mirror::protocol::encode_message(
            &rec_mirror::protocol::Message {
                id: None,
                reply_within_ms: None,
                src: None,
                dst: None,
                ip_proto: None,
                at_us: None,
                payload: OPTIONS,
            },
            &mut frame,
        )
        .unwrap();
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        udp.send_to(&frame, udp_addr).await.unwrap();
    });
    let a = rx.recv_timeout(LONG).unwrap();
    let b = rx.recv_timeout(LONG).unwrap();
    let mut origins = [a.origin, b.origin].map(|o| matches!(o, rec_mirror::Origin::HepUdp));
    origins.sort();
    assert_eq!(origins, [false, true]);
    service.shutdown();
    assert!(
        std::net::TcpStream::connect(tls_addr).is_err(),
        "still listening after shutdown"
    );
}
