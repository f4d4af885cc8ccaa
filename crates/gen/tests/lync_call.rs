//! One Lync Edge call, taken apart with the repository's parsers: the SIP looks like the Lync
//! examples, the SDP candidates and crypto lines match the media on the wire, and the SRTP decrypts
//! with the keys from the SDP and decodes to the known source signals.

mod common;

use common::{decrypt, media_packets, sdp_crypto, sip_messages, Leg};
use rec_gen::{
    correlation, source_signal, CallOptions, Direction, GenConfig, SignalingMode, EDGE_INTERNAL,
    EDGE_PUBLIC, FRONT_END,
};
use rec_sdp::CandidateKind;

fn edge_call(signaling: SignalingMode) -> GenConfig {
    GenConfig {
        call: CallOptions {
            duration_ms: 6_000,
            signaling,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn sip_dialog_has_the_lync_shape() {
    let (frames, reports) = common::generate(edge_call(SignalingMode::InlineTcp));
    let call = &reports[0];
    let msgs = sip_messages(&frames);
    let summary: Vec<String> = msgs
        .iter()
        .map(|m| {
            let p = m.parse();
            let (cseq, method) = p.cseq().unwrap();
            match p.status_code() {
                Some(c) => format!("{c} {cseq} {method}"),
                None => format!("{} {cseq}", p.method().unwrap()),
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            "INVITE 1",
            "100 1 INVITE",
            "183 1 INVITE",
            "200 1 INVITE",
            "ACK 1",
            "INVITE 2",
            "200 2 INVITE",
            "ACK 2",
            "BYE 3",
            "200 3 BYE"
        ]
    );
    assert_eq!(call.sip_messages, 10);
    for m in &msgs {
        let p = m.parse();
        // Exact Content-Length, CRLF everywhere, one dialog.
        assert_eq!(p.content_length_mismatch(), None);
        assert!(!m.bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
        assert_eq!(p.call_id(), Some(call.call_id.as_str()));
        assert_eq!(p.from().unwrap().uri.as_str(), call.from);
        // Between the caller and the Front End.
        let fe = std::net::SocketAddr::from(FRONT_END);
        assert!(m.src == fe || m.dst == fe);
        assert_eq!(p.is_request(), m.dst == fe);
    }
    let invite = msgs[0].parse();
    assert_eq!(
        invite.from().unwrap().epid(),
        Some(invite.from().unwrap().epid().unwrap())
    );
    assert!(invite.from().unwrap().epid().is_some());
    assert_eq!(
        invite.header("Ms-Conversation-ID").unwrap().value(),
        call.conversation_id
    );
    assert_eq!(invite.p_asserted_identities().count(), 1);
    let ct = invite.content_type().unwrap();
    assert!(ct.is_multipart() && ct.is("multipart", "alternative"));
    let parts = invite.try_bodies().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts[0]
        .content_disposition
        .unwrap()
        .contains("ms-proxy-2007fallback"));
    // Part 1: draft-6 (o=- 0 0, candidates without type, relay on the Edge A/V public address).
    let d6 = rec_sdp::Sdp::parse(parts[0].body).unwrap();
    assert_eq!(d6.session().origin().unwrap().session_version, "0");
    let m = d6.media_section(0).unwrap();
    let cands: Vec<_> = m.candidates().map(|c| c.unwrap()).collect();
    assert_eq!(cands.len(), 4);
    assert!(cands
        .iter()
        .all(|c| matches!(c.kind, CandidateKind::Draft6 { .. })));
    assert_eq!(
        cands
            .iter()
            .filter(|c| c.is_relay_with(&[&EDGE_PUBLIC.to_string()]))
            .count(),
        2
    );
    // Part 2: ICE-19 with host, relay (UDP relay = the caller's media address on the wire).
    let ice = rec_sdp::Sdp::parse(parts[1].body).unwrap();
    assert_eq!(ice.session().origin().unwrap().session_version, "1");
    let m = ice.media_section(0).unwrap();
    let cands: Vec<_> = m.candidates().map(|c| c.unwrap()).collect();
    let typ = |c: &rec_sdp::Candidate<'_>| match &c.kind {
        CandidateKind::Ice { typ, .. } => typ.as_str().to_string(),
        _ => panic!("draft-6 candidate in the ICE-19 part"),
    };
    let relay_udp = cands
        .iter()
        .find(|c| typ(c) == "relay" && c.is_udp() && c.component == 1)
        .unwrap();
    assert_eq!(
        format!("{}:{}", relay_udp.address, relay_udp.port),
        call.caller_media
    );
    let host = cands
        .iter()
        .find(|c| typ(c) == "host" && c.component == 1)
        .unwrap();
    assert_eq!(format!("{}:{}", host.address, host.port), call.caller_host);
    assert_eq!(
        m.port(),
        host.port,
        "an internal client defaults to its host candidate"
    );
    // x-ssrc-range = the caller's SSRC; crypto lines with MKI 1:1 carrying the caller's key.
    let r = m.ssrc_range().unwrap().unwrap();
    assert_eq!(
        (r.first, r.last),
        (call.streams[0].ssrcs[0], call.streams[0].ssrcs[0])
    );
    let cryptos: Vec<_> = m.cryptos().map(|c| c.unwrap()).collect();
    assert_eq!(cryptos.len(), 3);
    assert!(cryptos[0].scale && cryptos[0].tag == 1);
    for c in &cryptos[..2] {
        let k = c.keys().next().unwrap().unwrap();
        let mki = k.mki.unwrap();
        assert_eq!((mki.value, mki.length), (1, 1));
        assert_eq!(
            format!("inline:{}|2^31|1:1", k.key_salt_base64),
            call.streams[0].keys[0]
        );
    }
    assert!(cryptos[2].keys().next().unwrap().unwrap().mki.is_none());
    // 200 OK: single-part ICE-19 answer, crypto tag 2 with the callee's own key, srflx = media address.
    let ok = msgs
        .iter()
        .find(|m| m.parse().status_code() == Some(200))
        .unwrap()
        .parse();
    assert!(ok.content_type().unwrap().is_sdp());
    assert!(ok.to().unwrap().epid().is_some());
    let ans = rec_sdp::Sdp::parse(ok.body()).unwrap();
    let am = ans.media_section(0).unwrap();
    let ac: Vec<_> = am.cryptos().map(|c| c.unwrap()).collect();
    assert_eq!(ac.len(), 1);
    assert_eq!(ac[0].tag, 2);
    assert_eq!(ac[0].key_params, call.streams[1].keys[0]);
    assert_ne!(call.streams[0].keys[0], call.streams[1].keys[0]);
    let srflx = am
        .candidates()
        .map(|c| c.unwrap())
        .find(|c| {
            c.component == 1
                && matches!(&c.kind, CandidateKind::Ice { typ, .. } if typ.as_str() == "srflx")
        })
        .unwrap();
    assert_eq!(
        format!("{}:{}", srflx.address, srflx.port),
        call.callee_media
    );
    // The re-INVITE names the pair in use.
    let re = msgs[5].parse();
    let rs = rec_sdp::Sdp::parse(re.body()).unwrap();
    let rc: Vec<_> = rs.media_section(0).unwrap().remote_candidates().collect();
    assert_eq!(rc.len(), 1);
    let first = rc[0].entries().next().unwrap();
    assert_eq!(format!("{}:{}", first.1, first.2), call.callee_media);
}

#[test]
fn media_decrypts_with_the_sdp_keys_and_carries_the_source_signals() {
    let (frames, reports) = common::generate(edge_call(SignalingMode::InlineUdp));
    let call = &reports[0];
    let msgs = sip_messages(&frames);
    let invite = msgs[0].parse();
    let offer_key = sdp_crypto(invite.try_bodies().unwrap()[1].body, 2);
    let ok = msgs
        .iter()
        .find(|m| m.parse().status_code() == Some(200))
        .unwrap()
        .parse();
    let answer_key = sdp_crypto(ok.body(), 2);
    let pkts = media_packets(&frames, call);
    let n = 6_000 / 20;
    for leg in [Leg::Internal, Leg::External] {
        for (dir, key) in [
            (Direction::CallerToCallee, &offer_key),
            (Direction::CalleeToCaller, &answer_key),
        ] {
            let d = dir.index();
            let (plain, failures) = decrypt(&pkts, leg, dir, std::slice::from_ref(key), 0);
            assert_eq!(failures, 0, "{leg:?} {dir:?}");
            assert_eq!(plain.len(), n, "{leg:?} {dir:?}");
            assert_eq!(plain.len() as u64, call.streams[d].stats.packets_captured);
            assert!(plain
                .iter()
                .all(|p| p.pt == 8 && p.ssrc == call.streams[d].ssrcs[0]));
            assert!(plain[0].marker && plain[1..].iter().all(|p| !p.marker));
            // Consecutive sequence numbers and timestamps.
            for w in plain.windows(2) {
                assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
                assert_eq!(w[1].ts, w[0].ts.wrapping_add(160));
            }
            // Decoded audio = the direction's source signal, not the other one.
            let mut dec = rec_audio::decoder_for("PCMA", 8000, 1).unwrap();
            let mut pcm = Vec::new();
            let mut buf = [0i16; 160];
            for p in &plain {
                let k = dec.decode(&p.payload, &mut buf).unwrap();
                pcm.extend_from_slice(&buf[..k]);
            }
            let own = source_signal(dir, 8000, pcm.len());
            let other_dir = Direction::BOTH[1 - d];
            let other = source_signal(other_dir, 8000, pcm.len());
            let c_own = correlation(&pcm, &own);
            let c_other = correlation(&pcm, &other);
            assert!(c_own > 0.99, "{dir:?} correlation {c_own}");
            assert!(c_other.abs() < 0.1, "{dir:?} cross-correlation {c_other}");
        }
    }
    // Internal leg = MS-TURN to/from the Edge's internal address naming the remote peer; the
    // external leg carries the same bytes a little later.
    let internal: Vec<_> = pkts.iter().filter(|p| p.leg == Leg::Internal).collect();
    let external: Vec<_> = pkts.iter().filter(|p| p.leg == Leg::External).collect();
    assert_eq!(internal.len(), external.len());
    let peer: std::net::SocketAddr = call.callee_media.parse().unwrap();
    assert!(internal.iter().all(|p| p.peer == Some(peer)));
    let edge = std::net::SocketAddr::from(EDGE_INTERNAL);
    assert!(internal.iter().all(|p| p.src == edge || p.dst == edge));
    for dir in Direction::BOTH {
        let i: Vec<_> = internal.iter().filter(|p| p.dir == dir).collect();
        let e: Vec<_> = external.iter().filter(|p| p.dir == dir).collect();
        for (a, b) in i.iter().zip(&e) {
            assert_eq!(a.srtp, b.srtp);
            let gap = a.at.abs_diff(b.at);
            assert!((100..1000).contains(&gap), "leg gap {gap} µs");
            // Caller → callee: internal first; callee → caller: external first.
            assert_eq!(a.at < b.at, dir == Direction::CallerToCallee);
        }
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_keys() {
    let a = common::generate(edge_call(SignalingMode::Hep));
    let b = common::generate(edge_call(SignalingMode::Hep));
    assert_eq!(a.0, b.0);
    let mut cfg = edge_call(SignalingMode::Hep);
    cfg.seed = 2;
    let c = common::generate(cfg);
    assert_ne!(a.1[0].streams[0].keys, c.1[0].streams[0].keys);
    assert_ne!(a.1[0].call_id, c.1[0].call_id);
}

#[test]
fn hep_carries_the_same_dialog_with_original_addresses_and_times() {
    let (frames, reports) = common::generate(edge_call(SignalingMode::Hep));
    let msgs = sip_messages(&frames);
    assert_eq!(msgs.len() as u64, reports[0].sip_messages);
    let fe = std::net::SocketAddr::from(FRONT_END);
    let caller: std::net::SocketAddr = reports[0].caller_sip.parse().unwrap();
    for m in &msgs {
        assert!((m.src == caller && m.dst == fe) || (m.src == fe && m.dst == caller));
        // The HEP timestamp is the message's; the last IP fragment follows within microseconds.
        let ts = m.hep_ts.unwrap();
        assert!(ts <= m.at && m.at - ts < 10, "{ts} vs {}", m.at);
        assert_eq!(m.parse().content_length_mismatch(), None);
    }
    // The INVITE (> MTU) arrived in IP fragments and was reassembled.
    assert!(msgs[0].bytes.len() > 1500);
}
