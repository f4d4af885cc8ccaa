//! HEP found in a capture (what `recorder replay` feeds the engine): HEPv1 (Kamailio siptrace's default),
//! HEPv2 and HEPv3 datagrams give the same call, timed by the capture; a STUN response among them (its first
//! byte is also 1) does not disturb it.

use rec_engine::{Engine, EngineConfig, Input, Output};
use rec_packet::hep_legacy::LegacyHep;
use rec_packet::LinkType;

const T0: i64 = 1_764_000_000_000_000;

fn msg(start: &str, cseq: &str) -> String {
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-{}\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\nCall-ID: hep-in-capture-1\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n",
        cseq.replace(' ', "-")
    )
}

/// A raw IPv4/UDP packet (link type RAW) from the agent to the collector carrying `payload`.
fn raw_udp(payload: &[u8]) -> Vec<u8> {
    let total = (28 + payload.len()) as u16;
    let mut p = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&40_000u16.to_be_bytes());
    p.extend_from_slice(&9060u16.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

fn legacy(version: u8, sip: &str) -> Vec<u8> {
    let mut out = Vec::new();
    LegacyHep {
        version,
        ip_proto: 17,
        src: "192.0.2.1:5060".parse().unwrap(),
        dst: "192.0.2.2:5060".parse().unwrap(),
        at_us: (version == 2).then_some(1_600_000_000_000_000),
        capture_id: Some(1),
        payload: sip.as_bytes(),
    }
    .encode(&mut out);
    out
}

fn v3(sip: &str) -> Vec<u8> {
    let f = rec_packet::hep::HepFields {
        ip_proto: Some(17),
        src_ip: Some("192.0.2.2".parse().unwrap()),
        dst_ip: Some("192.0.2.1".parse().unwrap()),
        src_port: Some(5060),
        dst_port: Some(5060),
        proto_type: Some(1),
        payload: Some(sip.as_bytes()),
        ..Default::default()
    };
    let mut out = Vec::new();
    rec_packet::hep::encode(&f, &[], &mut out).unwrap();
    out
}

#[test]
fn hep_v1_v2_and_v3_in_a_capture_make_one_call_timed_by_the_capture() {
    let mut e = Engine::new(EngineConfig::default()).unwrap();
    let stun_response = [
        1u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];
    let datagrams = [
        legacy(1, &msg("INVITE sip:bob@example.com SIP/2.0", "1 INVITE")),
        v3(&msg("SIP/2.0 200 OK", "1 INVITE")),
        stun_response.to_vec(),
        legacy(2, &msg("ACK sip:bob@example.com SIP/2.0", "1 ACK")),
        legacy(1, &msg("BYE sip:bob@example.com SIP/2.0", "2 BYE")),
        legacy(2, &msg("SIP/2.0 200 OK", "2 BYE")),
    ];
    let mut outputs = Vec::new();
    for (i, d) in datagrams.iter().enumerate() {
        let frame = raw_udp(d);
        e.handle_input(Input::Packet {
            at_us: T0 + i as i64 * 100_000,
            link: LinkType::Raw,
            frame: &frame,
        });
        while let Some(o) = e.poll_output() {
            outputs.push(o);
        }
    }
    e.finish(T0 + 10_000_000);
    while let Some(o) = e.poll_output() {
        outputs.push(o);
    }
    let started: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::CallStarted { meta, .. } => Some(meta.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 1, "one call from HEPv1/v2/v3");
    assert_eq!(started[0].call_id, "hep-in-capture-1");
    assert_eq!(
        started[0].started_at_us, T0,
        "timed by the capture, not the HEPv2 timestamp"
    );
    let ended: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::CallEnded { report, .. } => Some(report.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(
        ended[0].meta.answered_at_us,
        Some(T0 + 100_000),
        "the HEPv3 200 OK"
    );
    assert_eq!(
        ended[0].meta.ended_at_us,
        Some(T0 + 400_000),
        "the HEPv1 BYE"
    );
}
