//! Session keys (RFC 3711 §4.3 key derivation, KDR 0) and the per-packet transforms.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Aes256, Block};
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadCore, AeadInPlace};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Tag};

type Nonce = aes_gcm::Nonce<U12>;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::hmac_sha1::{self, HmacSha1};
use crate::params::{MasterKey, Mki, Suite};

/// AES block cipher with a fixed, pre-expanded key.
#[derive(Clone)]
pub(crate) enum AesKey {
    A128(Box<Aes128>),
    A256(Box<Aes256>),
}

impl AesKey {
    pub(crate) fn new(key: &[u8]) -> AesKey {
        match key.len() {
            16 => AesKey::A128(Box::new(Aes128::new(key.into()))),
            _ => AesKey::A256(Box::new(Aes256::new(key.into()))),
        }
    }

    /// Encrypts counter blocks `ctr`, `ctr + 1`, … into `out` (the keystream).
    #[inline]
    fn keystream(&self, ctr: u128, out: &mut [Block]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = Block::from(ctr.wrapping_add(i as u128).to_be_bytes());
        }
        match self {
            AesKey::A128(c) => c.encrypt_blocks(out),
            AesKey::A256(c) => c.encrypt_blocks(out),
        }
    }

    /// XORs `data` with the AES counter-mode keystream starting at counter block `iv`.
    #[inline]
    pub(crate) fn ctr_xor(&self, iv: &[u8; 16], data: &mut [u8]) {
        let mut ctr = u128::from_be_bytes(*iv);
        const PAR: usize = 16;
        let mut blocks = [Block::default(); PAR];
        for chunk in data.chunks_mut(16 * PAR) {
            let nb = chunk.len().div_ceil(16);
            self.keystream(ctr, &mut blocks[..nb]);
            ctr = ctr.wrapping_add(nb as u128);
            xor_blocks(chunk, &blocks[..nb]);
        }
        // The keystream left in `blocks` is not zeroized: XORed with the ciphertext it only
        // yields the plaintext, which the caller's buffer holds anyway.
    }
}

/// `data ^= keystream` (`keys` has at least `data.len() / 16` rounded up blocks).
#[inline(always)]
fn xor_blocks(data: &mut [u8], keys: &[Block]) {
    let mut whole = data.chunks_exact_mut(16);
    let mut keys = keys.iter();
    for (d, k) in (&mut whole).zip(&mut keys) {
        for (x, y) in d.iter_mut().zip(k.iter()) {
            *x ^= y;
        }
    }
    if let Some(k) = keys.next() {
        for (x, y) in whole.into_remainder().iter_mut().zip(k.iter()) {
            *x ^= y;
        }
    }
}

/// RFC 3711 §4.3.1 PRF with KDR 0: AES-CM keyed by the master key, IV = (salt ^ label<<48) << 16.
/// For the GCM suites the 12-byte master salt is zero-padded to 112 bits (RFC 7714 §11).
pub(crate) fn derive(master: &MasterKey, label: u8, out: &mut [u8]) {
    let prf = AesKey::new(master.key());
    let mut iv = [0u8; 16];
    iv[..master.salt().len()].copy_from_slice(master.salt());
    iv[7] ^= label;
    out.fill(0);
    prf.ctr_xor(&iv, out);
}

/// Transform for one packet kind (SRTP or SRTCP) of one master key.
#[derive(Clone)]
pub(crate) enum Transform {
    Cm {
        aes: AesKey,
        salt: [u8; 14],
        mac: HmacSha1,
        tag_len: usize,
    },
    Gcm128 {
        aead: Box<Aes128Gcm>,
        salt: [u8; 12],
    },
    Gcm256 {
        aead: Box<Aes256Gcm>,
        salt: [u8; 12],
    },
}

impl Drop for Transform {
    fn drop(&mut self) {
        match self {
            Transform::Cm { salt, .. } => salt.zeroize(),
            Transform::Gcm128 { salt, .. } | Transform::Gcm256 { salt, .. } => salt.zeroize(),
        }
    }
}

