//! G.722: round trip through the crate's encoder (SNR), stereo interleaving, decoder selection.
#![cfg(feature = "g722")]
mod codec_support;
use codec_support::*;
use rec_audio::codec::g722::G722Encoder;
use rec_audio::decoder_for;

fn encode(src: &[i16]) -> Vec<u8> {
    let mut enc = G722Encoder::new();
    let mut bytes = Vec::new();
    for f in src.chunks(320) {
        enc.encode(f, &mut bytes);
    }
    bytes
}

/// 64 kbit/s G.722 on a speech-like signal: after aligning the QMF delay, SNR ≥ 20 dB and correlation ≥ 0.99.
#[test]
fn codec_g722_round_trip_snr() {
    let src = speech_like(16000, 2.0, 3);
    let bytes = encode(&src);
    assert_eq!(
        bytes.len(),
        src.len() / 2,
        "one octet per two 16 kHz samples"
    );
    let mut dec = decoder_for("G722", 8000, 1).unwrap();
    assert_eq!((dec.sample_rate(), dec.rtp_clock_rate()), (16000, 8000));
    let mut out = vec![0i16; src.len()];
    let mut done = 0;
    for p in bytes.chunks(160) {
        done += dec.decode(p, &mut out[done..]).unwrap();
    }
    assert_eq!(done, src.len());
    let (lag, corr) = best_lag(&src, &out, 64);
    let snr = snr_db(&src[..src.len() - lag], &out[lag..]);
    assert!(corr >= 0.99, "correlation {corr:.3} at lag {lag}");
    assert!(snr >= 20.0, "SNR {snr:.1} dB at lag {lag}");
}

/// `G722/8000/2`: octet-interleaved channels, each decoded with its own state, averaged.
#[test]
fn codec_g722_stereo_is_averaged() {
    let left = speech_like(16000, 0.5, 4);
    let right = speech_like(16000, 0.5, 5);
    let (bl, br) = (encode(&left), encode(&right));
    let inter: Vec<u8> = bl.iter().zip(&br).flat_map(|(a, b)| [*a, *b]).collect();
    let mut stereo = decoder_for("G722", 8000, 2).unwrap();
    let (mut dl, mut dr) = (
        decoder_for("G722", 8000, 1).unwrap(),
        decoder_for("G722", 8000, 1).unwrap(),
    );
    let mut out = vec![0i16; left.len()];
    let (mut ol, mut or) = (vec![0i16; left.len()], vec![0i16; left.len()]);
    let mut done = 0;
    for (i, p) in inter.chunks(320).enumerate() {
        let n = stereo.decode(p, &mut out[done..]).unwrap();
        dl.decode(&bl[i * 160..(i + 1) * 160], &mut ol[done..])
            .unwrap();
        dr.decode(&br[i * 160..(i + 1) * 160], &mut or[done..])
            .unwrap();
        done += n;
    }
    assert_eq!(done, left.len());
    for i in 0..done {
        assert_eq!(
            i32::from(out[i]),
            (i32::from(ol[i]) + i32::from(or[i])) >> 1,
            "sample {i}"
        );
    }
    assert!(
        stereo.decode(&[1, 2, 3], &mut out).is_err(),
        "odd stereo payload is malformed"
    );
}

/// decoder_for knows the decodable codecs and refuses the Microsoft-only ones.
#[test]
fn codec_decoder_for_names() {
    for (name, clock, ch, rate) in [
        ("PCMU", 8000, 1, 8000),
        ("pcma", 8000, 1, 8000),
        ("G722", 8000, 2, 16000),
        ("opus", 48000, 2, 48000),
        ("CN", 8000, 1, 8000),
    ] {
        let d = decoder_for(name, clock, ch).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(d.sample_rate(), rate, "{name}");
    }
    for (name, clock) in [
        ("x-msrta", 16000),
        ("SILK", 16000),
        ("SIREN", 16000),
        ("G7221", 16000),
        ("PCMU", 16000),
    ] {
        assert!(decoder_for(name, clock, 1).is_none(), "{name}/{clock}");
    }
}
