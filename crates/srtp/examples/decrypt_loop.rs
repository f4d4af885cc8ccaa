#![allow(missing_docs)]
// Benchmark driver, not library code: it reads the clock in `time` mode.
#![allow(clippy::disallowed_methods)]
//! Fixed-count SRTP decrypt loops (160-byte payload) for instruction counting and for timing
//! on a loaded machine.
//!
//! * `decrypt_loop <variant> [n]` runs `n` calls of one variant (for
//!   `valgrind --tool=callgrind`); variants: `rec`, `rec-pair` (two packets per call through
//!   `decrypt_rtp_pair`), `webrtc`, `bare-api`, `bare-raw` (all
//!   AES_CM_128_HMAC_SHA1_80), `bare-sha` / `bare-aes` (the two halves of `bare-raw`),
//!   `bare-sha-x2` (the MAC of two packets with their SHA-1 chains interleaved, per packet),
//!   `bare-raw-x2` (`bare-raw` for two packets that way, per packet), `rec-gcm`, `webrtc-gcm`.
//! * `decrypt_loop time [rounds]` interleaves all variants in rounds of 2,000 packets (300 rounds by default) and prints
//!   the minimum and median ns/packet per variant (the minimum is the least disturbed by other
//!   processes sharing the cores).

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes::Aes128;
use hmac::{Hmac, Mac};
use rec_srtp::{KeyParams, SrtpContext, Suite};
use sha1::Sha1;
use std::hint::black_box;
use webrtc_srtp::context::Context;
use webrtc_srtp::protection_profile::ProtectionProfile;

#[path = "../benches/common/bare_raw.rs"]
mod bare_raw;

const VARIANTS: [&str; 11] = [
    "rec",
    "rec-pair",
    "webrtc",
    "bare-api",
    "bare-raw",
    "bare-sha",
    "bare-aes",
    "bare-sha-x2",
    "bare-raw-x2",
    "rec-gcm",
    "webrtc-gcm",
];

fn packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x08];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&1234u32.to_be_bytes());
    p.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    p.extend((0..160u32).map(|i| (i * 7) as u8));
    p
}