impl Transform {
    fn new(suite: Suite, master: &MasterKey, labels: [u8; 3], tag_len: usize) -> Transform {
        let kl = suite.key_len();
        let sl = suite.salt_len();
        let mut k = [0u8; 32];
        let mut a = [0u8; 20];
        let mut salt = [0u8; 14];
        derive(master, labels[0], &mut k[..kl]);
        derive(master, labels[1], &mut a);
        derive(master, labels[2], &mut salt[..sl]);
        let t = Transform::from_session(suite, &k[..kl], &a, &salt[..sl], tag_len);
        k.zeroize();
        a.zeroize();
        salt.zeroize();
        t
    }

    /// Builds a transform from already-derived session keys (`auth` is ignored for GCM).
    pub(crate) fn from_session(
        suite: Suite,
        key: &[u8],
        auth: &[u8],
        salt: &[u8],
        tag_len: usize,
    ) -> Transform {
        if suite.is_aead() {
            let mut s = [0u8; 12];
            s.copy_from_slice(salt);
            if key.len() == 16 {
                Transform::Gcm128 {
                    aead: Box::new(Aes128Gcm::new(key.into())),
                    salt: s,
                }
            } else {
                Transform::Gcm256 {
                    aead: Box::new(Aes256Gcm::new(key.into())),
                    salt: s,
                }
            }
        } else {
            let mut s = [0u8; 14];
            s.copy_from_slice(salt);
            let mac = HmacSha1::new(auth);
            Transform::Cm {
                aes: AesKey::new(key),
                salt: s,
                mac,
                tag_len,
            }
        }
    }

    fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(salt);
        for (a, b) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *a ^= b;
        }
        for (a, b) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *a ^= b;
        }
        iv
    }

    fn gcm_iv(salt: &[u8; 12], ssrc: u32, hi: u32, lo: u16) -> [u8; 12] {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..10].copy_from_slice(&hi.to_be_bytes());
        iv[10..12].copy_from_slice(&lo.to_be_bytes());
        for (a, b) in iv.iter_mut().zip(salt) {
            *a ^= b;
        }
        iv
    }

    /// HMAC-SHA1 over `parts` concatenated, compared in constant time with `tag`.
    fn hmac_ok(mac: &HmacSha1, parts: [&[u8]; 2], tag: &[u8]) -> bool {
        let full = mac.mac(parts[0], parts[1]);
        tag_eq(&full[..tag.len()], tag)
    }

    fn hmac_tag(mac: &HmacSha1, parts: [&[u8]; 2], out: &mut [u8]) {
        let full = mac.mac(parts[0], parts[1]);
        out.copy_from_slice(&full[..out.len()]);
    }

    /// Authenticates then decrypts an SRTP packet in place. `pkt` = header|payload|MKI|tag with
    /// `hlen` header bytes; `body_end` = end of the encrypted payload (AES-CM) or of payload+tag
    /// (GCM); `tag` range for AES-CM starts after the MKI. Returns false (buffer untouched) when
    /// the tag does not verify for this `roc`.
    #[allow(clippy::too_many_arguments)] // private hot-path helper: plain offsets, no struct
    pub(crate) fn open_rtp(
        &self,
        pkt: &mut [u8],
        hlen: usize,
        body_end: usize,
        tag_start: usize,
        ssrc: u32,
        seq: u16,
        roc: u32,
    ) -> bool {
        match self {
            Transform::Cm {
                aes,
                salt,
                mac,
                tag_len,
            } => {
                let tag = &pkt[tag_start..tag_start + tag_len];
                if !Self::hmac_ok(mac, [&pkt[..body_end], &roc.to_be_bytes()], tag) {
                    return false;
                }
                let index = (u64::from(roc) << 16) | u64::from(seq);
                aes.ctr_xor(&Self::cm_iv(salt, ssrc, index), &mut pkt[hlen..body_end]);
                true
            }
            Transform::Gcm128 { aead, salt } => {
                let iv = Self::gcm_iv(salt, ssrc, roc, seq);
                gcm_open(&**aead, &iv, pkt, hlen, body_end)
            }
            Transform::Gcm256 { aead, salt } => {
                let iv = Self::gcm_iv(salt, ssrc, roc, seq);
                gcm_open(&**aead, &iv, pkt, hlen, body_end)
            }
        }
    }

    /// AES-CM only: verifies the tags of two SRTP packets at once (their HMAC-SHA1 computed
    /// together, see [`hmac_sha1::mac2`]), each `pkt[i][..body_end[i]] | ROC` against
    /// `pkt[i][tag_start[i]..]`. None when either transform is not AES-CM.
    pub(crate) fn verify_rtp_pair(
        t: [&Transform; 2],
        pkt: [&[u8]; 2],
        body_end: [usize; 2],
        tag_start: [usize; 2],
        roc: [u32; 2],
    ) -> Option<[bool; 2]> {
        let (
            Transform::Cm {
                mac: m0,
                tag_len: l0,
                ..
            },
            Transform::Cm {
                mac: m1,
                tag_len: l1,
                ..
            },
        ) = (t[0], t[1])
        else {
            return None;
        };
        let (r0, r1) = (roc[0].to_be_bytes(), roc[1].to_be_bytes());
        let full = hmac_sha1::mac2(
            [m0, m1],
            [&pkt[0][..body_end[0]], &pkt[1][..body_end[1]]],
            [&r0, &r1],
        );
        Some([
            tag_eq(&full[0][..*l0], &pkt[0][tag_start[0]..tag_start[0] + l0]),
            tag_eq(&full[1][..*l1], &pkt[1][tag_start[1]..tag_start[1] + l1]),
        ])
    }

    /// AES-CM only (no-op otherwise): decrypts the payload `pkt[hlen..body_end]` of a packet
    /// whose tag was verified by [`Self::verify_rtp_pair`].
    pub(crate) fn decrypt_cm_payload(
        &self,
        pkt: &mut [u8],
        hlen: usize,
        body_end: usize,
        ssrc: u32,
        index: u64,
    ) {
        if let Transform::Cm { aes, salt, .. } = self {
            aes.ctr_xor(&Self::cm_iv(salt, ssrc, index), &mut pkt[hlen..body_end]);
        }
    }

    /// Encrypts `pkt[hlen..]` in place and appends `MKI|tag` (AES-CM) or `tag|MKI` (GCM).
    pub(crate) fn seal_rtp(
        &self,
        pkt: &mut Vec<u8>,
        hlen: usize,
        ssrc: u32,
        seq: u16,
        roc: u32,
        mki: Option<&Mki>,
    ) {
        let mki = mki.map(|m| m.as_bytes()).unwrap_or(&[]);
        match self {
            Transform::Cm {
                aes,
                salt,
                mac,
                tag_len,
            } => {
                let index = (u64::from(roc) << 16) | u64::from(seq);
                aes.ctr_xor(&Self::cm_iv(salt, ssrc, index), &mut pkt[hlen..]);
                let body_end = pkt.len();
                pkt.extend_from_slice(mki);
                let mut tag = [0u8; 10];
                Self::hmac_tag(
                    mac,
                    [&pkt[..body_end], &roc.to_be_bytes()],
                    &mut tag[..*tag_len],
                );
                pkt.extend_from_slice(&tag[..*tag_len]);
            }
            Transform::Gcm128 { aead, salt } => {
                let iv = Self::gcm_iv(salt, ssrc, roc, seq);
                gcm_seal(&**aead, &iv, pkt, hlen);
                pkt.extend_from_slice(mki);
            }
            Transform::Gcm256 { aead, salt } => {
                let iv = Self::gcm_iv(salt, ssrc, roc, seq);
                gcm_seal(&**aead, &iv, pkt, hlen);
                pkt.extend_from_slice(mki);
            }
        }
    }

    /// Authenticates then decrypts an SRTCP packet in place. `trailer` = offset of the
    /// `E|index` word; `tag_start` = offset of the tag. Returns the plain packet length.
    pub(crate) fn open_rtcp(
        &self,
        pkt: &mut [u8],
        trailer: usize,
        tag_start: usize,
        ssrc: u32,
    ) -> Option<usize> {
        let ew = u32::from_be_bytes([
            pkt[trailer],
            pkt[trailer + 1],
            pkt[trailer + 2],
            pkt[trailer + 3],
        ]);
        let encrypted = ew & 0x8000_0000 != 0;
        let index = ew & 0x7fff_ffff;
        match self {
            Transform::Cm {
                aes,
                salt,
                mac,
                tag_len,
            } => {
                let tag = &pkt[tag_start..tag_start + tag_len];
                if !Self::hmac_ok(mac, [&pkt[..trailer + 4], &[]], tag) {
                    return None;
                }
                if encrypted {
                    let iv = Self::cm_iv(salt, ssrc, u64::from(index));
                    aes.ctr_xor(&iv, &mut pkt[8..trailer]);
                }
                Some(trailer)
            }
            Transform::Gcm128 { aead, salt } => {
                let iv = Self::gcm_iv(salt, ssrc, 0, 0);
                let iv = gcm_rtcp_iv(iv, index);
                gcm_open_rtcp(&**aead, &iv, pkt, trailer, encrypted)
            }
            Transform::Gcm256 { aead, salt } => {
                let iv = Self::gcm_iv(salt, ssrc, 0, 0);
                let iv = gcm_rtcp_iv(iv, index);
                gcm_open_rtcp(&**aead, &iv, pkt, trailer, encrypted)
            }
        }
    }

    /// Encrypts the compound packet in place and appends the trailer for SRTCP index `index`.
    pub(crate) fn seal_rtcp(&self, pkt: &mut Vec<u8>, ssrc: u32, index: u32, mki: Option<&Mki>) {
        let mki = mki.map(|m| m.as_bytes()).unwrap_or(&[]);
        let ew = (0x8000_0000 | index).to_be_bytes();
        match self {
            Transform::Cm {
                aes,
                salt,
                mac,
                tag_len,
            } => {
                aes.ctr_xor(&Self::cm_iv(salt, ssrc, u64::from(index)), &mut pkt[8..]);
                pkt.extend_from_slice(&ew);
                let auth_end = pkt.len();
                pkt.extend_from_slice(mki);
                let mut tag = [0u8; 10];
                Self::hmac_tag(mac, [&pkt[..auth_end], &[]], &mut tag[..*tag_len]);
                pkt.extend_from_slice(&tag[..*tag_len]);
            }
            Transform::Gcm128 { aead, salt } => {
                let iv = gcm_rtcp_iv(Self::gcm_iv(salt, ssrc, 0, 0), index);
                gcm_seal_rtcp(&**aead, &iv, pkt, ew);
                pkt.extend_from_slice(mki);
            }
            Transform::Gcm256 { aead, salt } => {
                let iv = gcm_rtcp_iv(Self::gcm_iv(salt, ssrc, 0, 0), index);
                gcm_seal_rtcp(&**aead, &iv, pkt, ew);
                pkt.extend_from_slice(mki);
            }
        }
    }
}

