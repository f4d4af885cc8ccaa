//! RFC 3389 comfort noise: level in −dBov sets the noise RMS (0 dBov = full-scale square wave, RMS 32767).
use rec_audio::decoder_for;

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn codec_cn_noise_at_signalled_level() {
    let mut cn = decoder_for("CN", 8000, 1).unwrap();
    let mut out = vec![1i16; 8000];
    // silence before any CN payload
    assert_eq!(cn.conceal(800, &mut out), 800);
    assert!(out[..800].iter().all(|&v| v == 0));
    for level in [20u8, 40, 60] {
        assert_eq!(
            cn.decode(&[level, 0x10, 0x20], &mut out).unwrap(),
            0,
            "CN carries no duration"
        );
        assert_eq!(cn.conceal(8000, &mut out), 8000);
        let want = 32767.0 * 10f64.powf(-f64::from(level) / 20.0);
        let db = 20.0 * (rms(&out) / want).log10();
        assert!(db.abs() < 1.0, "level {level}: {db:.2} dB off");
        assert!(out.windows(2).any(|w| w[0] != w[1]), "noise, not DC");
    }
    cn.decode(&[127], &mut out).unwrap();
    cn.conceal(160, &mut out);
    assert!(out[..160].iter().all(|&v| v == 0), "level 127 is silence");
    assert!(cn.decode(&[], &mut out).is_err());
    assert!(cn.decode(&[0x80], &mut out).is_err(), "reserved top bit");
}
