//! Opus decoder: libopus-encoded speech-like audio decodes back (correlation after aligning the codec delay),
//! PLC and FEC conceal losses, bad payloads are errors.
mod codec_support;
use audiopus::{coder::Encoder, Application, Bitrate, Channels, SampleRate};
use codec_support::*;
use rec_audio::codec::opus::OpusDecoder;
use rec_audio::{decoder_for, Decoder};

fn encode_48k(src: &[i16], fec: bool) -> Vec<Vec<u8>> {
    encode_48k_with_delay(src, fec).0
}

/// Packets and the encoder's lookahead (the delay of decoded audio behind the source).
fn encode_48k_with_delay(src: &[i16], fec: bool) -> (Vec<Vec<u8>>, usize) {
    let mut enc = Encoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip).unwrap();
    enc.set_bitrate(Bitrate::BitsPerSecond(24_000)).unwrap();
    if fec {
        enc.set_inband_fec(true).unwrap();
        enc.set_packet_loss_perc(20).unwrap();
    }
    let mut buf = [0u8; 1500];
    let delay = enc.lookahead().unwrap() as usize;
    let packets = src
        .chunks_exact(960)
        .map(|f| {
            let n = enc.encode(f, &mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect();
    (packets, delay)
}

/// 24 kbit/s VOIP Opus (48 kHz): decoded output correlates ≥ 0.9 with the source after aligning the lookahead.
#[test]
fn codec_opus_decodes_to_source() {
    let src = speech_like(48000, 1.0, 11);
    let (packets, delay) = encode_48k_with_delay(&src, false);
    let mut dec = decoder_for("opus", 48000, 2).unwrap();
    assert_eq!((dec.sample_rate(), dec.rtp_clock_rate()), (48000, 48000));
    let mut out = vec![0i16; src.len()];
    let mut done = 0;
    for p in &packets {
        done += dec.decode(p, &mut out[done..]).unwrap();
    }
    assert_eq!(done, src.len());
    // decoded audio lags the source by the encoder's lookahead; search ±8 samples around it
    let (lag, corr) = best_lag(&src, &out[delay - 8..], 16);
    assert!(
        corr >= 0.9,
        "correlation {corr:.3} at lag {}",
        delay - 8 + lag
    );
}

/// A lost frame concealed by PLC or rebuilt from the next packet's FEC resembles the lost audio far more than
/// silence would (correlation ≥ 0.5 for FEC), and has exactly the requested length.
#[test]
fn codec_opus_conceals_loss() {
    let src = speech_like(16000, 1.0, 12);
    // 16 kHz decoder of a 48 kHz-encoded stream (the RTP clock stays 48 kHz)
    let src48: Vec<i16> = src.iter().flat_map(|&s| [s, s, s]).collect();
    let packets = encode_48k(&src48, true);
    let lost = 25;
    let mut plain = OpusDecoder::new(16000).unwrap();
    let mut fec = OpusDecoder::new(16000).unwrap();
    let mut reference = OpusDecoder::new(16000).unwrap();
    let (mut a, mut b, mut r) = (vec![0i16; 16000], vec![0i16; 16000], vec![0i16; 16000]);
    let mut pos = 0;
    for (i, p) in packets.iter().enumerate() {
        let n = reference.decode(p, &mut r[pos..]).unwrap();
        if i == lost {
            assert_eq!(plain.conceal(n, &mut a[pos..]), n);
            assert_eq!(fec.conceal_before(&packets[i + 1], n, &mut b[pos..]), n);
        } else {
            plain.decode(p, &mut a[pos..]).unwrap();
            fec.decode(p, &mut b[pos..]).unwrap();
        }
        pos += n;
    }
    let frame = lost * 320..(lost + 1) * 320;
    let c_fec = correlation(&r[frame.clone()], &b[frame.clone()]);
    assert!(c_fec >= 0.5, "FEC frame correlation {c_fec:.2}");
    assert!(
        a[frame].iter().any(|&v| v != 0),
        "PLC produces audio, not silence"
    );
    // odd lengths: PLC in 2.5 ms steps, remainder silence, never more than asked
    let mut buf = [7i16; 100];
    assert_eq!(plain.conceal(50, &mut buf), 50);
    assert_eq!(buf[50], 7);
}

#[test]
fn codec_opus_rejects_bad_payloads() {
    let mut dec = decoder_for("opus", 48000, 1).unwrap();
    let mut out = vec![0i16; 5760];
    assert!(dec.decode(&[], &mut out).is_err());
    // TOC code 3 with a frame count of 0 is invalid (RFC 6716 §3.2.5)
    assert!(dec.decode(&[0x03, 0x00], &mut out).is_err());
    // 20 ms CELT frame needs 960 samples: a 100-sample buffer is too small
    let packets = encode_48k(&speech_like(48000, 0.04, 1), false);
    assert!(matches!(
        dec.decode(&packets[0], &mut out[..100]),
        Err(rec_audio::DecodeError::BufferTooSmall { needed: 960, .. })
    ));
    assert!(OpusDecoder::new(44100).is_none());
}
