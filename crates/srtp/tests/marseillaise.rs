//! Whole-capture test: gteissier/srtp-decrypt `marseillaise-srtp.pcap` decrypts completely and its
//! A-law audio equals `derived_expected_pcma_decoded.wav` (pylibsrtp + sox, see MANIFEST.txt).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rec_srtp::{Error, KeyParams, SrtpContext};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/srtp/srtp-decrypt/"
);
const KEY: &str = "inline:aSBrbm93IGFsbCB5b3VyIGxpdHRsZSBzZWNyZXRz";

/// UDP payloads of a classic little-endian pcap with Ethernet/IPv4/UDP frames
/// (`capinfos`: Ethernet, 11888 packets; file header magic d4c3b2a1, linktype 1).
fn udp_payloads(pcap: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    assert_eq!(
        u32::from_le_bytes(pcap[20..24].try_into().unwrap()),
        1,
        "Ethernet"
    );
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= pcap.len() {
        let incl = u32::from_le_bytes(pcap[off + 8..off + 12].try_into().unwrap()) as usize;
        let frame = &pcap[off + 16..off + 16 + incl];
        off += 16 + incl;
        assert_eq!(&frame[12..14], &[0x08, 0x00], "IPv4 ethertype");
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        assert_eq!(ip[9], 17, "UDP");
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let udp = &ip[ihl..total];
        let ulen = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        out.push(udp[8..ulen].to_vec());
    }
    out
}

/// ITU-T G.711 A-law expansion (the classic `alaw2linear`).
fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = i16::from(a & 0x0f) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 {
        t
    } else {
        -t
    }
}

/// Samples of a plain RIFF/WAVE PCM16 mono file.
fn wav_samples(wav: &[u8]) -> Vec<i16> {
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let mut off = 12;
    while off + 8 <= wav.len() {
        let id = &wav[off..off + 4];
        let len = u32::from_le_bytes(wav[off + 4..off + 8].try_into().unwrap()) as usize;
        let body = &wav[off + 8..off + 8 + len];
        if id == b"fmt " {
            assert_eq!(u16::from_le_bytes([body[0], body[1]]), 1, "PCM");
            assert_eq!(u16::from_le_bytes([body[2], body[3]]), 1, "mono");
            assert_eq!(u32::from_le_bytes(body[4..8].try_into().unwrap()), 8000);
            assert_eq!(u16::from_le_bytes([body[14], body[15]]), 16);
        }
        if id == b"data" {
            return body
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        off += 8 + len + (len & 1);
    }
    panic!("no data chunk");
}

#[test]
fn marseillaise_decrypts_completely_and_matches_reference_audio() {
    let pcap = std::fs::read(format!("{DIR}marseillaise-srtp.pcap")).unwrap();
    let expected =
        wav_samples(&std::fs::read(format!("{DIR}derived_expected_pcma_decoded.wav")).unwrap());
    let packets = udp_payloads(&pcap);
    assert_eq!(packets.len(), 11888);
    let mut ctx = SrtpContext::new(KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", KEY).unwrap());
    let mut audio = Vec::with_capacity(expected.len());
    for (i, mut p) in packets.into_iter().enumerate() {
        let r = ctx
            .decrypt_rtp(&mut p)
            .unwrap_or_else(|e| panic!("packet {i}: {e}"));
        assert_eq!(r.ssrc, 0xdeadbeef);
        assert_eq!(r.payload_type, 8);
        assert_eq!(r.seq as usize, i, "tshark: seq 0..11887 in order");
        assert!(!r.duplicate);
        assert_eq!(r.payload_range.len(), 160);
        audio.extend(p[r.payload_range].iter().map(|&a| alaw_to_linear(a)));
    }
    assert_eq!(audio.len(), expected.len());
    assert!(
        audio == expected,
        "decoded audio differs from the reference WAV"
    );
}

#[test]
fn marseillaise_with_wrong_key_fails_authentication_and_leaves_buffers_untouched() {
    let pcap = std::fs::read(format!("{DIR}marseillaise-srtp.pcap")).unwrap();
    let packets = udp_payloads(&pcap);
    // Same key with its last salt byte changed.
    let mut key = rec_srtp_key_bytes();
    key[29] ^= 0x01;
    let kp = format!("inline:{}", base64_encode(&key));
    let mut ctx = SrtpContext::new(KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", &kp).unwrap());
    for p in packets.iter().take(40) {
        let mut q = p.clone();
        let seq = u16::from_be_bytes([p[2], p[3]]);
        assert_eq!(
            ctx.decrypt_rtp(&mut q),
            Err(Error::AuthFailed {
                ssrc: 0xdeadbeef,
                seq
            })
        );
        assert_eq!(&q, p, "buffer untouched on failure");
    }
    assert_eq!(
        ctx.roc(0xdeadbeef),
        None,
        "no state from unauthenticated packets"
    );
}

fn rec_srtp_key_bytes() -> Vec<u8> {
    b"i know all your little secrets".to_vec()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
