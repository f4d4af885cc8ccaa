//! Differential tests against webrtc-srtp (independent implementation, dev-dependency only):
//! for every suite it has, packets across a sequence wrap encrypted by one side are decrypted
//! identically by the other, and both encryptors produce identical bytes.

mod common;
use common::{rtcp_sr, rtp, sdes};
use rec_srtp::{SrtpContext, Suite};
use webrtc_srtp::context::Context;
use webrtc_srtp::protection_profile::ProtectionProfile;

fn profile(s: Suite) -> ProtectionProfile {
    match s {
        Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        Suite::AesCm256HmacSha1_80 => ProtectionProfile::Aes256CmHmacSha1_80,
        Suite::AesCm256HmacSha1_32 => ProtectionProfile::Aes256CmHmacSha1_32,
        Suite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        Suite::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
    }
}

#[test]
fn agrees_with_webrtc_srtp_across_a_sequence_wrap_for_every_suite() {
    let seqs: Vec<u16> = (65_200u16..=65_535).chain(0..200).collect();
    for suite in Suite::ALL {
        let (kl, sl) = (suite.key_len(), suite.salt_len());
        let ks: Vec<u8> = (0..(kl + sl) as u8)
            .map(|i| i.wrapping_mul(37) ^ 0x5a)
            .collect();
        let mut theirs_tx = Context::new(&ks[..kl], &ks[kl..], profile(suite), None, None).unwrap();
        let mut theirs_rx = Context::new(&ks[..kl], &ks[kl..], profile(suite), None, None).unwrap();
        let mut ours_tx = SrtpContext::new(sdes(suite.name(), &ks, ""));
        let mut ours_rx = SrtpContext::new(sdes(suite.name(), &ks, ""));
        for (n, &seq) in seqs.iter().enumerate() {
            let plain = rtp(seq, (n as u32) * 160, 0x0bad_cafe, 160);
            let their_ct = theirs_tx.encrypt_rtp(&plain).unwrap().to_vec();
            let mut our_ct = plain.clone();
            ours_tx.encrypt_rtp(&mut our_ct).unwrap();
            assert_eq!(our_ct, their_ct, "{suite} seq {seq}: ciphertexts differ");
            // Theirs -> ours.
            let mut buf = their_ct.clone();
            let r = ours_rx
                .decrypt_rtp(&mut buf)
                .unwrap_or_else(|e| panic!("{suite} seq {seq}: {e}"));
            assert_eq!(&buf[..r.packet_len], &plain[..], "{suite} seq {seq}");
            assert_eq!(r.roc, u32::from(seq < 65_200), "{suite} seq {seq}");
            // Ours -> theirs.
            let dec = theirs_rx.decrypt_rtp(&our_ct).unwrap();
            assert_eq!(&dec[..], &plain[..], "{suite} seq {seq}");
        }
        for _ in 0..3 {
            let plain = rtcp_sr(0x0bad_cafe);
            let their_ct = theirs_tx.encrypt_rtcp(&plain).unwrap().to_vec();
            let mut buf = their_ct.clone();
            let r = ours_rx.decrypt_rtcp(&mut buf).unwrap();
            assert_eq!(&buf[..r.packet_len], &plain[..], "{suite} RTCP");
            let mut our_ct = plain.clone();
            ours_tx
                .encrypt_rtcp_with_index(&mut our_ct, r.index)
                .unwrap();
            assert_eq!(our_ct, their_ct, "{suite} RTCP ciphertexts differ");
            let dec = theirs_rx.decrypt_rtcp(&our_ct).unwrap();
            assert_eq!(&dec[..], &plain[..]);
        }
    }
}
