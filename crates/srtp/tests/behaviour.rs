//! Recorder behaviour: MKI (Lync), mid-call joins (ROC ≠ 0), sequence wraps, wrong keys,
//! re-keying, duplicates, malformed input. Round trips through our own encryptor, whose
//! output is checked against libsrtp/RFC vectors in `vectors.rs` and against webrtc-srtp in
//! `differential.rs`.

mod common;
use common::{hex, rtcp_sr, rtp, sdes};
use rec_srtp::{Config, Error, KeyParams, SrtpContext, Suite};

fn key(seed: u8, n: usize) -> Vec<u8> {
    (0..n as u8)
        .map(|i| i.wrapping_mul(13).wrapping_add(seed))
        .collect()
}

fn params(suite: Suite, seed: u8, extra: &str) -> KeyParams {
    sdes(
        suite.name(),
        &key(seed, suite.key_len() + suite.salt_len()),
        extra,
    )
}

#[test]
fn every_suite_round_trips_with_and_without_lync_mki() {
    for suite in Suite::ALL {
        for extra in ["", "|2^31|1:1", "|2^20|258:2"] {
            let k = params(suite, 7, extra);
            let mut tx = SrtpContext::new(k.clone());
            let mut rx = SrtpContext::new(k);
            for seq in [100u16, 101, 102] {
                let plain = rtp(seq, u32::from(seq) * 160, 0x1234_5678, 160);
                let mut p = plain.clone();
                tx.encrypt_rtp(&mut p).unwrap();
                let mki_len = mki_len_of(extra);
                assert_eq!(
                    p.len(),
                    plain.len() + mki_len + suite.rtp_tag_len(),
                    "{suite}{extra}"
                );
                if extra == "|2^31|1:1" {
                    // Lync layout: AES-CM `payload | 0x01 | tag`; GCM `payload+tag | 0x01`.
                    let at = if suite.is_aead() {
                        p.len() - 1
                    } else {
                        p.len() - 1 - suite.rtp_tag_len()
                    };
                    assert_eq!(p[at], 1, "{suite}: MKI byte position");
                }
                assert_ne!(&p[12..172], &plain[12..]);
                let r = rx.decrypt_rtp(&mut p).unwrap();
                assert_eq!(&p[..r.packet_len], &plain[..], "{suite}{extra}");
                assert_eq!(r.seq, seq);
            }
            let plain = rtcp_sr(0x1234_5678);
            let mut p = plain.clone();
            tx.encrypt_rtcp(&mut p).unwrap();
            assert_eq!(
                p.len(),
                plain.len() + 4 + mki_len_of(extra) + suite.rtcp_tag_len()
            );
            let r = rx.decrypt_rtcp(&mut p).unwrap();
            assert_eq!(&p[..r.packet_len], &plain[..]);
            assert!(r.encrypted && !r.duplicate);
        }
    }
}

fn mki_len_of(extra: &str) -> usize {
    match extra {
        "" => 0,
        "|2^31|1:1" => 1,
        _ => 2,
    }
}

/// Sender that started long before the recorder: ROC 1, capture begins mid-sequence.
#[test]
fn joins_mid_call_with_roc_1_and_follows_a_wrap() {
    for suite in [Suite::AesCm128HmacSha1_80, Suite::AeadAes128Gcm] {
        let k = params(suite, 3, "|2^31|1:1");
        let mut tx = SrtpContext::new(k.clone());
        tx.set_tx_roc(0xabc, 1);
        let seqs: Vec<u16> = (40000u16..=65535).step_by(97).chain(0..300).collect();
        let mut rx = SrtpContext::new(k);
        for (n, &seq) in seqs.iter().enumerate() {
            let plain = rtp(seq, 0, 0xabc, 50);
            let mut p = plain.clone();
            let index = tx.encrypt_rtp(&mut p).unwrap();
            let r = rx
                .decrypt_rtp(&mut p)
                .unwrap_or_else(|e| panic!("{suite} seq {seq}: {e}"));
            let want_roc = if seq >= 40000 && n < seqs.len() - 300 {
                1
            } else {
                2
            };
            assert_eq!(r.roc, want_roc, "{suite} seq {seq}");
            assert_eq!(r.index, index);
            assert_eq!(&p[..r.packet_len], &plain[..]);
        }
        assert_eq!(rx.roc(0xabc), Some(2));
    }
}

