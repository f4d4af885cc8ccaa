//! Each impairment option changes the capture as specified, checked with the repository's
//! independent parsers (rec-packet, rec-sip, rec-sdp, rec-srtp, rec-audio).

mod common;

use std::collections::HashSet;

use common::{decrypt, media_packets, sdp_crypto, sip_messages, Leg, Plain};
use rec_gen::{
    correlation, source_signal, CallOptions, Codec, Direction, DtmfBurst, GenConfig, Impairments,
    SignalingMode,
};

const C2C: Direction = Direction::CallerToCallee;
const C2R: Direction = Direction::CalleeToCaller;

fn cfg(duration_ms: u64, imp: Impairments) -> GenConfig {
    GenConfig {
        call: CallOptions {
            duration_ms,
            signaling: SignalingMode::InlineUdp,
            impairments: imp,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Decrypted packets of the internal leg, per direction, with the keys from the manifest.
fn internal(
    frames: &[rec_gen::Frame],
    r: &rec_gen::CallReport,
    dir: Direction,
) -> (Vec<Plain>, usize) {
    let pkts = media_packets(frames, r);
    decrypt(&pkts, Leg::Internal, dir, &r.streams[dir.index()].keys, 0)
}

#[test]
fn loss_removes_about_the_given_share_from_both_legs() {
    let (frames, reports) = common::generate(cfg(
        30_000,
        Impairments {
            loss_pct: 10.0,
            ..Default::default()
        },
    ));
    let r = &reports[0];
    let pkts = media_packets(&frames, r);
    for dir in Direction::BOTH {
        let s = &r.streams[dir.index()].stats;
        assert_eq!(s.packets_sent, 1500);
        assert_eq!(s.packets_captured + s.packets_lost, s.packets_sent);
        let lost = s.packets_lost as f64 / s.packets_sent as f64;
        assert!((0.08..0.12).contains(&lost), "{dir:?} lost {lost}");
        for leg in [Leg::Internal, Leg::External] {
            let (plain, fails) = decrypt(&pkts, leg, dir, &r.streams[dir.index()].keys, 0);
            assert_eq!(fails, 0);
            assert_eq!(plain.len() as u64, s.packets_captured, "{leg:?}");
            // The gaps are real sequence gaps.
            let span = plain.last().unwrap().index - plain[0].index + 1;
            assert!(span as f64 > plain.len() as f64 * 1.05);
        }
    }
}

#[test]
fn duplicates_repeat_whole_packets_on_both_legs() {
    let (frames, reports) = common::generate(cfg(
        20_000,
        Impairments {
            duplicate_pct: 5.0,
            ..Default::default()
        },
    ));
    let r = &reports[0];
    for dir in Direction::BOTH {
        let s = &r.streams[dir.index()].stats;
        let (plain, _) = internal(&frames, r, dir);
        let distinct: HashSet<u64> = plain.iter().map(|p| p.index).collect();
        assert_eq!(distinct.len() as u64, s.packets_captured);
        assert_eq!((plain.len() - distinct.len()) as u64, s.packets_duplicated);
        let share = s.packets_duplicated as f64 / s.packets_sent as f64;
        assert!((0.03..0.07).contains(&share), "{share}");
        assert_eq!(s.frames, 2 * (s.packets_captured + s.packets_duplicated));
    }
}

#[test]
fn reorder_delays_packets_behind_later_ones() {
    let (frames, reports) = common::generate(cfg(
        30_000,
        Impairments {
            reorder_pct: 5.0,
            ..Default::default()
        },
    ));
    let r = &reports[0];
    for dir in Direction::BOTH {
        let s = &r.streams[dir.index()].stats;
        let (plain, _) = internal(&frames, r, dir);
        let mut max = 0;
        let mut late = 0;
        for p in &plain {
            if p.index < max {
                late += 1;
            }
            max = max.max(p.index);
        }
        // A delayed packet lands behind a later one unless the packets around it were delayed too.
        assert!(late <= s.packets_reordered && late as f64 >= 0.9 * s.packets_reordered as f64);
        let share = late as f64 / plain.len() as f64;
        assert!((0.03..0.07).contains(&share), "{share}");
        assert_eq!(plain.len() as u64, s.packets_sent);
    }
}

#[test]
fn jitter_spreads_arrival_times_within_the_bound() {
    let (frames, reports) = common::generate(cfg(
        20_000,
        Impairments {
            jitter_ms: 15.0,
            ..Default::default()
        },
    ));
    let r = &reports[0];
    let (plain, _) = internal(&frames, r, C2C);
    // Arrival minus the nominal send time (first packet index as origin).
    let t0 = r.times.media_start_us as i64;
    let dev: Vec<i64> = plain
        .iter()
        .map(|p| p.at as i64 - t0 - (p.index - plain[0].index) as i64 * 20_000)
        .collect();
    let (lo, hi) = (*dev.iter().min().unwrap(), *dev.iter().max().unwrap());
    assert!(lo >= 0 && hi <= 15_000, "{lo}..{hi}");
    assert!(hi - lo > 12_000, "{lo}..{hi}");
}

#[test]
fn clock_drift_changes_the_packet_rate_against_capture_time() {
    let (frames, reports) = common::generate(cfg(
        30_000,
        Impairments {
            drift_ppm: [1000.0, -1000.0],
            ..Default::default()
        },
    ));
    let r = &reports[0];
    for (dir, ppm) in [(C2C, 1000.0), (C2R, -1000.0)] {
        let (plain, _) = internal(&frames, r, dir);
        let n = plain.len() as f64 - 1.0;
        let span = (plain.last().unwrap().at - plain[0].at) as f64;
        let rtp_span = plain.last().unwrap().ts.wrapping_sub(plain[0].ts) as f64 / 8000.0 * 1e6;
        assert_eq!(rtp_span, n * 20_000.0);
        let expected = rtp_span / (1.0 + ppm * 1e-6);
        assert!(
            (span - expected).abs() < 1000.0,
            "{dir:?}: {span} vs {expected}"
        );
        // ±1000 ppm over 30 s is ±30 ms: measurably different from no drift.
        assert!((span - rtp_span).abs() > 25_000.0);
    }
}

#[test]
fn capture_joining_after_a_sequence_wrap_needs_roc_one() {
    let (frames, reports) = common::generate(cfg(
        10_000,
        Impairments {
            mid_call_roc: true,
            ..Default::default()
        },
    ));
    let r = &reports[0];
    assert_eq!(sip_messages(&frames).len(), 10, "the signaling is kept");
    for dir in Direction::BOTH {
        let s = &r.streams[dir.index()].stats;
        assert_eq!(s.packets_before_capture, 100);
        assert_eq!(s.packets_captured, 400);
        let pkts = media_packets(&frames, r);
        let keys = &r.streams[dir.index()].keys;
        let (plain, fails) = decrypt(&pkts, Leg::Internal, dir, keys, 0);
        assert_eq!(fails, 0);
        assert_eq!(plain[0].seq, 0);
        assert_eq!(plain[0].index, 65536, "authenticated with ROC 1");
        // With ROC 0 assumed and no neighbouring ROC tried, nothing authenticates.
        let params = rec_srtp::KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", &keys[0]).unwrap();
        let mut strict = rec_srtp::SrtpContext::with_config(
            params,
            rec_srtp::Config {
                first_packet_roc_tries: 1,
                ..Default::default()
            },
        );
        let mut first = pkts
            .iter()
            .find(|p| p.leg == Leg::Internal && p.dir == dir)
            .unwrap()
            .srtp
            .clone();
        assert!(strict.decrypt_rtp(&mut first).is_err());
    }
}

#[test]
fn sequence_numbers_wrap_inside_the_capture() {
    let (frames, reports) = common::generate(cfg(
        12_000,
        Impairments {
            seq_wrap: true,
            ..Default::default()
        },
    ));
    let r = &reports[0];
    for dir in Direction::BOTH {
        let (plain, fails) = internal(&frames, r, dir);
        assert_eq!(fails, 0);
        assert_eq!(plain.len(), 600);
        let wrap = plain.iter().position(|p| p.seq == 0).unwrap();
        assert_eq!(plain[wrap - 1].seq, 65535);
        assert!(wrap > 100 && wrap < 500, "{wrap}");
        for w in plain.windows(2) {
            assert_eq!(w[1].index, w[0].index + 1);
        }
    }
}

#[test]
fn rekey_switches_both_directions_to_the_keys_of_the_reinvite() {
    let (frames, reports) = common::generate(cfg(
        10_000,
        Impairments {
            rekey_at_ms: Some(5_000),
            ..Default::default()
        },
    ));
    let r = &reports[0];
    let msgs = sip_messages(&frames);
    // INVITE 1 + remote-candidates re-INVITE 2 + re-key re-INVITE 3.
    let reinvite = msgs
        .iter()
        .find(|m| m.parse().cseq() == Some((3, "INVITE")) && m.parse().is_request())
        .unwrap();
    let ok = msgs
        .iter()
        .find(|m| m.parse().cseq() == Some((3, "INVITE")) && m.parse().status_code() == Some(200))
        .unwrap();
    let new_offer = sdp_crypto(reinvite.parse().body(), 2);
    let new_answer = sdp_crypto(ok.parse().body(), 2);
    assert_eq!(new_offer, r.streams[0].keys[1]);
    assert_eq!(new_answer, r.streams[1].keys[1]);
    assert_ne!(r.streams[0].keys[0], r.streams[0].keys[1]);
    let pkts = media_packets(&frames, r);
    for (dir, key_new) in [(C2C, &new_offer), (C2R, &new_answer)] {
        let keys = &r.streams[dir.index()].keys;
        let (old_only, fails_old) = decrypt(&pkts, Leg::Internal, dir, &keys[..1], 0);
        let (both, fails_both) = decrypt(&pkts, Leg::Internal, dir, keys, 0);
        let (new_only, _) = decrypt(&pkts, Leg::Internal, dir, std::slice::from_ref(key_new), 0);
        assert_eq!(fails_both, 0);
        assert_eq!(both.len(), 500);
        assert_eq!(old_only.len() + fails_old, 500);
        assert_eq!(old_only.len() + new_only.len(), 500);
        // The switch happens at the 200 OK of the re-key re-INVITE.
        assert!(old_only.iter().all(|p| p.at < ok.at));
        assert!(new_only.iter().all(|p| p.at >= ok.at));
        assert!(new_only.len() > 200);
    }
}

#[test]
fn hold_stops_media_between_the_reinvites() {
    let (frames, reports) = common::generate(cfg(
        12_000,
        Impairments {
            hold_ms: Some((4_000, 8_000)),
            ..Default::default()
        },
    ));
    let r = &reports[0];
    let msgs = sip_messages(&frames);
    let hold = msgs
        .iter()
        .find(|m| m.parse().is_request() && m.parse().cseq() == Some((3, "INVITE")))
        .unwrap();
    let resume_ok = msgs
        .iter()
        .find(|m| m.parse().status_code() == Some(200) && m.parse().cseq() == Some((4, "INVITE")))
        .unwrap();
    let hs = rec_sdp::Sdp::parse(hold.parse().body()).unwrap();
    assert_eq!(
        hs.media_section(0).unwrap().direction(),
        rec_sdp::Direction::Inactive
    );
    let resume = msgs
        .iter()
        .find(|m| m.parse().is_request() && m.parse().cseq() == Some((4, "INVITE")))
        .unwrap();
    let rs = rec_sdp::Sdp::parse(resume.parse().body()).unwrap();
    assert_eq!(
        rs.media_section(0).unwrap().direction(),
        rec_sdp::Direction::SendRecv
    );
    for dir in Direction::BOTH {
        let (plain, fails) = internal(&frames, r, dir);
        assert_eq!(fails, 0);
        assert!(plain.iter().all(|p| p.at < hold.at || p.at >= resume_ok.at));
        let before = plain.iter().filter(|p| p.at < hold.at).count();
        let after = plain.iter().filter(|p| p.at >= resume_ok.at).count();
        assert!(before > 150 && after > 150, "{before} {after}");
        // Sequence numbers continue; the first packet after the hold has the marker bit.
        let first_after = &plain[before];
        assert_eq!(first_after.index, plain[before - 1].index + 1);
        assert!(first_after.marker);
        // ~4 s without media: 200 slots fewer than 12 s.
        assert!((390..=410).contains(&plain.len()), "{}", plain.len());
    }
}

#[test]
fn ssrc_change_starts_a_new_stream() {
    let (frames, reports) = common::generate(cfg(
        8_000,
        Impairments {
            ssrc_change_at_ms: Some(4_000),
            ..Default::default()
        },
    ));
    let r = &reports[0];
    for dir in Direction::BOTH {
        let ssrcs = &r.streams[dir.index()].ssrcs;
        assert_eq!(ssrcs.len(), 2);
        let (plain, fails) = internal(&frames, r, dir);
        assert_eq!(fails, 0);
        let seen: Vec<u32> = plain.iter().map(|p| p.ssrc).fold(Vec::new(), |mut v, s| {
            if v.last() != Some(&s) {
                v.push(s);
            }
            v
        });
        assert_eq!(&seen, ssrcs);
        let switch = plain.iter().position(|p| p.ssrc == ssrcs[1]).unwrap();
        assert!(plain[switch].marker);
        assert_eq!(plain[switch].seq, r.streams[dir.index()].first_seqs[1]);
    }
}

#[test]
fn dtmf_digits_arrive_as_rfc4733_events() {
    let (frames, reports) = common::generate(cfg(
        10_000,
        Impairments {
            dtmf: vec![
                DtmfBurst {
                    digits: "12#".into(),
                    at_ms: 2_000,
                },
                DtmfBurst {
                    digits: "9*".into(),
                    at_ms: 6_000,
                },
            ],
            ..Default::default()
        },
    ));
    let r = &reports[0];
    assert_eq!(r.digits, "12#9*");
    let (plain, _) = internal(&frames, r, C2C);
    let mut tracker = rec_audio::DtmfTracker::new(8000);
    let mut digits = String::new();
    for p in plain.iter().filter(|p| p.pt == 101) {
        if let Some(e) = tracker.push(i64::from(p.ts), 0, &p.payload) {
            digits.push(e.digit().unwrap());
        }
    }
    if let Some(e) = tracker.flush() {
        digits.push(e.digit().unwrap());
    }
    assert_eq!(digits, "12#9*");
    assert_eq!(
        plain.iter().filter(|p| p.pt == 101).count() as u64,
        r.streams[0].stats.dtmf_packets
    );
    // The callee sends no events.
    let (back, _) = internal(&frames, r, C2R);
    assert!(back.iter().all(|p| p.pt == 8));
}

#[test]
fn undecodable_codec_is_announced_and_sent() {
    let mut c = cfg(4_000, Impairments::default());
    c.call.codec = Codec::XMsrta;
    let (frames, reports) = common::generate(c);
    let r = &reports[0];
    let msgs = sip_messages(&frames);
    let inv = msgs[0].parse();
    let sdp = rec_sdp::Sdp::parse(inv.try_bodies().unwrap()[1].body).unwrap();
    let m = sdp.media_section(0).unwrap();
    assert_eq!(m.media_line().format_list().next(), Some("114"));
    let map = m
        .rtpmaps()
        .map(|x| x.unwrap())
        .find(|x| x.pt == 114)
        .unwrap();
    assert!(rec_audio::decoder_for(map.encoding, map.clock_rate, 1).is_none());
    let (plain, fails) = internal(&frames, r, C2C);
    assert_eq!(fails, 0);
    assert_eq!(plain.len(), 200);
    assert!(plain.iter().all(|p| p.pt == 114));
    for w in plain.windows(2) {
        assert_eq!(w[1].ts.wrapping_sub(w[0].ts), 320);
    }
}

#[test]
fn opus_decodes_to_the_source_signal() {
    let mut c = cfg(4_000, Impairments::default());
    c.call.codec = Codec::Opus;
    let (frames, reports) = common::generate(c);
    let r = &reports[0];
    for dir in Direction::BOTH {
        let (plain, fails) = internal(&frames, r, dir);
        assert_eq!(fails, 0);
        assert!(plain.iter().all(|p| p.pt == rec_gen::OPUS_PT));
        let mut dec = rec_audio::decoder_for("opus", 48000, 2).unwrap();
        let mut pcm = Vec::new();
        let mut buf = vec![0i16; 5760];
        for p in &plain {
            let k = dec.decode(&p.payload, &mut buf).unwrap();
            pcm.extend_from_slice(&buf[..k]);
        }
        assert_eq!(pcm.len(), 200 * 960);
        let src = source_signal(dir, 48000, pcm.len() + 2000);
        // Opus delays the signal by a few ms: take the best lag.
        let best = (0..1000)
            .map(|lag| correlation(&pcm[lag + 4800..], &src[4800..pcm.len() - lag]))
            .fold(f64::MIN, f64::max);
        assert!(best > 0.9, "{dir:?} {best}");
    }
}

#[test]
fn g722_decodes_to_the_source_signal_at_16_khz() {
    let mut c = cfg(4_000, Impairments::default());
    c.call.codec = Codec::G722;
    let (frames, reports) = common::generate(c);
    let r = &reports[0];
    for dir in Direction::BOTH {
        let (plain, fails) = internal(&frames, r, dir);
        assert_eq!(fails, 0);
        assert!(plain.iter().all(|p| p.pt == 9 && p.payload.len() == 160));
        for w in plain.windows(2) {
            assert_eq!(
                w[1].ts.wrapping_sub(w[0].ts),
                160,
                "G.722 keeps an 8 kHz RTP clock"
            );
        }
        // rec-audio's own G.722 decoder against the ezk-g722 (spandsp-derived) encoder.
        let mut dec = rec_audio::decoder_for("G722", 8000, 1).unwrap();
        assert_eq!(dec.sample_rate(), 16000);
        let mut pcm = Vec::new();
        let mut buf = vec![0i16; 640];
        for p in &plain {
            let k = dec.decode(&p.payload, &mut buf).unwrap();
            pcm.extend_from_slice(&buf[..k]);
        }
        assert_eq!(pcm.len(), 200 * 320);
        let src = source_signal(dir, 16000, pcm.len() + 200);
        let best = (0..100)
            .map(|lag| correlation(&pcm[lag + 1600..], &src[1600..pcm.len() - lag]))
            .fold(f64::MIN, f64::max);
        assert!(best > 0.95, "{dir:?} {best}");
    }
}
