#![allow(missing_docs)]
//! SRTP decrypt cost on 160-byte payloads (one G.711 20 ms frame): rec-srtp vs webrtc-srtp vs
//! the bare AES-128-CTR keystream XOR + HMAC-SHA1 on the same bytes.
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

    // Bare crypto: pre-expanded AES-128 key, CTR over the 160 payload bytes, HMAC-SHA1 from a
    // pre-keyed state over header+payload+ROC, 10-byte tag compare.
    let aes = Aes128::new((&ks[..16]).into());
    let mac = <Hmac<Sha1> as Mac>::new_from_slice(&ks[..20]).unwrap();
    let ct = packet(1000);
    let mut buf = ct.clone();
    let iv = [7u8; 16];
    g.bench_function("bare AES-128-CTR + HMAC-SHA1", |b| {
        b.iter(|| {
            buf.copy_from_slice(&ct);
            let mut m = mac.clone();
            m.update(&buf);
            m.update(&0u32.to_be_bytes());
            let tag = m.finalize().into_bytes();
            black_box(&tag[..10]);
            let core = ctr::CtrCore::<Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(
                aes.clone(),
                (&iv).into(),
            );
            let mut c = ctr::cipher::StreamCipherCoreWrapper::from_core(core);
            c.apply_keystream(&mut buf[12..]);
            black_box(&buf);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