#[test]
fn first_packet_roc_range_is_bounded_and_configurable() {
    let k = params(Suite::AesCm128HmacSha1_32, 9, "");
    let mut tx = SrtpContext::new(k.clone());
    tx.set_tx_roc(1, 7);
    let mut p = rtp(5, 0, 1, 20);
    tx.encrypt_rtp(&mut p).unwrap();
    // Default range (0..=4) does not reach ROC 7: authentication failure, not garbage.
    let mut q = p.clone();
    let mut rx = SrtpContext::new(k.clone());
    assert_eq!(
        rx.decrypt_rtp(&mut q),
        Err(Error::AuthFailed { ssrc: 1, seq: 5 })
    );
    assert_eq!(q, p);
    // A hint close enough finds it.
    let cfg = Config {
        initial_roc: 5,
        ..Config::default()
    };
    let mut rx = SrtpContext::with_config(k.clone(), cfg);
    assert_eq!(rx.decrypt_rtp(&mut q).unwrap().roc, 7);
    // Set explicitly.
    let mut rx = SrtpContext::new(k);
    rx.set_roc(1, 7, 3);
    let mut q = p.clone();
    assert_eq!(rx.decrypt_rtp(&mut q).unwrap().roc, 7);
}

/// A receiver that misses more than 32768 packets around a wrap recovers with ROC+1.
#[test]
fn recovers_after_missing_a_wrap() {
    let k = params(Suite::AesCm128HmacSha1_80, 1, "");
    let tx = SrtpContext::new(k.clone());
    let mut rx = SrtpContext::new(k);
    let send = |seq: u16, roc: u32| {
        let mut p = rtp(seq, 0, 9, 30);
        tx.encrypt_rtp_with_roc(&mut p, roc).unwrap();
        p
    };
    let mut p = send(1000, 0);
    rx.decrypt_rtp(&mut p).unwrap();
    // Next packet seen: ROC 1, seq 40000 (estimate says ROC 0).
    let mut p = send(40000, 1);
    let r = rx.decrypt_rtp(&mut p).unwrap();
    assert_eq!((r.roc, r.index), (1, (1 << 16) | 40000));
    assert_eq!(rx.roc(9), Some(1));
}

#[test]
fn rekey_is_adopted_only_when_it_authenticates() {
    let old = params(Suite::AesCm128HmacSha1_80, 1, "|2^31|1:1");
    let new = params(Suite::AesCm128HmacSha1_80, 2, "|2^31|1:1");
    let bogus = params(Suite::AesCm128HmacSha1_80, 3, "|2^31|1:1");
    let tx_old = SrtpContext::new(old.clone());
    let tx_new = SrtpContext::new(new.clone());
    let mut rx = SrtpContext::new(old);
    let enc = |tx: &SrtpContext, seq| {
        let mut p = rtp(seq, 0, 5, 40);
        tx.encrypt_rtp_with_roc(&mut p, 0).unwrap();
        p
    };
    let mut p = enc(&tx_old, 1);
    assert!(!rx.decrypt_rtp(&mut p).unwrap().rekeyed);
    // A wrong candidate does not disturb the current key.
    rx.add_key(bogus);
    let mut p = enc(&tx_old, 2);
    assert!(!rx.decrypt_rtp(&mut p).unwrap().rekeyed);
    assert!(rx.has_candidate());
    // Real re-key: old packets still decrypt until the first new-key packet authenticates.
    rx.add_key(new);
    let mut p = enc(&tx_old, 3);
    assert!(!rx.decrypt_rtp(&mut p).unwrap().rekeyed);
    let mut p = enc(&tx_new, 4);
    let r = rx.decrypt_rtp(&mut p).unwrap();
    assert!(r.rekeyed);
    assert_eq!(&p[..r.packet_len], &rtp(4, 0, 5, 40)[..]);
    assert!(!rx.has_candidate());
    // Old key is gone now.
    let mut p = enc(&tx_old, 5);
    assert_eq!(
        rx.decrypt_rtp(&mut p),
        Err(Error::AuthFailed { ssrc: 5, seq: 5 })
    );
    let mut p = enc(&tx_new, 6);
    assert!(!rx.decrypt_rtp(&mut p).unwrap().rekeyed);
}

