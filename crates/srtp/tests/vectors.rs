//! Known-answer tests transcribed from libsrtp's `srtp_driver.c` (BSD-3-Clause, copy in
//! ../shared/testdata/srtp/libsrtp) and SDES key-parameter parsing.

mod common;
use common::{b64, hex, sdes};
use rec_srtp::{Error, KeyParams, SrtpContext, Suite};

// libsrtp srtp_driver.c `test_key` (30 of 46 bytes used by the 128-bit suites).
const TEST_KEY: &str =
    "e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6c173c317f2dabe357793b6960b3aabe6";
// libsrtp srtp_driver.c `test_key_2`.
const TEST_KEY_2: &str =
    "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6c317f2dabe357793b6960b3aabe6";

const RTP_PLAIN: &str = "800f1234decafbadcafebabeabababababababababababababababab";
const RTCP_PLAIN: &str = "81c8000bcafebabeabababababababababababababababab";

fn check_rtp(ctx_tx: &mut SrtpContext, ctx_rx: &mut SrtpContext, plain: &str, cipher: &str) {
    let mut p = hex(plain);
    ctx_tx.encrypt_rtp(&mut p).unwrap();
    assert_eq!(p, hex(cipher), "SRTP protect");
    let r = ctx_rx.decrypt_rtp(&mut p).unwrap();
    assert_eq!(&p[..r.packet_len], &hex(plain)[..], "SRTP unprotect");
    assert_eq!(r.payload_range, 12..hex(plain).len());
    assert_eq!((r.ssrc, r.seq, r.roc), (0xcafebabe, 0x1234, 0));
}

fn check_rtcp(ctx_tx: &mut SrtpContext, ctx_rx: &mut SrtpContext, plain: &str, cipher: &str) {
    let mut p = hex(plain);
    let idx = ctx_tx.encrypt_rtcp(&mut p).unwrap();
    assert_eq!(idx, 1);
    assert_eq!(p, hex(cipher), "SRTCP protect");
    let r = ctx_rx.decrypt_rtcp(&mut p).unwrap();
    assert_eq!(&p[..r.packet_len], &hex(plain)[..], "SRTCP unprotect");
    assert_eq!((r.ssrc, r.index, r.encrypted), (0xcafebabe, 1, true));
}

/// libsrtp srtp_validate(): default policy AES_CM_128_HMAC_SHA1_80.
#[test]
fn libsrtp_validate() {
    let k = sdes("AES_CM_128_HMAC_SHA1_80", &hex(TEST_KEY)[..30], "");
    let (mut tx, mut rx) = (SrtpContext::new(k.clone()), SrtpContext::new(k));
    check_rtp(
        &mut tx,
        &mut rx,
        RTP_PLAIN,
        "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb",
    );
    check_rtcp(
        &mut tx,
        &mut rx,
        RTCP_PLAIN,
        "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798",
    );
}

/// libsrtp srtp_validate_mki(): two master keys with 4-byte MKIs e1f97a0d / f3a14671, the
/// first used to protect. Packet = header | payload | MKI | tag.
#[test]
fn libsrtp_validate_mki() {
    let kp = format!(
        "inline:{}|2^31|3791223309:4;inline:{}|2^31|4087432817:4",
        b64(&hex(TEST_KEY)[..30]),
        b64(&hex(TEST_KEY_2)[..30])
    );
    let k = KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", &kp).unwrap();
    assert_eq!(k.keys().len(), 2);
    assert_eq!(k.keys()[0].mki().unwrap().as_bytes(), &hex("e1f97a0d")[..]);
    assert_eq!(k.keys()[0].lifetime(), Some(1 << 31));
    let (mut tx, mut rx) = (SrtpContext::new(k.clone()), SrtpContext::new(k));
    check_rtp(
        &mut tx,
        &mut rx,
        RTP_PLAIN,
        "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402e1f97a0db78d6acc99ea179b8dbb",
    );
    check_rtcp(
        &mut tx,
        &mut rx,
        RTCP_PLAIN,
        "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001e1f97a0d993e08cd54d6c1230798",
    );
    // A packet carrying an MKI of neither key is reported as such.
    let mut p =
        hex("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402aabbccddb78d6acc99ea179b8dbb");
    assert_eq!(
        rx.decrypt_rtp(&mut p),
        Err(Error::UnknownMki { ssrc: 0xcafebabe })
    );
}