/// Constant-time comparison of two tags of at most 16 bytes and equal length.
#[inline(always)]
fn tag_eq(a: &[u8], b: &[u8]) -> bool {
    let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
    x[..a.len()].copy_from_slice(a);
    y[..b.len()].copy_from_slice(b);
    a.len() == b.len() && bool::from(u128::from_ne_bytes(x).ct_eq(&u128::from_ne_bytes(y)))
}

/// RFC 7714 §9.1 SRTCP IV: `00 00 | SSRC | 00 00 | 0 | index(31)` XOR salt; `iv` already holds
/// salt XOR SSRC.
fn gcm_rtcp_iv(mut iv: [u8; 12], index: u32) -> [u8; 12] {
    for (a, b) in iv[8..12].iter_mut().zip(index.to_be_bytes()) {
        *a ^= b;
    }
    iv
}

fn gcm_open<A: AeadInPlace + AeadCore<NonceSize = U12, TagSize = U16>>(
    aead: &A,
    iv: &[u8; 12],
    pkt: &mut [u8],
    hlen: usize,
    body_end: usize,
) -> bool {
    let (head, rest) = pkt.split_at_mut(hlen);
    let (ct, tag) = rest[..body_end - hlen].split_at_mut(body_end - hlen - 16);
    let tag = Tag::clone_from_slice(tag);
    aead.decrypt_in_place_detached(Nonce::from_slice(iv), head, ct, &tag)
        .is_ok()
}

fn gcm_seal<A: AeadInPlace + AeadCore<NonceSize = U12, TagSize = U16>>(
    aead: &A,
    iv: &[u8; 12],
    pkt: &mut Vec<u8>,
    hlen: usize,
) {
    let (head, body) = pkt.split_at_mut(hlen);
    let tag = aead
        .encrypt_in_place_detached(Nonce::from_slice(iv), head, body)
        .expect("GCM input below the size limit");
    pkt.extend_from_slice(&tag);
}