/// One packet decrypt of `variant` per call (the ciphertext is copied into the work buffer
/// first, as in the criterion bench); returns something to keep the result alive.
fn make(variant: &str) -> Box<dyn FnMut() -> usize> {
    let ks: Vec<u8> = (0..30u8).collect();
    let suite = if variant.ends_with("-gcm") {
        Suite::AeadAes128Gcm
    } else {
        Suite::AesCm128HmacSha1_80
    };
    let (kl, sl) = (suite.key_len(), suite.salt_len());
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&ks[..kl + sl])
    };
    let kp = KeyParams::parse_sdes(suite.name(), &format!("inline:{b64}")).unwrap();
    let mut tx = SrtpContext::new(kp.clone());
    let mut ct = packet(1000);
    tx.encrypt_rtp(&mut ct).unwrap();
    let mut buf = ct.clone();
    match variant {
        "rec" | "rec-gcm" => {
            let mut rx = SrtpContext::new(kp);
            Box::new(move || {
                buf.copy_from_slice(&ct);
                rx.decrypt_rtp(black_box(&mut buf))
                    .unwrap()
                    .payload_range
                    .start
            })
        }
        "rec-pair" => {
            // Two packets (seq 1000, 1001) per call through `decrypt_rtp_pair`.
            let mut rx = SrtpContext::new(kp);
            let mut ct2 = packet(1001);
            tx.encrypt_rtp(&mut ct2).unwrap();
            let mut buf2 = ct2.clone();
            Box::new(move || {
                buf.copy_from_slice(&ct);
                buf2.copy_from_slice(&ct2);
                let [a, b] = rx.decrypt_rtp_pair(black_box(&mut buf), black_box(&mut buf2));
                a.unwrap().payload_range.start + b.unwrap().payload_range.start
            })
        }
        "webrtc" | "webrtc-gcm" => {
            let profile = if suite.is_aead() {
                ProtectionProfile::AeadAes128Gcm
            } else {
                ProtectionProfile::Aes128CmHmacSha1_80
            };
            let mut c = Context::new(&ks[..kl], &ks[kl..kl + sl], profile, None, None).unwrap();
            Box::new(move || {
                buf.copy_from_slice(&ct);
                c.decrypt_rtp(black_box(&buf)).unwrap().len()
            })
        }
        "bare-api" => {
            let aes = Aes128::new((&ks[..16]).into());
            let mac = <Hmac<Sha1> as Mac>::new_from_slice(&ks[..20]).unwrap();
            let iv = [7u8; 16];
            Box::new(move || {
                buf.copy_from_slice(&ct);
                let mut m = mac.clone();
                m.update(&buf[..172]);
                m.update(&0u32.to_be_bytes());
                let t = usize::from(m.finalize().into_bytes()[0]);
                let core = ctr::CtrCore::<Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(
                    aes.clone(),
                    (&iv).into(),
                );
                let mut c = ctr::cipher::StreamCipherCoreWrapper::from_core(core);
                c.apply_keystream(black_box(&mut buf[12..172]));
                t
            })
        }
        "bare-raw" => {
            let aes = Aes128::new((&ks[..16]).into());
            let (si, so) = bare_raw::keys(&ks[..20]);
            let iv = [7u8; 16];
            Box::new(move || {
                buf.copy_from_slice(&ct);
                let t = usize::from(bare_raw::mac(&si, &so, black_box(&buf[..172]), 0)[0]);
                bare_raw::ctr(&aes, &iv, black_box(&mut buf[12..172]));
                t
            })
        }
        "bare-sha" => {
            let (si, so) = bare_raw::keys(&ks[..20]);
            Box::new(move || {
                buf.copy_from_slice(&ct);
                usize::from(bare_raw::mac(&si, &so, black_box(&buf[..172]), 0)[0])
            })
        }
        "bare-sha-x2" => {
            // Two packets per call, SHA-1 chains interleaved; reported per packet (halved).
            let (si, so) = bare_raw::keys(&ks[..20]);
            let mut buf2 = ct.clone();
            Box::new(move || {
                buf.copy_from_slice(&ct);
                buf2.copy_from_slice(&ct);
                let t = bare_raw::mac2(&si, &so, black_box([&buf[..172], &buf2[..172]]), 0);
                usize::from(t[0][0] ^ t[1][0])
            })
        }
        "bare-raw-x2" => {
            // `bare-raw` for two packets, the SHA-1 chains interleaved (per packet, halved).
            let aes = Aes128::new((&ks[..16]).into());
            let (si, so) = bare_raw::keys(&ks[..20]);
            let iv = [7u8; 16];
            let mut buf2 = ct.clone();
            Box::new(move || {
                buf.copy_from_slice(&ct);
                buf2.copy_from_slice(&ct);
                let t = bare_raw::mac2(&si, &so, black_box([&buf[..172], &buf2[..172]]), 0);
                bare_raw::ctr(&aes, &iv, black_box(&mut buf[12..172]));
                bare_raw::ctr(&aes, &iv, black_box(&mut buf2[12..172]));
                usize::from(t[0][0] ^ t[1][0])
            })
        }
        "bare-aes" => {
            let aes = Aes128::new((&ks[..16]).into());
            let iv = [7u8; 16];
            Box::new(move || {
                buf.copy_from_slice(&ct);
                bare_raw::ctr(&aes, &iv, black_box(&mut buf[12..172]));
                usize::from(buf[20])
            })
        }
        _ => panic!("unknown variant {variant}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("rec");
    if mode == "time" {
        let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
        const N: usize = 2_000;
        let mut fs: Vec<_> = VARIANTS.iter().map(|v| make(v)).collect();
        let mut ns: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
        for _ in 0..rounds {
            for (ns_i, (f, t)) in fs.iter_mut().zip(ns.iter_mut()).enumerate() {
                let start = std::time::Instant::now();
                let mut acc = 0;
                for _ in 0..N {
                    acc += f();
                }
                black_box(acc);
                let per_call = if VARIANTS[ns_i].ends_with("x2") || VARIANTS[ns_i].ends_with("pair")
                {
                    2 * N
                } else {
                    N
                };
                t.push(start.elapsed().as_nanos() as f64 / per_call as f64);
            }
        }
        for (v, t) in VARIANTS.iter().zip(ns.iter_mut()) {
            t.sort_by(f64::total_cmp);
            println!(
                "{v:<11} min {:7.1} ns  median {:7.1} ns/packet",
                t[0],
                t[t.len() / 2]
            );
        }
        return;
    }
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let mut f = make(mode);
    let mut acc = 0usize;
    for _ in 0..n {
        acc += f();
    }
    println!("{mode}: {n} packets, checksum {acc}");
}
