//! The media topologies and many-call captures: what is on the wire matches the SDP and the
//! manifest, and many calls come out in capture-time order with distinct identities.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;

use common::{decrypt, media_packets, sdp_crypto, sip_messages, Leg};
use rec_gen::{
    correlation, source_signal, CallOptions, Direction, FrameKind, GenConfig, Impairments,
    SignalingMode, Topology, EDGE_INTERNAL,
};

fn one(topology: Topology, signaling: SignalingMode) -> GenConfig {
    GenConfig {
        call: CallOptions {
            duration_ms: 4_000,
            topology,
            signaling,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn pcm_correlation(plain: &[common::Plain], dir: Direction) -> f64 {
    let mut dec = rec_audio::decoder_for("PCMA", 8000, 1).unwrap();
    let mut pcm = Vec::new();
    let mut buf = [0i16; 160];
    for p in plain {
        let k = dec.decode(&p.payload, &mut buf).unwrap();
        pcm.extend_from_slice(&buf[..k]);
    }
    correlation(&pcm, &source_signal(dir, 8000, pcm.len()))
}

#[test]
fn channeldata_binds_the_channel_first() {
    let (frames, reports) = common::generate(one(Topology::ChannelData, SignalingMode::InlineTcp));
    let r = &reports[0];
    let pkts = media_packets(&frames, r);
    let peer: SocketAddr = r.callee_media.parse().unwrap();
    // The ChannelBind precedes the first ChannelData, and the tracker learnt the peer from it.
    let first_control = frames
        .iter()
        .position(|f| f.kind == FrameKind::Control)
        .unwrap();
    let first_media = frames
        .iter()
        .position(|f| f.kind == FrameKind::Media)
        .unwrap();
    assert!(first_control < first_media);
    let internal: Vec<_> = pkts.iter().filter(|p| p.leg == Leg::Internal).collect();
    assert_eq!(internal.len(), 400);
    assert!(internal.iter().all(|p| p.peer == Some(peer)));
    for dir in Direction::BOTH {
        for leg in [Leg::Internal, Leg::External] {
            let (plain, fails) = decrypt(&pkts, leg, dir, &r.streams[dir.index()].keys, 0);
            assert_eq!((plain.len(), fails), (200, 0));
            assert!(pcm_correlation(&plain, dir) > 0.99);
        }
    }
    // On the wire: ChannelData (first byte 0x40) on the internal side.
    let (udp, _) = common::transport(&frames);
    let edge = SocketAddr::from(EDGE_INTERNAL);
    assert_eq!(
        udp.iter()
            .filter(|d| (d.src == edge || d.dst == edge) && d.payload[0] == 0x40)
            .count(),
        400
    );
}

#[test]
fn direct_media_flows_between_host_candidates_once() {
    let (frames, reports) = common::generate(one(Topology::Direct, SignalingMode::InlineUdp));
    let r = &reports[0];
    let pkts = media_packets(&frames, r);
    assert!(pkts.iter().all(|p| p.leg == Leg::Direct));
    assert_eq!(pkts.len(), 400);
    let msgs = sip_messages(&frames);
    let ok = msgs
        .iter()
        .find(|m| m.parse().status_code() == Some(200))
        .unwrap()
        .parse();
    let ans = rec_sdp::Sdp::parse(ok.body()).unwrap();
    let m = ans.media_section(0).unwrap();
    let host = m
        .candidates()
        .map(|c| c.unwrap())
        .find(|c| c.component == 1)
        .unwrap();
    assert_eq!(format!("{}:{}", host.address, host.port), r.callee_media);
    assert!(m.candidates().all(|c| !c.unwrap().is_ice_relay()));
    for dir in Direction::BOTH {
        let (plain, fails) = decrypt(&pkts, Leg::Direct, dir, &r.streams[dir.index()].keys, 0);
        assert_eq!((plain.len(), fails), (200, 0));
        assert!(pcm_correlation(&plain, dir) > 0.99);
    }
}

#[test]
fn plain_call_has_a_single_sdp_without_mki_or_ice() {
    let (frames, reports) = common::generate(one(Topology::Plain, SignalingMode::InlineTcp));
    let r = &reports[0];
    let msgs = sip_messages(&frames);
    let methods: Vec<_> = msgs
        .iter()
        .filter(|m| m.parse().is_request())
        .filter_map(|m| m.parse().method().map(str::to_string))
        .collect();
    assert_eq!(
        methods,
        ["INVITE", "ACK", "BYE"],
        "no re-INVITE for remote candidates"
    );
    let inv = msgs[0].parse();
    assert!(inv.content_type().unwrap().is_sdp());
    assert!(inv.header("Ms-Conversation-ID").is_none());
    let sdp = rec_sdp::Sdp::parse(inv.body()).unwrap();
    let m = sdp.media_section(0).unwrap();
    assert_eq!(m.candidates().count(), 0);
    assert_eq!(m.proto(), "RTP/SAVP");
    let c: Vec<_> = m.cryptos().map(|c| c.unwrap()).collect();
    assert_eq!(c.len(), 1);
    assert!(c[0].keys().next().unwrap().unwrap().mki.is_none());
    let offer = sdp_crypto(inv.body(), 1);
    assert_eq!(offer, r.streams[0].keys[0]);
    let pkts = media_packets(&frames, r);
    let (plain, fails) = decrypt(&pkts, Leg::Direct, Direction::CallerToCallee, &[offer], 0);
    assert_eq!((plain.len(), fails), (200, 0));
    // No MKI: 12-byte header + 160 + 10-byte tag.
    assert!(pkts.iter().all(|p| p.srtp.len() == 182));
    assert!(pcm_correlation(&plain, Direction::CallerToCallee) > 0.99);
}

#[test]
fn many_calls_stream_in_capture_order_with_distinct_identities() {
    let cfg = GenConfig {
        calls: 40,
        stagger_us: 37_000,
        call: CallOptions {
            duration_ms: 3_000,
            signaling: SignalingMode::InlineTcp,
            impairments: Impairments {
                jitter_ms: 30.0,
                reorder_pct: 2.0,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let (frames, reports) = common::generate(cfg);
    assert_eq!(reports.len(), 40);
    assert!(frames.windows(2).all(|w| w[0].at_us <= w[1].at_us));
    let ids: HashSet<_> = reports.iter().map(|r| r.call_id.clone()).collect();
    assert_eq!(ids.len(), 40);
    let flows: HashSet<_> = reports
        .iter()
        .flat_map(|r| {
            [
                r.caller_media.clone(),
                r.callee_media.clone(),
                r.caller_sip.clone(),
            ]
        })
        .collect();
    assert_eq!(flows.len(), 120);
    let keys: HashSet<_> = reports
        .iter()
        .flat_map(|r| r.streams.iter().map(|s| s.keys[0].clone()))
        .collect();
    assert_eq!(keys.len(), 80);
    // Every call's frames are all there, and the calls overlap in time.
    let media = frames.iter().filter(|f| f.kind == FrameKind::Media).count() as u64;
    let sig = frames
        .iter()
        .filter(|f| f.kind == FrameKind::Signaling)
        .count() as u64;
    assert_eq!(
        media,
        reports
            .iter()
            .flat_map(|r| r.streams.iter().map(|s| s.stats.frames))
            .sum::<u64>()
    );
    assert_eq!(sig, reports.iter().map(|r| r.signaling_frames).sum::<u64>());
    assert!(reports[39].times.start_us < reports[0].times.end_us);
    let msgs = sip_messages(&frames);
    // 3 s calls: no remote-candidates re-INVITE, 7 messages each.
    assert_eq!(msgs.len(), 40 * 7);
    assert_eq!(
        msgs.len() as u64,
        reports.iter().map(|r| r.sip_messages).sum::<u64>()
    );
    for r in reports.iter().step_by(13) {
        let pkts = media_packets(&frames, r);
        let (plain, fails) = decrypt(
            &pkts,
            Leg::External,
            Direction::CalleeToCaller,
            &r.streams[1].keys,
            0,
        );
        assert_eq!((plain.len(), fails), (150, 0));
    }
}

#[test]
fn rtcp_sender_reports_use_the_rtcp_component_and_decrypt() {
    for topology in [Topology::Edge, Topology::ChannelData, Topology::Direct] {
        let mut cfg = one(topology, SignalingMode::InlineUdp);
        cfg.call.duration_ms = 12_000;
        cfg.call.rtcp = true;
        let (frames, reports) = common::generate(cfg);
        let r = &reports[0];
        let rtcp: Vec<_> = frames
            .iter()
            .filter(|f| f.kind == FrameKind::Rtcp)
            .cloned()
            .collect();
        let (udp, _) = common::transport(&rtcp);
        let plus1 = |a: &str| {
            let mut s: SocketAddr = a.parse().unwrap();
            s.set_port(s.port() + 1);
            s
        };
        let callee_rtcp = plus1(&r.callee_media);
        let edge = SocketAddr::from(EDGE_INTERNAL);
        let mut tracker = rec_packet::TurnTracker::default();
        for f in frames.iter().filter(|f| f.kind == FrameKind::Control) {
            let (u, _) = common::transport(std::slice::from_ref(f));
            tracker.observe(&u[0].payload, u[0].src, u[0].dst);
        }
        for dir in Direction::BOTH {
            let s = &r.streams[dir.index()];
            assert_eq!(s.stats.rtcp_packets, 2, "{topology:?}");
            let legs = if topology == Topology::Direct { 1 } else { 2 };
            assert_eq!(s.stats.rtcp_frames, 2 * legs);
            let mut ctx = rec_srtp::SrtpContext::new(
                rec_srtp::KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", &s.keys[0]).unwrap(),
            );
            let mut seen = 0;
            for d in &udp {
                let (data, is_dir) = if d.src == edge || d.dst == edge {
                    let u = rec_packet::unwrap_turn(&d.payload, d.src, d.dst, Some(&tracker))
                        .unwrap()
                        .unwrap();
                    assert_eq!(u.peer, Some(callee_rtcp));
                    (
                        u.data.to_vec(),
                        (d.dst == edge) == (dir == Direction::CallerToCallee),
                    )
                } else {
                    let from_callee = d.src == callee_rtcp;
                    (
                        d.payload.clone(),
                        from_callee == (dir == Direction::CalleeToCaller),
                    )
                };
                if !is_dir {
                    continue;
                }
                let mut buf = data;
                let out = ctx.decrypt_rtcp(&mut buf).unwrap();
                assert_eq!(out.ssrc, s.ssrcs[0]);
                assert!(out.encrypted);
                assert_eq!(buf[1], 200, "sender report first");
                seen += 1;
            }
            assert_eq!(seen, 2 * legs, "{topology:?} {dir:?}");
        }
        // RTP unaffected.
        let pkts = media_packets(&frames, r);
        let (plain, fails) = decrypt(
            &pkts,
            if topology == Topology::Direct {
                Leg::Direct
            } else {
                Leg::External
            },
            Direction::CallerToCallee,
            &r.streams[0].keys,
            0,
        );
        assert_eq!((plain.len(), fails), (600, 0));
    }
}

#[test]
fn ice_checks_carry_the_sdp_credentials() {
    use hmac::{Hmac, Mac};
    for topology in [Topology::Edge, Topology::ChannelData, Topology::Direct] {
        let mut cfg = one(topology, SignalingMode::InlineTcp);
        cfg.call.ice_checks = true;
        let (frames, reports) = common::generate(cfg);
        let r = &reports[0];
        let msgs = sip_messages(&frames);
        let ice = |m: &common::SipMsg, part: usize| {
            let p = m.parse();
            let body = p.try_bodies().unwrap()[part].body.to_vec();
            let s = rec_sdp::Sdp::parse(&body).unwrap();
            let m = s.media_section(0).unwrap();
            (
                m.ice_ufrag().unwrap().to_string(),
                m.ice_pwd().unwrap().to_string(),
            )
        };
        let (caller_ufrag, caller_pwd) = ice(&msgs[0], 1);
        let ok = msgs
            .iter()
            .find(|m| m.parse().status_code() == Some(200))
            .unwrap();
        let (callee_ufrag, callee_pwd) = ice(ok, 0);
        let control: Vec<_> = frames
            .iter()
            .filter(|f| f.kind == FrameKind::Control)
            .cloned()
            .collect();
        assert_eq!(control.len() as u64, r.control_frames);
        let (udp, _) = common::transport(&control);
        let edge = SocketAddr::from(EDGE_INTERNAL);
        let mut tracker = rec_packet::TurnTracker::default();
        let mut checks = Vec::new();
        for d in &udp {
            tracker.observe(&d.payload, d.src, d.dst);
            let data = if d.src == edge || d.dst == edge {
                match rec_packet::unwrap_turn(&d.payload, d.src, d.dst, Some(&tracker)).unwrap() {
                    Some(u) => u.data.to_vec(),
                    None => continue, // ChannelBind
                }
            } else {
                d.payload.clone()
            };
            checks.push(data);
        }
        let legs = if topology == Topology::Direct { 1 } else { 2 };
        assert_eq!(checks.len(), 4 * legs, "{topology:?}");
        for data in &checks {
            let m = rec_packet::demux::StunMessage::parse(data).unwrap();
            assert_eq!(m.dialect(), rec_packet::demux::StunDialect::Rfc5389);
            let (pwd, username) = match m.msg_type() {
                0x0001 => {
                    let u = std::str::from_utf8(m.attribute(0x0006).unwrap()).unwrap();
                    let pwd = if u == format!("{callee_ufrag}:{caller_ufrag}") {
                        assert!(m.attribute(0x802A).is_some(), "the caller controls");
                        &callee_pwd
                    } else {
                        assert_eq!(u, format!("{caller_ufrag}:{callee_ufrag}"));
                        assert!(m.attribute(0x8029).is_some());
                        &caller_pwd
                    };
                    (pwd.clone(), Some(u.to_string()))
                }
                0x0101 => (String::new(), None),
                t => panic!("unexpected STUN type {t:#06x}"),
            };
            // MESSAGE-INTEGRITY (RFC 5389 §15.4) of requests with the responder's a=ice-pwd.
            if username.is_some() {
                let mi = m.attribute(0x0008).unwrap();
                let at = data
                    .windows(4)
                    .position(|w| w == [0x00, 0x08, 0x00, 0x14])
                    .unwrap();
                let mut head = data[..at].to_vec();
                let len = (at - 20 + 24) as u16;
                head[2..4].copy_from_slice(&len.to_be_bytes());
                let mut mac = Hmac::<sha1::Sha1>::new_from_slice(pwd.as_bytes()).unwrap();
                mac.update(&head);
                mac.verify_slice(mi).unwrap();
            }
        }
        // Media still decrypts completely.
        let pkts = media_packets(&frames, r);
        let leg = if topology == Topology::Direct {
            Leg::Direct
        } else {
            Leg::External
        };
        let (plain, fails) = decrypt(&pkts, leg, Direction::CalleeToCaller, &r.streams[1].keys, 0);
        assert_eq!((plain.len(), fails), (200, 0));
    }
}
