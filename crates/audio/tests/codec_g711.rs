//! G.711 μ-law / A-law: differential tests against sox's codec and round-trip SNR.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod codec_support;
use codec_support::*;
use rec_audio::codec::g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
use rec_audio::decoder_for;
use std::process::Command;

fn decode_all(name: &str, bytes: &[u8]) -> Vec<i16> {
    let mut dec = decoder_for(name, 8000, 1).expect("decoder");
    let mut out = vec![0i16; bytes.len()];
    let mut done = 0;
    for chunk in bytes.chunks(160) {
        done += dec.decode(chunk, &mut out[done..]).expect("decode");
    }
    assert_eq!(done, bytes.len());
    out
}

/// G.711 on a speech-like signal: quantisation SNR of a log-PCM codec is ≈ 35–38 dB; demand ≥ 30 dB.
#[test]
fn codec_g711_round_trip_snr() {
    let src = speech_like(8000, 2.0, 1);
    for (name, enc) in [
        ("PCMU", linear_to_ulaw as fn(i16) -> u8),
        ("PCMA", linear_to_alaw),
    ] {
        let bytes: Vec<u8> = src.iter().map(|&s| enc(s)).collect();
        let dec = decode_all(name, &bytes);
        let snr = snr_db(&src, &dec);
        assert!(snr >= 30.0, "{name} SNR {snr:.1} dB");
    }
}

/// Every code word decodes to a value that re-encodes to itself (μ-law's two zeros 0x7F/0xFF excepted).
#[test]
fn codec_g711_tables_are_consistent() {
    for b in 0..=255u8 {
        let a = rec_audio::codec::g711::alaw_to_linear(b);
        assert_eq!(linear_to_alaw(a), b, "A-law {b:#04x} -> {a}");
        let u = rec_audio::codec::g711::ulaw_to_linear(b);
        if b != 0x7F {
            assert_eq!(linear_to_ulaw(u), b, "μ-law {b:#04x} -> {u}");
        }
    }
    // monotonic: larger code magnitude, larger amplitude
    assert_eq!(rec_audio::codec::g711::ulaw_to_linear(0x00), -32124);
    assert_eq!(rec_audio::codec::g711::alaw_to_linear(0xD5), 8);
}

/// Differential against sox: sox decodes the bytes our encoder made and encodes the source itself; both must
/// agree with ours. Commands: `sox -t raw -r 8000 -e {a-law,u-law} -b 8 -c 1 in -t raw -e signed -b 16 out` and
/// `sox -D -t raw -r 8000 -e signed -b 16 -c 1 in -t raw -e {a-law,u-law} -b 8 out` (-D: no dither).
#[test]
fn codec_g711_matches_sox() {
    if !have("sox") {
        return;
    }
    let src = speech_like(8000, 1.0, 7);
    for (name, sox_enc, enc) in [
        ("PCMU", "u-law", linear_to_ulaw as fn(i16) -> u8),
        ("PCMA", "a-law", linear_to_alaw),
    ] {
        let bytes: Vec<u8> = src.iter().map(|&s| enc(s)).collect();
        let law = temp_path(&format!("{name}.law"));
        let pcm = temp_path(&format!("{name}.pcm"));
        let law2 = temp_path(&format!("{name}.sox.law"));
        let src_pcm = temp_path(&format!("{name}.src.pcm"));
        std::fs::write(&law, &bytes).unwrap();
        run(Command::new("sox")
            .args([
                "-t", "raw", "-r", "8000", "-e", sox_enc, "-b", "8", "-c", "1",
            ])
            .arg(&law)
            .args(["-t", "raw", "-e", "signed", "-b", "16"])
            .arg(&pcm));
        let sox_dec = le_samples(&std::fs::read(&pcm).unwrap());
        let ours = decode_all(name, &bytes);
        assert_eq!(sox_dec.len(), ours.len());
        let max_diff = sox_dec
            .iter()
            .zip(&ours)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max();
        assert_eq!(max_diff, Some(0), "{name}: our decoder differs from sox");

        let raw: Vec<u8> = src.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(&src_pcm, raw).unwrap();
        run(Command::new("sox")
            .args([
                "-D", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1",
            ])
            .arg(&src_pcm)
            .args(["-t", "raw", "-e", sox_enc, "-b", "8"])
            .arg(&law2));
        let sox_bytes = std::fs::read(&law2).unwrap();
        assert_eq!(sox_bytes.len(), bytes.len());
        // sox's table encoder rounds to the nearest level where G.711's reference truncates after biasing,
        // so some samples land on the neighbouring code: allow one quantisation step and ≤ 10 % of samples.
        let dec = |b: u8| {
            if name == "PCMA" {
                alaw_to_linear(b)
            } else {
                ulaw_to_linear(b)
            }
        };
        let mut differing = 0;
        for ((&a, &b), &s) in sox_bytes.iter().zip(&bytes).zip(&src) {
            if a != b {
                differing += 1;
                let (x, y) = (i32::from(dec(a)), i32::from(dec(b)));
                let tol = 32.max(x.abs() / 8);
                assert!(
                    (x - y).abs() <= tol,
                    "{name}: sample {s} -> sox {a:#04x} ({x}), ours {b:#04x} ({y})"
                );
            }
        }
        assert!(
            differing * 10 <= bytes.len(),
            "{name}: {differing} of {} bytes differ from sox",
            bytes.len()
        );
        for p in [law, pcm, law2, src_pcm] {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Stereo PCMA (sample-interleaved) is averaged to mono; odd lengths are malformed; small buffers are refused.
#[test]
fn codec_g711_stereo_and_errors() {
    let mut dec = decoder_for("pcma", 8000, 2).unwrap();
    let l = linear_to_alaw(1000);
    let r = linear_to_alaw(-3000);
    let mut out = [0i16; 4];
    assert_eq!(dec.decode(&[l, r, l, r], &mut out).unwrap(), 2);
    let expect = (i32::from(rec_audio::codec::g711::alaw_to_linear(l))
        + i32::from(rec_audio::codec::g711::alaw_to_linear(r)))
        >> 1;
    assert_eq!(i32::from(out[0]), expect);
    assert!(dec.decode(&[l, r, l], &mut out).is_err());
    let mut mono = decoder_for("PCMU", 8000, 1).unwrap();
    let mut small = [0i16; 10];
    assert!(matches!(
        mono.decode(&[0u8; 160], &mut small),
        Err(rec_audio::DecodeError::BufferTooSmall {
            needed: 160,
            capacity: 10,
            ..
        })
    ));
}