fn gcm_open_rtcp<A: AeadInPlace + AeadCore<NonceSize = U12, TagSize = U16>>(
    aead: &A,
    iv: &[u8; 12],
    pkt: &mut [u8],
    trailer: usize,
    encrypted: bool,
) -> Option<usize> {
    let tag_at = trailer - 16;
    let tag = Tag::clone_from_slice(&pkt[tag_at..trailer]);
    let mut ew = [0u8; 4];
    ew.copy_from_slice(&pkt[trailer..trailer + 4]);
    if encrypted {
        // AAD = 8-byte header | E+index (RFC 7714 §9.2).
        let mut aad = [0u8; 12];
        aad[..8].copy_from_slice(&pkt[..8]);
        aad[8..].copy_from_slice(&ew);
        let ct = &mut pkt[8..tag_at];
        aead.decrypt_in_place_detached(Nonce::from_slice(iv), &aad, ct, &tag)
            .ok()
            .map(|()| tag_at)
    } else {
        // AAD = whole packet | E+index, empty plaintext: move E+index next to the packet
        // (over the tag, already copied), verify, then restore the trailer.
        pkt[tag_at..tag_at + 4].copy_from_slice(&ew);
        let ok = aead
            .decrypt_in_place_detached(Nonce::from_slice(iv), &pkt[..tag_at + 4], &mut [], &tag)
            .is_ok();
        pkt[tag_at..trailer].copy_from_slice(&tag);
        ok.then_some(tag_at)
    }
}

fn gcm_seal_rtcp<A: AeadInPlace + AeadCore<NonceSize = U12, TagSize = U16>>(
    aead: &A,
    iv: &[u8; 12],
    pkt: &mut Vec<u8>,
    ew: [u8; 4],
) {
    let mut aad = [0u8; 12];
    aad[..8].copy_from_slice(&pkt[..8]);
    aad[8..].copy_from_slice(&ew);
    let tag = aead
        .encrypt_in_place_detached(Nonce::from_slice(iv), &aad, &mut pkt[8..])
        .expect("GCM input below the size limit");
    pkt.extend_from_slice(&tag);
    pkt.extend_from_slice(&ew);
}

/// All session keys derived from one master key.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    pub(crate) mki: Option<Mki>,
    pub(crate) rtp: Transform,
    pub(crate) rtcp: Transform,
}

