//! HMAC-SHA1 (RFC 2104) straight on the SHA-1 compression function (`sha1::compress`, which
//! uses SHA-NI when the CPU has it): the states after the `K^ipad` and `K^opad` blocks are
//! computed once per key, so a tag costs only the message blocks plus one outer block, with no
//! hasher object to clone. Short messages (all audio packets) are compressed in one call; two
//! messages can be MACed together ([`mac2`]) so that their SHA-1 chains overlap.

use sha1::digest::core_api::Block as Block64;
use sha1::digest::generic_array::GenericArray;
use sha1::{Digest, Sha1};
use zeroize::Zeroize;

/// SHA-1 initial state (FIPS 180-4 §5.3.1).
const IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// Messages (with padding) of up to this many blocks take [`HmacSha1::mac_short`].
const SHORT: usize = 8;

/// Compresses one 64-byte block into `st`.
#[inline(always)]
fn compress1(st: &mut [u32; 5], block: &[u8]) {
    sha1::compress(st, core::slice::from_ref(GenericArray::from_slice(block)));
}

/// Pre-keyed HMAC-SHA1.
#[derive(Clone)]
pub(crate) struct HmacSha1 {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl Drop for HmacSha1 {
    fn drop(&mut self) {
        // The pad states are key-equivalent: whoever has them can forge tags.
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl HmacSha1 {
    /// Keys the MAC (any key length; keys longer than a block are hashed first).
    pub(crate) fn new(key: &[u8]) -> HmacSha1 {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..20].copy_from_slice(&Sha1::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; 64];
        for (p, x) in pad.iter_mut().zip(&k) {
            *p = x ^ 0x36;
        }
        let mut inner = IV;
        compress1(&mut inner, &pad);
        for (p, x) in pad.iter_mut().zip(&k) {
            *p = x ^ 0x5c;
        }
        let mut outer = IV;
        compress1(&mut outer, &pad);
        k.zeroize();
        pad.zeroize();
        HmacSha1 { inner, outer }
    }

    /// Inner hash state after `K^ipad` and all whole blocks of `msg`; returns it with the
    /// unprocessed tail of `msg` (shorter than a block).
    #[inline(always)]
    fn start<'a>(&self, msg: &'a [u8]) -> ([u32; 5], &'a [u8]) {
        let mut st = self.inner;
        let mut blocks = msg.chunks_exact(64);
        for b in &mut blocks {
            compress1(&mut st, b);
        }
        (st, blocks.remainder())
    }

    /// Finishes a MAC begun with [`Self::start`]: `tail` (< 64 bytes) then `suffix` (≤ 64
    /// bytes), `total` = length of the whole message (whole blocks + tail + suffix).
    #[inline(always)]
    fn finish(&self, mut st: [u32; 5], tail: &[u8], suffix: &[u8], total: usize) -> [u8; 20] {
        let (last, end) = last_blocks(tail, suffix, total);
        for b in last[..end].chunks_exact(64) {
            compress1(&mut st, b);
        }
        self.outer_digest(st)
    }

    /// Outer hash: `K^opad` (pre-computed) | inner digest `st`.
    #[inline(always)]
    fn outer_digest(&self, st: [u32; 5]) -> [u8; 20] {
        let mut o = self.outer;
        compress1(&mut o, &outer_block(st));
        digest_bytes(o)
    }

    /// HMAC-SHA1 of `msg | suffix` (`suffix` ≤ 64 bytes: the SRTP ROC or nothing).
    #[inline]
    pub(crate) fn mac(&self, msg: &[u8], suffix: &[u8]) -> [u8; 20] {
        let total = msg.len() + suffix.len();
        if total + 9 <= SHORT * 64 {
            return self.mac_short(msg, suffix);
        }
        let (st, tail) = self.start(msg);
        self.finish(st, tail, suffix, total)
    }

    /// [`Self::mac`] for a padded message of at most [`SHORT`] blocks: copied with its padding
    /// into one block array and compressed in ONE call, so the SHA-1 state stays in registers
    /// between blocks (a call per block costs a store/reload of the state and a CPU-feature
    /// check each).
    #[inline(always)]
    fn mac_short(&self, msg: &[u8], suffix: &[u8]) -> [u8; 20] {
        let mut blocks = [Block64::<sha1::Sha1Core>::default(); SHORT];
        let total = msg.len() + suffix.len();
        let n = (total + 9).div_ceil(64);
        for (b, c) in blocks.iter_mut().zip(msg.chunks(64)) {
            b[..c.len()].copy_from_slice(c);
        }
        // The suffix (a few bytes) and the 0x80 marker may straddle a block boundary.
        for (i, &x) in suffix.iter().chain(&[0x80]).enumerate() {
            let at = msg.len() + i;
            blocks[at / 64][at % 64] = x;
        }
        let bits = (64 + total as u64) * 8;
        blocks[n - 1][56..].copy_from_slice(&bits.to_be_bytes());
        let mut st = self.inner;
        sha1::compress(&mut st, &blocks[..n]);
        self.outer_digest(st)
    }
}

/// Last padded blocks of the inner hash: `tail` (< 64 bytes) | `suffix` (≤ 64 bytes) | 0x80 |
/// zeros | bit length of the ipad block plus the `total`-byte message; returns the buffer and
/// its used length (64, 128 or 192).
#[inline(always)]
fn last_blocks(tail: &[u8], suffix: &[u8], total: usize) -> ([u8; 192], usize) {
    debug_assert!(tail.len() < 64 && suffix.len() <= 64);
    let mut last = [0u8; 192];
    let n = tail.len() + suffix.len();
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()..n].copy_from_slice(suffix);
    last[n] = 0x80;
    let end = (n + 9).div_ceil(64) * 64;
    let bits = (64 + total as u64) * 8;
    last[end - 8..end].copy_from_slice(&bits.to_be_bytes());
    (last, end)
}