/// libsrtp srtp_validate_gcm(): AEAD_AES_128_GCM with `test_key_gcm` (16-byte key, 12-byte salt).
#[test]
fn libsrtp_validate_gcm() {
    let key = hex("000102030405060708090a0b0c0d0e0fa0a1a2a3a4a5a6a7a8a9aaab");
    let k = sdes("AEAD_AES_128_GCM", &key, "");
    let (mut tx, mut rx) = (SrtpContext::new(k.clone()), SrtpContext::new(k));
    check_rtp(
        &mut tx,
        &mut rx,
        RTP_PLAIN,
        "800f1234decafbadcafebabec5002ede04cfdd2eb91159e0880aa06ed2976826f796b201df3131a127e8a392",
    );
    check_rtcp(
        &mut tx,
        &mut rx,
        RTCP_PLAIN,
        "81c8000bcafebabec98b8b5df0392a55852b6c21ac8e7025c52c6fbea2b3b446ea31123ba88ce61e80000001",
    );
}

/// libsrtp srtp_validate_aes_256() (RFC 6188 §7.4 key): AES_256_CM_HMAC_SHA1_80.
#[test]
fn libsrtp_validate_aes_256() {
    let key = hex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b63b04803de51ee7c96423ab5b78d2");
    let k = sdes("AES_256_CM_HMAC_SHA1_80", &key, "");
    let (mut tx, mut rx) = (SrtpContext::new(k.clone()), SrtpContext::new(k));
    check_rtp(
        &mut tx,
        &mut rx,
        RTP_PLAIN,
        "800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da08d9d9a5b3a55d8873b",
    );
}

#[test]
fn sdes_parsing_accepts_lync_form_and_unpadded_base64() {
    // 30 bytes -> 40 base64 chars, no padding needed; 46-byte AES-256 key -> needs "==".
    let key30: Vec<u8> = (0u8..30).collect();
    let k = KeyParams::parse_sdes(
        "AES_CM_128_HMAC_SHA1_80",
        &format!("inline:{}|2^31|1:1", b64(&key30)),
    )
    .unwrap();
    assert_eq!(k.suite(), Suite::AesCm128HmacSha1_80);
    assert_eq!(k.keys()[0].mki().unwrap().as_bytes(), &[1]);
    assert_eq!(k.keys()[0].lifetime(), Some(1 << 31));
    let key46: Vec<u8> = (0u8..46).collect();
    let padded = b64(&key46);
    assert!(padded.ends_with("=="));
    let unpadded = padded.trim_end_matches('=');
    for text in [padded.as_str(), unpadded] {
        let k = KeyParams::parse_sdes("AES_256_CM_HMAC_SHA1_32", &format!("inline:{text}|1048576"))
            .unwrap();
        assert_eq!(k.keys()[0].lifetime(), Some(1_048_576));
        assert!(k.keys()[0].mki().is_none());
    }
    // Session parameters after whitespace are ignored.
    assert!(KeyParams::parse_sdes(
        "AES_CM_128_HMAC_SHA1_32",
        &format!("inline:{} KDR=0", b64(&key30))
    )
    .is_ok());
}

#[test]
fn sdes_errors_never_contain_key_material() {
    let key30: Vec<u8> = (100u8..130).collect();
    let text = b64(&key30);
    let cases = [
        ("AES_CM_128_HMAC_SHA1_80", format!("inline:{}", &text[..20])),
        ("AES_CM_128_HMAC_SHA1_80", format!("inline:{text}|2^x")),
        ("AES_CM_128_HMAC_SHA1_80", format!("inline:{text}|256:1")),
        ("AES_CM_128_HMAC_SHA1_80", format!("inline:{text}|1:0")),
        ("AES_CM_128_HMAC_SHA1_80", format!("inline:{}!!", text)),
        (
            "AES_CM_128_HMAC_SHA1_80",
            format!("inline:{text};inline:{text}"),
        ),
        ("AEAD_AES_256_GCM", format!("inline:{text}")),
        ("F8_128_HMAC_SHA1_80", format!("inline:{text}")),
        ("AES_CM_128_HMAC_SHA1_80", format!("key:{text}")),
    ];
    for (suite, kp) in cases {
        let e = KeyParams::parse_sdes(suite, &kp).unwrap_err();
        let msg = format!("{e} {e:?}");
        assert!(!msg.contains(&text[..8]), "{msg}");
    }
    let k = KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", &format!("inline:{text}")).unwrap();
    let dbg = format!("{k:?} {:?}", SrtpContext::new(k.clone()));
    assert!(
        !dbg.contains(&text[..8]) && dbg.contains("redacted"),
        "{dbg}"
    );
    for b in &key30[..4] {
        assert!(!dbg.contains(&format!("{b:02x}, ")));
    }
}