impl SessionKeys {
    pub(crate) fn new(suite: Suite, master: &MasterKey) -> SessionKeys {
        SessionKeys {
            mki: master.mki(),
            rtp: Transform::new(suite, master, [0, 1, 2], suite.rtp_tag_len()),
            rtcp: Transform::new(suite, master, [3, 4, 5], suite.rtcp_tag_len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn master(suite: Suite, key: &str, salt: &str) -> MasterKey {
        let mut ks = hex(key);
        ks.extend(hex(salt));
        MasterKey::from_bytes(suite, &ks, None).unwrap()
    }

    fn d(m: &MasterKey, label: u8, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        derive(m, label, &mut out);
        out
    }

    /// RFC 3711 Appendix B.3 (also pion-srtp key_derivation_test.go TestValidSessionKeys_AesCm128).
    #[test]
    fn kdf_rfc3711_b3() {
        let m = master(
            Suite::AesCm128HmacSha1_80,
            "E1F97A0D3E018BE0D64FA32C06DE4139",
            "0EC675AD498AFEEBB6960B3AABE6",
        );
        assert_eq!(d(&m, 0, 16), hex("C61E7A93744F39EE10734AFE3FF7A087"));
        assert_eq!(d(&m, 2, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));
        assert_eq!(
            d(&m, 1, 20),
            hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")
        );
    }

    /// RFC 6188 §7.4 AES-256 KDF (pion-srtp key_derivation_test.go TestValidSessionKeys_AesCm256).
    #[test]
    fn kdf_rfc6188() {
        let m = master(
            Suite::AesCm256HmacSha1_80,
            "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
            "3b04803de51ee7c96423ab5b78d2",
        );
        assert_eq!(
            d(&m, 0, 32),
            hex("5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4")
        );
        assert_eq!(d(&m, 2, 14), hex("fa31791685ca444a9e07c6c64e93"));
        assert_eq!(
            d(&m, 1, 20),
            hex("fd9c32d39ed5fbb5a9dc96b30818454d1313dc05")
        );
    }

    /// RFC 3711 B.2 and RFC 6188 §7.1 keystreams (pion-srtp
    /// srtp_cipher_aes_cm_hmac_sha1_rfc_test.go): encrypting zeros yields the keystream.
    #[test]
    fn keystream_rfc3711_b2_and_rfc6188_7_1() {
        let cases = [
            (
                "2B7E151628AED2A6ABF7158809CF4F3C",
                "E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0",
            ),
            (
                "57f82fe3613fd170a85ec93c40b1f0922ec4cb0dc025b58272147cc438944a98",
                "92bdd28a93c3f52511c677d08b5515a49da71b2378a854f67050756ded165bac63c4868b7096d88421b563b8c94c9a31",
            ),
        ];
        for (key, ks) in cases {
            let aes = AesKey::new(&hex(key));
            let mut iv = [0u8; 16];
            iv[..14].copy_from_slice(&hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"));
            let mut buf = vec![0u8; 48];
            aes.ctr_xor(&iv, &mut buf);
            assert_eq!(buf, hex(ks));
            // Through the packet transform: SSRC 0, seq 0, ROC 0 gives the same IV.
            let t = Transform::from_session(
                if key.len() == 32 {
                    Suite::AesCm128HmacSha1_80
                } else {
                    Suite::AesCm256HmacSha1_80
                },
                &hex(key),
                &[0u8; 20],
                &hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
                10,
            );
            let mut pkt = hex("800f0000decafbad00000000");
            pkt.extend([0u8; 48]);
            t.seal_rtp(&mut pkt, 12, 0, 0, 0, None);
            assert_eq!(&pkt[12..60], &hex(ks)[..]);
        }
    }

    /// RFC 7714 §16 (RTP) and §17 (RTCP) vectors, as transcribed in pion-srtp
    /// srtp_cipher_aead_aes_gcm_rfc_test.go (session keys given directly).
    #[test]
    fn gcm_rfc7714_vectors() {
        let rtp_plain = hex("8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573");
        let rtcp_plain = hex("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
        let cases = [
            (
                Suite::AeadAes128Gcm,
                "000102030405060708090a0b0c0d0e0f",
                "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce",
                "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4",
                "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4",
            ),
            (
                Suite::AeadAes256Gcm,
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
                "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4",
                "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef91db4afbfeee5a978fab4393ed2615fe000005d4",
            ),
        ];
        for (suite, key, rtp_enc, rtcp_enc, rtcp_auth) in cases {
            let salt = hex("517569642070726f2071756f");
            let t = Transform::from_session(suite, &hex(key), &[], &salt, 16);
            // RTP seal/open (ROC 0).
            let mut pkt = rtp_plain.clone();
            t.seal_rtp(&mut pkt, 12, 0x5501a0b2, 0xf17b, 0, None);
            assert_eq!(pkt, hex(rtp_enc), "{suite} RTP encrypt");
            let n = pkt.len();
            assert!(t.open_rtp(&mut pkt, 12, n, n - 16, 0x5501a0b2, 0xf17b, 0));
            assert_eq!(&pkt[..n - 16], &rtp_plain[..], "{suite} RTP decrypt");
            // RTCP encrypted, index 0x5d4.
            let mut pkt = rtcp_plain.clone();
            t.seal_rtcp(&mut pkt, 0x4d617273, 0x5d4, None);
            assert_eq!(pkt, hex(rtcp_enc), "{suite} RTCP encrypt");
            let n = pkt.len();
            assert_eq!(
                t.open_rtcp(&mut pkt, n - 4, n - 20, 0x4d617273),
                Some(n - 20)
            );
            assert_eq!(&pkt[..n - 20], &rtcp_plain[..]);
            // RTCP authenticated only (E = 0).
            let mut pkt = hex(rtcp_auth);
            let n = pkt.len();
            assert_eq!(
                t.open_rtcp(&mut pkt, n - 4, n - 20, 0x4d617273),
                Some(n - 20)
            );
            assert_eq!(&pkt[..n - 20], &rtcp_plain[..]);
            pkt[9] ^= 1;
            assert_eq!(t.open_rtcp(&mut pkt, n - 4, n - 20, 0x4d617273), None);
        }
    }
}