/// The outer hash's only message block: inner digest | padding for 64 + 20 bytes.
#[inline(always)]
fn outer_block(st: [u32; 5]) -> [u8; 64] {
    let mut ob = [0u8; 64];
    for (o, w) in ob.chunks_exact_mut(4).zip(st) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    ob[20] = 0x80;
    ob[56..].copy_from_slice(&((64u64 + 20) * 8).to_be_bytes());
    ob
}

/// SHA-1 state as the 20-byte big-endian digest.
#[inline(always)]
fn digest_bytes(st: [u32; 5]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (d, w) in out.chunks_exact_mut(4).zip(st) {
        d.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// HMAC-SHA1 of two messages (`msg[i] | suffix[i]` under `key[i]`, suffixes ≤ 64 bytes) at
/// once. The two SHA-1 computations are independent, and their blocks are fed to the
/// compression function alternately: one SHA-NI chain is latency-bound, so the out-of-order
/// core runs the second chain in the gaps of the first (two tags cost ~1.3× one, not 2×).
pub(crate) fn mac2(key: [&HmacSha1; 2], msg: [&[u8]; 2], suffix: [&[u8]; 2]) -> [[u8; 20]; 2] {
    let mut st = [key[0].inner, key[1].inner];
    let full = [msg[0].len() / 64 * 64, msg[1].len() / 64 * 64];
    let common = full[0].min(full[1]);
    let mut at = 0;
    while at < common {
        compress1(&mut st[0], &msg[0][at..at + 64]);
        compress1(&mut st[1], &msg[1][at..at + 64]);
        at += 64;
    }
    for i in 0..2 {
        let mut at = common;
        while at < full[i] {
            compress1(&mut st[i], &msg[i][at..at + 64]);
            at += 64;
        }
    }
    let (l0, e0) = last_blocks(
        &msg[0][full[0]..],
        suffix[0],
        msg[0].len() + suffix[0].len(),
    );
    let (l1, e1) = last_blocks(
        &msg[1][full[1]..],
        suffix[1],
        msg[1].len() + suffix[1].len(),
    );
    let mut at = 0;
    while at < e0.max(e1) {
        if at < e0 {
            compress1(&mut st[0], &l0[at..at + 64]);
        }
        if at < e1 {
            compress1(&mut st[1], &l1[at..at + 64]);
        }
        at += 64;
    }
    let mut o = [key[0].outer, key[1].outer];
    let ob = [outer_block(st[0]), outer_block(st[1])];
    compress1(&mut o[0], &ob[0]);
    compress1(&mut o[1], &ob[1]);
    [digest_bytes(o[0]), digest_bytes(o[1])]
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn reference(key: &[u8], msg: &[u8], suffix: &[u8]) -> [u8; 20] {
        let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key).unwrap();
        m.update(msg);
        m.update(suffix);
        m.finalize().into_bytes().into()
    }

    /// RFC 2202 §3 test cases 1, 2 and 6 (short key, "Jefe", 80-byte key hashed first).
    #[test]
    fn rfc2202_vectors() {
        let h = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let m = HmacSha1::new(&[0x0b; 20]).mac(b"Hi There", &[]);
        assert_eq!(m.to_vec(), h("b617318655057264e28bc0b6fb378c8ef146be00"));
        let m = HmacSha1::new(b"Jefe").mac(b"what do ya want ", b"for nothing?");
        assert_eq!(m.to_vec(), h("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
        let m = HmacSha1::new(&[0xaa; 80]).mac(
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            &[],
        );
        assert_eq!(m.to_vec(), h("aa4ae5e15272d00e95705637ce8a3b55ed402112"));
    }

    /// Two-message MAC: every pair of lengths in a range covering 1–4 blocks each, with
    /// different keys and suffixes, equals two single MACs.
    #[test]
    fn mac2_equals_two_single_macs() {
        let (k1, k2) = (HmacSha1::new(&[7u8; 20]), HmacSha1::new(b"another key"));
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 1) as u8).collect();
        for la in (0..=250).step_by(7) {
            for lb in (0..=250).step_by(11) {
                let (a, b) = (&data[..la], &data[40..40 + lb]);
                let got = mac2([&k1, &k2], [a, b], [&[1, 2, 3, 4], &[]]);
                assert_eq!(got[0], k1.mac(a, &[1, 2, 3, 4]), "{la} {lb}");
                assert_eq!(got[1], k2.mac(b, &[]), "{la} {lb}");
                assert_eq!(got[0], reference(&[7u8; 20], a, &[1, 2, 3, 4]));
            }
        }
    }

    /// Every message length 0..=700 with suffixes of 0, 4 and 64 bytes (one, two and three
    /// final blocks; the one-call path up to 8 blocks and the block-by-block path beyond)
    /// agrees with the `hmac` crate.
    #[test]
    fn agrees_with_hmac_crate_for_all_lengths() {
        let key: Vec<u8> = (0..20u8).collect();
        let mac = HmacSha1::new(&key);
        let data: Vec<u8> = (0..800u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..=700 {
            for sl in [0, 4, 64] {
                let (msg, suffix) = (&data[..len], &data[710..710 + sl]);
                assert_eq!(
                    mac.mac(msg, suffix),
                    reference(&key, msg, suffix),
                    "len {len} suffix {sl}"
                );
            }
        }
    }
}
