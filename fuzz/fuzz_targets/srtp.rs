//! SRTP / SRTCP with a fixed master key and fuzzed packets. The first byte picks the suite, the MKI and SRTP
//! or SRTCP; the rest is
//! 1. decrypted as it is (fuzzed header, fuzzed tag) inside a guarded buffer: no panic; on failure the packet
//!    is left untouched, on success every reported range lies inside the packet; the guard bytes around the
//!    packet are never touched;
//! 2. taken as a plain packet, encrypted, then decrypted by a fresh receiver with the same key: the plain
//!    bytes come back exactly, the header fields match;
//! 3. that encrypted packet with one byte flipped (position from the input): refused, left untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rec_packet::rtp::RtpPacket;
use rec_srtp::{KeyParams, MasterKey, Mki, SrtpContext, Suite};

/// 46 bytes: enough key and salt for every suite (AES-256 key + 14-byte salt).
const MATERIAL: [u8; 46] = *b"fuzzing-master-key-and-salt-0123456789abcdefgh";
const GUARD: u8 = 0xA5;
const GUARD_LEN: usize = 16;

fn params(suite: Suite, mki: Option<Mki>) -> KeyParams {
    let n = suite.key_len() + suite.salt_len();
    KeyParams::new(
        suite,
        MasterKey::from_bytes(suite, &MATERIAL[..n], mki).unwrap(),
    )
}

fn decrypt(ctx: &mut SrtpContext, rtcp: bool, pkt: &mut [u8]) -> Result<(usize, usize, usize), ()> {
    if rtcp {
        ctx.decrypt_rtcp(pkt)
            .map(|d| (d.packet_len, 0, d.packet_len))
            .map_err(|_| ())
    } else {
        ctx.decrypt_rtp(pkt)
            .map(|d| (d.packet_len, d.payload_range.start, d.payload_range.end))
            .map_err(|_| ())
    }
}

/// Decrypts `pkt` inside a guarded buffer; checks the invariants of step 1; returns the result.
fn guarded(ctx: &mut SrtpContext, rtcp: bool, pkt: &[u8]) -> Result<Vec<u8>, ()> {
    let mut buf = vec![GUARD; pkt.len() + 2 * GUARD_LEN];
    buf[GUARD_LEN..GUARD_LEN + pkt.len()].copy_from_slice(pkt);
    let r = decrypt(ctx, rtcp, &mut buf[GUARD_LEN..GUARD_LEN + pkt.len()]);
    assert!(
        buf[..GUARD_LEN].iter().all(|&b| b == GUARD),
        "bytes before the packet touched"
    );
    assert!(
        buf[GUARD_LEN + pkt.len()..].iter().all(|&b| b == GUARD),
        "bytes after the packet touched"
    );
    let inner = &buf[GUARD_LEN..GUARD_LEN + pkt.len()];
    match r {
        Err(()) => {
            assert_eq!(inner, pkt, "a refused packet is left untouched");
            Err(())
        }
        Ok((len, start, end)) => {
            assert!(
                len <= pkt.len() && start <= end && end <= len,
                "ranges inside the packet"
            );
            Ok(inner[..len].to_vec())
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let suite = Suite::ALL[usize::from(sel % 6)];
    let mki = match (sel / 6) % 3 {
        0 => None,
        1 => Some(Mki::new(1, 1).unwrap()),
        _ => Some(Mki::new(0x0102_0304, 4).unwrap()),
    };
    let rtcp = sel & 0x80 != 0;

    // 1. fuzzed packet as received
    let mut rx = SrtpContext::new(params(suite, mki));
    let _ = guarded(&mut rx, rtcp, rest);
    // the same packet again on the same context (duplicate / window paths)
    let _ = guarded(&mut rx, rtcp, rest);

    // 2. encrypt → decrypt round trip
    let mut tx = SrtpContext::new(params(suite, mki));
    let mut enc = rest.to_vec();
    let sealed = if rtcp {
        tx.encrypt_rtcp(&mut enc).is_ok()
    } else {
        tx.encrypt_rtp(&mut enc).is_ok()
    };
    if !sealed {
        return;
    }
    let mut fresh = SrtpContext::new(params(suite, mki));
    let plain = guarded(&mut fresh, rtcp, &enc).expect("a packet we encrypted decrypts");
    assert_eq!(plain, rest, "round trip gives the plain packet back");
    if !rtcp {
        let mut again = SrtpContext::new(params(suite, mki));
        let d = again.decrypt_rtp(&mut enc.clone()).unwrap();
        if let Ok(p) = RtpPacket::parse(rest) {
            assert_eq!(
                (d.ssrc, d.seq, d.timestamp),
                (p.ssrc(), p.sequence(), p.timestamp())
            );
            assert_eq!((d.payload_type, d.marker), (p.payload_type(), p.marker()));
            let at = p.header_len();
            assert_eq!(
                d.payload_range,
                at..at + p.payload().len(),
                "padding removed as RTP says"
            );
        }
    }

    // 3. one flipped byte is refused
    let pos = (rest.len().wrapping_mul(7919) ^ usize::from(sel)) % enc.len();
    let mut tampered = enc.clone();
    tampered[pos] ^= 0x01 | sel;
    let mut victim = SrtpContext::new(params(suite, mki));
    assert!(
        guarded(&mut victim, rtcp, &tampered).is_err(),
        "tampered byte {pos} accepted"
    );
});
