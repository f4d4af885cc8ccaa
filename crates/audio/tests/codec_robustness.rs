//! Bad input never panics: every decoder takes random payloads of random lengths (including empty and
//! oversized ones) and either decodes within the buffer or returns an error; concealment never overruns.
use rec_audio::decoder_for;

#[test]
fn codec_random_payloads_never_panic() {
    let mut rng = 0x9E37_79B9u32;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        rng
    };
    let codecs = [
        ("PCMU", 8000, 1),
        ("PCMA", 8000, 2),
        ("G722", 8000, 1),
        ("G722", 8000, 2),
        ("opus", 48000, 1),
        ("CN", 8000, 1),
    ];
    let mut out = vec![0i16; 5760];
    for (name, clock, ch) in codecs {
        let mut dec =
            decoder_for(name, clock, ch).unwrap_or_else(|| panic!("{name} must be decodable"));
        for _ in 0..300 {
            let len = (next() % 1600) as usize;
            let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let cap = (next() % 5760) as usize;
            if let Ok(n) = dec.decode(&payload, &mut out[..cap]) {
                assert!(n <= cap, "{name}: wrote {n} into {cap}");
            }
            let want = (next() % 2000) as usize;
            let got = dec.conceal(want, &mut out[..cap]);
            assert_eq!(got, want.min(cap), "{name} conceal");
        }
    }
}
