//! `decrypt_rtp_pair` (two tags computed together) must behave exactly like two
//! `decrypt_rtp` calls in order: same results, same buffers, same state afterwards. Checked on
//! streams with every suite (GCM takes the fallback), with and without MKI,
//! across a sequence wrap, from the first packet of an SSRC, with two SSRCs interleaved,
//! duplicates, corrupted and truncated packets and a pending re-key. The single-packet path is
//! itself checked against webrtc-srtp (differential.rs) and the RFC vectors.

mod common;
use common::{rtp, sdes};
use rec_srtp::{Config, SrtpContext, Suite};

fn key(seed: u8, n: usize) -> Vec<u8> {
    (0..n as u8).map(|i| i.wrapping_mul(29) ^ seed).collect()
}

/// Encrypted packets: SSRC A across a wrap, SSRC B interleaved, with `extra` SDES params.
fn stream(suite: Suite, extra: &str, seed: u8) -> Vec<Vec<u8>> {
    let ks = key(seed, suite.key_len() + suite.salt_len());
    let mut tx = SrtpContext::new(sdes(suite.name(), &ks, extra));
    let mut out = Vec::new();
    for (n, seq) in (65_400u16..=65_535).chain(0..120).enumerate() {
        let len = [160, 20, 0, 1, 63, 64, 200, 300][n % 8];
        let mut p = rtp(seq, n as u32 * 160, 0xaaaa_0001, len);
        tx.encrypt_rtp(&mut p).unwrap();
        out.push(p);
        if n % 3 == 0 {
            let mut q = rtp(seq.wrapping_add(7000), n as u32, 0xbbbb_0002, 160);
            tx.encrypt_rtp(&mut q).unwrap();
            out.push(q);
        }
    }
    out
}

/// Runs the packets through a pair-decrypting and a single-decrypting context and compares.
fn compare(suite: Suite, extra: &str, pkts: &[Vec<u8>], config: Config, rekey: bool) {
    let ks = key(9, suite.key_len() + suite.salt_len());
    let mk = || {
        let mut c = SrtpContext::with_config(sdes(suite.name(), &ks, extra), config);
        if rekey {
            c.add_key(sdes(suite.name(), &key(77, ks.len()), extra));
        }
        c
    };
    let (mut paired, mut single) = (mk(), mk());
    let mut ok = 0;
    for (i, two) in pkts.chunks(2).enumerate() {
        let mut a = two[0].clone();
        let mut b = two.get(1).cloned().unwrap_or_else(|| two[0].clone());
        let (mut a1, mut b1) = (a.clone(), b.clone());
        let got = paired.decrypt_rtp_pair(&mut a, &mut b);
        let want = [single.decrypt_rtp(&mut a1), single.decrypt_rtp(&mut b1)];
        assert_eq!(got, want, "{suite} {extra} pair {i}");
        assert_eq!((a, b), (a1, b1), "{suite} {extra} pair {i}: buffers");
        ok += got.iter().filter(|r| r.is_ok()).count();
    }
    assert!(
        ok > pkts.len() / 3,
        "{suite} {extra}: only {ok} packets decrypted"
    );
    for ssrc in [0xaaaa_0001, 0xbbbb_0002, 1] {
        assert_eq!(paired.roc(ssrc), single.roc(ssrc), "{suite} {extra}");
    }
}

#[test]
fn pair_equals_two_single_decrypts_for_every_suite_and_mki() {
    for suite in Suite::ALL {
        for extra in ["", "|2^31|1:1"] {
            let pkts = stream(suite, extra, 9);
            compare(suite, extra, &pkts, Config::default(), false);
            let replay = Config {
                replay_protection: true,
                ..Config::default()
            };
            // Every packet twice in a row (a duplicate right after its original), and whole
            // pairs repeated, with and without replay protection.
            let dup: Vec<Vec<u8>> = pkts.iter().flat_map(|p| [p.clone(), p.clone()]).collect();
            compare(suite, extra, &dup, Config::default(), false);
            compare(suite, extra, &dup, replay, false);
        }
    }
}

#[test]
fn pair_handles_bad_packets_and_rekey_like_single_decrypts() {
    for suite in [Suite::AesCm128HmacSha1_80, Suite::AesCm256HmacSha1_32] {
        let mut pkts = stream(suite, "|2^31|1:1", 9);
        for (i, p) in pkts.iter_mut().enumerate() {
            let mid = 20.min(p.len() - 1);
            match i % 9 {
                1 => p[mid] ^= 0x10, // payload bit: tag fails
                4 => p.truncate(7),  // not even a header
                6 => {
                    let n = p.len();
                    p[n - 1] ^= 1; // tag bit
                }
                7 => p[0] = 0x40, // version 1
                _ => {}
            }
        }
        compare(suite, "|2^31|1:1", &pkts, Config::default(), false);
        // A re-key pending: the current key still decrypts (fallback path throughout).
        compare(suite, "|2^31|1:1", &pkts, Config::default(), true);
        // Packets under the NEW key with the old one current: adopted by the first packet.
        let newk = stream(suite, "|2^31|1:1", 77);
        compare_rekey(suite, &newk);
    }
}

/// The context's current key is seed 9; packets are under seed 77 offered via `add_key`.
fn compare_rekey(suite: Suite, pkts: &[Vec<u8>]) {
    let n = suite.key_len() + suite.salt_len();
    let mk = || {
        let mut c = SrtpContext::new(sdes(suite.name(), &key(9, n), "|2^31|1:1"));
        c.add_key(sdes(suite.name(), &key(77, n), "|2^31|1:1"));
        c
    };
    let (mut paired, mut single) = (mk(), mk());
    for two in pkts.chunks(2) {
        let (mut a, mut b) = (two[0].clone(), two.get(1).cloned().unwrap_or_default());
        let (mut a1, mut b1) = (a.clone(), b.clone());
        let got = paired.decrypt_rtp_pair(&mut a, &mut b);
        let want = [single.decrypt_rtp(&mut a1), single.decrypt_rtp(&mut b1)];
        assert_eq!(got, want, "{suite} rekey");
        assert_eq!((a, b), (a1, b1), "{suite} rekey buffers");
    }
    assert!(!paired.has_candidate() && !single.has_candidate());
}
