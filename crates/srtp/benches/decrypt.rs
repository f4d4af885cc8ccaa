#![allow(missing_docs)]
//! SRTP decrypt cost on 160-byte payloads (one G.711 20 ms frame): rec-srtp vs webrtc-srtp vs
//! the bare AES-128-CTR keystream XOR + HMAC-SHA1 on the same bytes; plus rec-srtp's
//! two-packet `decrypt_rtp_pair` (criterion time per iteration = 2 packets).
//! Run: `cargo bench -p rec-srtp -- --warm-up-time 1 --measurement-time 3`

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes::Aes128;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, Mac};
use rec_srtp::{KeyParams, SrtpContext, Suite};
use sha1::Sha1;
use webrtc_srtp::context::Context;
use webrtc_srtp::protection_profile::ProtectionProfile;

fn packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x08];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&1234u32.to_be_bytes());
    p.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    p.extend((0..160u32).map(|i| (i * 7) as u8));
    p
}

fn bench(c: &mut Criterion) {
    let ks: Vec<u8> = (0..30u8).collect();
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&ks)
    };
    let mut g = c.benchmark_group("srtp_decrypt_160B");
    g.throughput(Throughput::Elements(1));

    for suite in [Suite::AesCm128HmacSha1_80, Suite::AeadAes128Gcm] {
        let n = suite.key_len() + suite.salt_len();
        let b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&ks[..n.min(30)])
        };
        let kp = KeyParams::parse_sdes(suite.name(), &format!("inline:{b64}")).unwrap();
        let mut tx = SrtpContext::new(kp.clone());
        let mut ct = packet(1000);
        tx.encrypt_rtp(&mut ct).unwrap();
        let mut rx = SrtpContext::new(kp);
        let mut buf = ct.clone();
        g.bench_function(format!("rec-srtp {suite}"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&ct);
                let r = rx.decrypt_rtp(black_box(&mut buf)).unwrap();
                black_box(r.payload_range.start);
            })
        });
        // Two packets per iteration through `decrypt_rtp_pair` (time per iteration = 2 packets).
        let mut ct2 = packet(1001);
        tx.encrypt_rtp(&mut ct2).unwrap();
        let mut buf2 = ct2.clone();
        g.throughput(Throughput::Elements(2));
        g.bench_function(format!("rec-srtp {suite} pair (2 packets)"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&ct);
                buf2.copy_from_slice(&ct2);
                let [x, y] = rx.decrypt_rtp_pair(black_box(&mut buf), black_box(&mut buf2));
                black_box(x.unwrap().payload_range.start + y.unwrap().payload_range.start);
            })
        });
        g.throughput(Throughput::Elements(1));
        let (kl, _) = (suite.key_len(), suite.salt_len());
        let profile = if suite.is_aead() {
            ProtectionProfile::AeadAes128Gcm
        } else {
            ProtectionProfile::Aes128CmHmacSha1_80
        };
        let mut theirs = Context::new(&ks[..kl], &ks[kl..n], profile, None, None).unwrap();
        g.bench_function(format!("webrtc-srtp {suite}"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&ct);
                let d = theirs.decrypt_rtp(black_box(&buf)).unwrap();
                black_box(d.len());
            })
        });
    }
    let _ = b64;

    // Bare crypto over exactly the bytes SRTP processes: HMAC-SHA1 over header + payload (172
    // bytes) + ROC, AES-128-CTR over the 160 payload bytes; key schedule and ipad/opad done once.
    // (a) through the RustCrypto `hmac`/`ctr` APIs: pre-keyed `Hmac<Sha1>` cloned per packet,
    //     `Ctr128BE` built on a clone of the pre-expanded AES key;
    let aes = Aes128::new((&ks[..16]).into());
    let mac = <Hmac<Sha1> as Mac>::new_from_slice(&ks[..20]).unwrap();
    let ct = packet(1000);
    let mut buf = ct.clone();
    let iv = [7u8; 16];
    g.bench_function("bare AES-128-CTR + HMAC-SHA1 (hmac/ctr APIs)", |b| {
        b.iter(|| {
            buf.copy_from_slice(&ct);
            let mut m = mac.clone();
            m.update(&buf[..172]);
            m.update(&0u32.to_be_bytes());
            let tag = m.finalize().into_bytes();
            black_box(&tag[..10]);
            let core = ctr::CtrCore::<Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(
                aes.clone(),
                (&iv).into(),
            );
            let mut c = ctr::cipher::StreamCipherCoreWrapper::from_core(core);
            c.apply_keystream(&mut buf[12..172]);
            black_box(&buf);
        })
    });
    // (b) the cheapest form: `sha1::compress` on pre-computed pad states, one `encrypt_blocks`.
    let (si, so) = bare_raw::keys(&ks[..20]);
    g.bench_function("bare AES-128-CTR + HMAC-SHA1 (raw compress)", |b| {
        b.iter(|| {
            buf.copy_from_slice(&ct);
            let tag = bare_raw::mac(&si, &so, &buf[..172], 0);
            black_box(&tag[..10]);
            bare_raw::ctr(&aes, &iv, &mut buf[12..172]);
            black_box(&buf);
        })
    });
    // (c) the two-packet form of (b), the baseline of `decrypt_rtp_pair`: both MACs with their
    //     SHA-1 blocks alternating (`bare_raw::mac2`), then both CTRs; 2 packets per iteration.
    let mut buf2 = ct.clone();
    g.throughput(Throughput::Elements(2));
    g.bench_function(
        "bare AES-128-CTR + HMAC-SHA1 x2 (raw, SHA-1 interleaved)",
        |b| {
            b.iter(|| {
                buf.copy_from_slice(&ct);
                buf2.copy_from_slice(&ct);
                let tags = bare_raw::mac2(&si, &so, [&buf[..172], &buf2[..172]], 0);
                black_box(&tags);
                bare_raw::ctr(&aes, &iv, &mut buf[12..172]);
                bare_raw::ctr(&aes, &iv, &mut buf2[12..172]);
                black_box((&buf, &buf2));
            })
        },
    );
    g.finish();
}

#[path = "common/bare_raw.rs"]
mod bare_raw;

criterion_group!(benches, bench);
criterion_main!(benches);
