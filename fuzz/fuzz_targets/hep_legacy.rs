//! Any bytes as a plain HEP datagram (v1, v2, v3 with a plain or compressed payload): no panic; a HEPv1/v2
//! packet that decodes re-encodes to the same bytes, and whatever `hep_input::decode` accepts carries a SIP
//! message no larger than the decompression cap.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rec_packet::hep_input::{self, MAX_DECOMPRESSED};
use rec_packet::hep_legacy::{self, LegacyHep};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = LegacyHep::decode(data) {
        assert!(hep_legacy::looks_like(data));
        // the IPv6 family byte is normalised to Linux's 10 on encode: compare on that family only
        if data[2] == 2 || data[2] == 10 {
            let mut again = Vec::new();
            p.encode(&mut again);
            let hlen = usize::from(data[1]);
            let usec = |d: &[u8]| u32::from_le_bytes([d[hlen + 4], d[hlen + 5], d[hlen + 6], d[hlen + 7]]);
            if p.version == 2 && usec(data) >= 1_000_000 {
                // an out-of-range microsecond count is clamped: nothing to compare
            } else if p.version == 2 {
                // the two padding bytes of the time header are not kept
                let pad = hlen + 10;
                let mut expect = data.to_vec();
                expect[pad] = 0;
                expect[pad + 1] = 0;
                assert_eq!(again, expect);
            } else {
                assert_eq!(again, data);
            }
        }
    }
    if let Ok(m) = hep_input::decode(data) {
        assert!(m.payload.len() <= MAX_DECOMPRESSED.max(data.len()));
        assert!(hep_input::looks_like_sip(&m.payload));
        assert!((1..=3).contains(&m.version));
    }
});
