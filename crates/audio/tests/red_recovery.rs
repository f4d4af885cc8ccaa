//! RFC 2198 RED: parsing against the RFC's layout and loss recovery through the timeline.

mod timeline_support;

use rec_audio::{parse_red, MixerConfig, RedError, TimelineConfig};
use timeline_support::*;

/// One redundant block header as drawn in RFC 2198 §3: F(1)=1, block PT(7), timestamp offset(14), length(10).
fn red_header(pt: u8, offset: u16, len: usize) -> [u8; 4] {
    let word: u32 = (1 << 31) | (u32::from(pt) << 24) | (u32::from(offset) << 10) | len as u32;
    word.to_be_bytes()
}

#[test]
fn red_parse_rfc2198_layout() {
    // RFC 2198 §3 example: primary PCMU? — here: redundant PT 0 at offset 160 (3 bytes), redundant PT 8 at
    // offset 320 (2 bytes), primary PT 0 (4 bytes).
    let mut p = Vec::new();
    p.extend_from_slice(&red_header(8, 320, 2));
    p.extend_from_slice(&red_header(0, 160, 3));
    p.push(0); // F=0, primary PT 0
    p.extend_from_slice(&[1, 2]);
    p.extend_from_slice(&[3, 4, 5]);
    p.extend_from_slice(&[6, 7, 8, 9]);
    let red = parse_red(&p).expect("valid");
    assert_eq!(red.primary.pt, 0);
    assert_eq!(red.primary.data, &[6, 7, 8, 9]);
    assert_eq!(red.redundant().len(), 2);
    assert_eq!(
        (
            red.redundant()[0].pt,
            red.redundant()[0].ts_offset,
            red.redundant()[0].data
        ),
        (8, 320, &[1u8, 2][..])
    );
    assert_eq!(
        red.redundant_at(160).map(|b| b.data),
        Some(&[3u8, 4, 5][..])
    );
    // maximum 14-bit offset and 10-bit length survive the bit packing
    let mut q = red_header(0, 0x3fff, 1023).to_vec();
    q.push(0);
    q.extend(std::iter::repeat_n(0xAA, 1023));
    let red = parse_red(&q).expect("valid");
    assert_eq!(
        (
            red.redundant()[0].ts_offset,
            red.redundant()[0].data.len(),
            red.primary.data.len()
        ),
        (0x3fff, 1023, 0)
    );
}

#[test]
fn red_parse_rejects_malformed() {
    assert_eq!(
        parse_red(&[]).unwrap_err(),
        RedError::TruncatedHeaders { len: 0 }
    );
    assert_eq!(
        parse_red(&[0x80, 1, 2]).unwrap_err(),
        RedError::TruncatedHeaders { len: 3 }
    );
    let mut p = red_header(0, 160, 100).to_vec();
    p.push(0);
    p.extend_from_slice(&[0; 10]);
    assert_eq!(
        parse_red(&p).unwrap_err(),
        RedError::BlocksTooLong {
            needed: 105,
            len: 15
        }
    );
    let mut many = Vec::new();
    for _ in 0..9 {
        many.extend_from_slice(&red_header(0, 160, 0));
    }
    many.push(0);
    assert_eq!(parse_red(&many).unwrap_err(), RedError::TooManyBlocks);
}

#[test]
fn red_recovers_single_losses_exactly() {
    let src = Voice::new(9).samples(10 * 8000);
    let reference = ulaw_roundtrip(&src);
    let plain = packetize(&src, 1, 0, 7, 30_000);
    // wrap each packet: redundant = previous frame (offset 160), primary = this frame
    let mut pkts = Vec::new();
    for i in 0..plain.len() {
        let mut p = plain[i].clone();
        let mut payload = Vec::new();
        if i > 0 {
            payload.extend_from_slice(&red_header(0, 160, 160));
        }
        payload.push(0);
        if i > 0 {
            payload.extend_from_slice(&plain[i - 1].payload);
        }
        payload.extend_from_slice(&plain[i].payload);
        p.payload = payload;
        p.pt = 96;
        pkts.push(p);
    }
    // 5 % single losses (fixed seed), never two in a row
    let mut rng = Rng(11);
    let mut drop = vec![false; pkts.len()];
    for i in 1..pkts.len() - 1 {
        if !drop[i - 1] && rng.unit() < 0.05 {
            drop[i] = true;
        }
    }
    let n = drop.iter().filter(|&&d| d).count() as u64;
    let kept: Vec<Pkt> = pkts
        .into_iter()
        .zip(&drop)
        .filter(|(_, &d)| !d)
        .map(|(p, _)| p)
        .collect();
    let mut cfg = TimelineConfig::new(0);
    cfg.red_pt = Some(96);
    let (sink, tls, _) = run(vec![(kept, 0, cfg)], MixerConfig::new(8000, 1));
    let out = sink.channel(0);
    for k in 0..reference.len() {
        assert_eq!(out[k + 240], reference[k], "sample {k}");
    }
    let st = tls[0].stats();
    assert!(n > 10);
    assert_eq!((st.recovered, st.lost, st.concealed_samples), (n, 0, 0));
}
