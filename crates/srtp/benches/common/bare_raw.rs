//! The cheapest way this machine's RustCrypto primitives can do the AES_CM_128_HMAC_SHA1_80
//! work of one packet, used as the "bare crypto" baseline: HMAC-SHA1 with the ipad/opad states
//! pre-computed and the message blocks fed straight to `sha1::compress` (SHA-NI), and AES-CTR
//! with all counter blocks encrypted in one `encrypt_blocks` call (AES-NI, 8 blocks in flight).
//! No SRTP logic (no header parsing, ROC, tag comparison or key selection).

use aes::cipher::BlockEncrypt;
use aes::{Aes128, Block};
use sha1::digest::generic_array::GenericArray;

const IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

fn c1(st: &mut [u32; 5], b: &[u8]) {
    sha1::compress(st, core::slice::from_ref(GenericArray::from_slice(b)));
}

/// ipad and opad states for a key of at most 64 bytes.
pub fn keys(key: &[u8]) -> ([u32; 5], [u32; 5]) {
    let (mut i, mut o) = ([0x36u8; 64], [0x5cu8; 64]);
    for (n, k) in key.iter().enumerate() {
        i[n] ^= k;
        o[n] ^= k;
    }
    let (mut si, mut so) = (IV, IV);
    c1(&mut si, &i);
    c1(&mut so, &o);
    (si, so)
}

/// HMAC-SHA1(msg | roc) for `msg.len() % 64 <= 51` (one final block), first 20 bytes.
pub fn mac(si: &[u32; 5], so: &[u32; 5], msg: &[u8], roc: u32) -> [u8; 20] {
    let mut st = *si;
    let mut it = msg.chunks_exact(64);
    for b in &mut it {
        c1(&mut st, b);
    }
    let r = it.remainder();
    assert!(r.len() <= 51);
    let mut last = [0u8; 64];
    last[..r.len()].copy_from_slice(r);
    last[r.len()..r.len() + 4].copy_from_slice(&roc.to_be_bytes());
    last[r.len() + 4] = 0x80;
    last[56..].copy_from_slice(&((64 + msg.len() as u64 + 4) * 8).to_be_bytes());
    c1(&mut st, &last);
    let mut ob = [0u8; 64];
    for (o, w) in ob.chunks_exact_mut(4).zip(st) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    ob[20] = 0x80;
    ob[56..].copy_from_slice(&(84u64 * 8).to_be_bytes());
    let mut o = *so;
    c1(&mut o, &ob);
    let mut out = [0u8; 20];
    for (d, w) in out.chunks_exact_mut(4).zip(o) {
        d.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// [`mac`] of two messages of equal length at once, their SHA-1 blocks alternating so that the
/// two (independent, latency-bound) SHA-NI chains overlap in the out-of-order core. An
/// experiment on what a multi-packet API could gain; not used by rec-srtp.
pub fn mac2(si: &[u32; 5], so: &[u32; 5], m: [&[u8]; 2], roc: u32) -> [[u8; 20]; 2] {
    let mut st = [*si, *si];
    let full = m[0].len() / 64 * 64;
    assert!(m[1].len() == m[0].len() && m[0].len() - full <= 51);
    for at in (0..full).step_by(64) {
        c1(&mut st[0], &m[0][at..at + 64]);
        c1(&mut st[1], &m[1][at..at + 64]);
    }
    let mut last = [[0u8; 64]; 2];
    for (l, m) in last.iter_mut().zip(m) {
        let r = &m[full..];
        l[..r.len()].copy_from_slice(r);
        l[r.len()..r.len() + 4].copy_from_slice(&roc.to_be_bytes());
        l[r.len() + 4] = 0x80;
        l[56..].copy_from_slice(&((64 + m.len() as u64 + 4) * 8).to_be_bytes());
    }
    c1(&mut st[0], &last[0]);
    c1(&mut st[1], &last[1]);
    let mut ob = [[0u8; 64]; 2];
    for (b, st) in ob.iter_mut().zip(st) {
        for (o, w) in b.chunks_exact_mut(4).zip(st) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        b[20] = 0x80;
        b[56..].copy_from_slice(&(84u64 * 8).to_be_bytes());
    }
    let mut o = [*so, *so];
    c1(&mut o[0], &ob[0]);
    c1(&mut o[1], &ob[1]);
    let mut out = [[0u8; 20]; 2];
    for (out, o) in out.iter_mut().zip(o) {
        for (d, w) in out.chunks_exact_mut(4).zip(o) {
            d.copy_from_slice(&w.to_be_bytes());
        }
    }
    out
}

/// XORs `data` (at most 256 bytes) with the AES-128-CTR keystream from counter block `iv`.
pub fn ctr(aes: &Aes128, iv: &[u8; 16], data: &mut [u8]) {
    let mut ks = [Block::default(); 16];
    let n = data.len().div_ceil(16);
    let base = u128::from_be_bytes(*iv);
    for (i, b) in ks[..n].iter_mut().enumerate() {
        *b = Block::from(base.wrapping_add(i as u128).to_be_bytes());
    }
    aes.encrypt_blocks(&mut ks[..n]);
    for (d, k) in data.chunks_mut(16).zip(&ks) {
        for (x, y) in d.iter_mut().zip(k) {
            *x ^= y;
        }
    }
}
