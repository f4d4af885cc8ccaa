//! Helpers shared by the integration tests.
#![allow(dead_code, missing_docs)]

use base64::Engine as _;

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Builds `rec_srtp::KeyParams` through the SDES text form.
pub fn sdes(suite: &str, key_salt: &[u8], extra: &str) -> rec_srtp::KeyParams {
    rec_srtp::KeyParams::parse_sdes(suite, &format!("inline:{}{}", b64(key_salt), extra)).unwrap()
}

/// A plain RTP packet: V=2, PT 8, given seq/ts/ssrc, payload bytes derived from seq.
pub fn rtp(seq: u16, ts: u32, ssrc: u32, payload_len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload_len + 32);
    p.extend_from_slice(&[0x80, 0x08]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..payload_len).map(|i| (i as u16).wrapping_mul(31).wrapping_add(seq) as u8));
    p
}

/// A plain RTCP sender report with `extra` bytes of body.
pub fn rtcp_sr(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0x00, 0x06];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..20u8).map(|i| i.wrapping_mul(7)));
    p
}