#[test]
fn duplicates_are_reported_or_rejected() {
    let k = params(Suite::AesCm256HmacSha1_80, 4, "");
    let mut tx = SrtpContext::new(k.clone());
    let mut wire = Vec::new();
    for seq in 10u16..20 {
        let mut p = rtp(seq, 0, 77, 10);
        tx.encrypt_rtp(&mut p).unwrap();
        wire.push(p);
    }
    let mut rtcp = rtcp_sr(77);
    tx.encrypt_rtcp(&mut rtcp).unwrap();

    let mut rx = SrtpContext::new(k.clone());
    let order = [0usize, 1, 2, 1, 5, 3, 5, 4];
    let dup = [false, false, false, true, false, false, true, false];
    for (&i, &d) in order.iter().zip(&dup) {
        let mut p = wire[i].clone();
        let r = rx.decrypt_rtp(&mut p).unwrap();
        assert_eq!(r.duplicate, d, "packet {i}");
        assert_eq!(&p[..r.packet_len], &rtp(10 + i as u16, 0, 77, 10)[..]);
    }
    let mut p = rtcp.clone();
    assert!(!rx.decrypt_rtcp(&mut p).unwrap().duplicate);
    let mut p = rtcp.clone();
    assert!(rx.decrypt_rtcp(&mut p).unwrap().duplicate);

    let cfg = Config {
        replay_protection: true,
        ..Config::default()
    };
    let mut rx = SrtpContext::with_config(k, cfg);
    let mut p = wire[0].clone();
    rx.decrypt_rtp(&mut p).unwrap();
    let mut p = wire[0].clone();
    assert_eq!(
        rx.decrypt_rtp(&mut p),
        Err(Error::Replayed {
            ssrc: 77,
            index: 10
        })
    );
    let mut p = rtcp.clone();
    rx.decrypt_rtcp(&mut p).unwrap();
    let mut p = rtcp.clone();
    assert_eq!(
        rx.decrypt_rtcp(&mut p),
        Err(Error::Replayed { ssrc: 77, index: 1 })
    );
}

#[test]
fn csrc_extension_and_padding_are_handled() {
    let k = params(Suite::AesCm128HmacSha1_80, 8, "");
    let mut tx = SrtpContext::new(k.clone());
    let mut rx = SrtpContext::new(k);
    // V=2 P=1 X=1 CC=1, one CSRC, one-word extension, 5 payload bytes + 3 padding bytes.
    let plain = hex("b108 0007 00000000 00000042 11111111 bede0001 10aa0000 0102030405 000003");
    let mut p = plain.clone();
    tx.encrypt_rtp(&mut p).unwrap();
    assert_eq!(&p[..24], &plain[..24], "header stays in clear");
    let r = rx.decrypt_rtp(&mut p).unwrap();
    assert_eq!(r.payload_range, 24..29);
    assert_eq!(&p[r.payload_range.clone()], &[1, 2, 3, 4, 5]);
    assert_eq!(r.packet_len, plain.len());
}

#[test]
fn malformed_and_truncated_packets_error_without_panicking() {
    for suite in Suite::ALL {
        let k = params(suite, 6, "|2^31|1:1");
        let mut tx = SrtpContext::new(k.clone());
        let mut p = rtp(1, 0, 3, 30);
        tx.encrypt_rtp(&mut p).unwrap();
        let mut c = rtcp_sr(3);
        tx.encrypt_rtcp(&mut c).unwrap();
        let mut rx = SrtpContext::new(k);
        for n in 0..p.len() {
            let mut q = p[..n].to_vec();
            assert!(rx.decrypt_rtp(&mut q).is_err(), "{suite} len {n}");
        }
        for n in 0..c.len() {
            let mut q = c[..n].to_vec();
            assert!(rx.decrypt_rtcp(&mut q).is_err(), "{suite} rtcp len {n}");
        }
        // Every single-bit flip outside the MKI is caught by the tag (the MKI byte selects no key).
        for bit in 0..p.len() * 8 {
            let mut q = p.clone();
            q[bit / 8] ^= 1 << (bit % 8);
            assert!(rx.decrypt_rtp(&mut q).is_err(), "{suite} flipped bit {bit}");
        }
        // Header lengths that point past the end (extension of 0xffff words).
        let mut q = hex("900000010000000000000003ffff");
        assert!(matches!(
            rx.decrypt_rtp(&mut q),
            Err(Error::TooShort { .. })
        ));
        let mut q = vec![0x40u8; 40];
        assert_eq!(rx.decrypt_rtp(&mut q), Err(Error::BadVersion(1)));
    }
}

/// Random bytes of random lengths (deterministic xorshift) never panic and never authenticate.
#[test]
fn random_input_never_panics_or_authenticates() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for suite in Suite::ALL {
        for extra in ["", "|2^31|1:1"] {
            let mut rx = SrtpContext::new(params(suite, 11, extra));
            for _ in 0..300 {
                let len = (next() % 120) as usize;
                let mut p: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if len > 0 && next() % 2 == 0 {
                    p[0] = 0x80 | (p[0] & 0x3f); // make most of them look like RTP v2
                }
                if len > 12 && !extra.is_empty() {
                    // Put the right MKI byte where it belongs so the tag check runs.
                    let at = if suite.is_aead() {
                        len - 1
                    } else {
                        len.saturating_sub(1 + suite.rtp_tag_len())
                    };
                    p[at] = 1;
                }
                let mut q = p.clone();
                assert!(rx.decrypt_rtp(&mut q).is_err());
                assert_eq!(q, p, "buffer untouched on failure");
                let mut q = p.clone();
                assert!(rx.decrypt_rtcp(&mut q).is_err());
                assert_eq!(q, p, "buffer untouched on failure");
            }
        }
    }
}
