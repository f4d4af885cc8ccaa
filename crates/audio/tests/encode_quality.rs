//! Opus settings sweep: speech quality (correlation / SNR after pre-skip alignment) of candidate encoder settings.
//! Prints the table recorded in BENCHMARKS.md; the default settings must keep correlation ≥ 0.9 at 8 and 16 kHz.
//! With `SPEECH_WAV=/path/mono.wav` (e.g. `espeak-ng -w /tmp/s.wav "..."`, 22.05 kHz, resampled here by sox to
//! the test rates) real synthetic speech is used instead of the built-in speech-like signal.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod codec_support;
use audiopus::{coder::Decoder as LibDec, Channels, SampleRate};
use codec_support::*;
use rec_audio::ogg_opus::{OpusApplication, OpusBandwidth};
use rec_audio::{AudioSink, OggOpusSink, OpusSettings};
use std::process::Command;

fn signal(rate: u32) -> Vec<i16> {
    if let Ok(path) = std::env::var("SPEECH_WAV") {
        let raw = temp_path(&format!("speech{rate}.raw"));
        run(Command::new("sox")
            .arg(&path)
            .args(["-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r"])
            .arg(rate.to_string())
            .arg(&raw));
        let s = le_samples(&std::fs::read(&raw).unwrap());
        let _ = std::fs::remove_file(raw);
        return s;
    }
    speech_like(rate, 4.0, 99)
}

/// Encodes mono `src` and decodes it with libopus; returns (correlation, SNR dB, kbit/s).
fn measure(rate: u32, src: &[i16], s: OpusSettings) -> (f64, f64, f64) {
    let mut sink = OggOpusSink::new(rate, 1, s, 7).unwrap();
    let mut file = Vec::new();
    for c in src.chunks(rate as usize / 50) {
        sink.write(c, &mut file);
    }
    sink.finish(&mut file);
    let sr = if rate == 8000 {
        SampleRate::Hz8000
    } else {
        SampleRate::Hz16000
    };
    let mut dec = LibDec::new(sr, Channels::Mono).unwrap();
    let mut rd = ogg::reading::PacketReader::new(std::io::Cursor::new(&file));
    let mut out = Vec::new();
    let mut buf = vec![0i16; 5760];
    let mut audio_bytes = 0;
    let mut i = 0;
    while let Some(p) = rd.read_packet().unwrap() {
        i += 1;
        if i <= 2 {
            continue;
        }
        audio_bytes += p.data.len();
        let n = dec
            .decode(
                Some((&p.data[..]).try_into().unwrap()),
                (&mut buf[..]).try_into().unwrap(),
                false,
            )
            .unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    let skip = usize::from(sink.pre_skip()) * rate as usize / 48000;
    let got = &out[skip..skip + src.len()];
    let kbps = audio_bytes as f64 * 8.0 / (src.len() as f64 / f64::from(rate)) / 1000.0;
    (correlation(src, got), snr_db(src, got), kbps)
}

#[test]
fn encode_default_settings_keep_speech() {
    for rate in [8000, 16000] {
        let src = speech_like(rate, 2.0, 5);
        let (corr, snr, _) = measure(rate, &src, OpusSettings::default());
        assert!(
            corr >= 0.9,
            "{rate} Hz: correlation {corr:.3}, SNR {snr:.1} dB"
        );
    }
}

#[test]
#[ignore = "settings sweep for BENCHMARKS.md; run in release with --ignored --nocapture"]
fn encode_quality_sweep() {
    let d = OpusSettings::default();
    println!("| rate | application | complexity | bitrate | bandwidth | frame | corr | SNR dB | kbit/s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for rate in [8000u32, 16000] {
        let src = signal(rate);
        for app in [
            OpusApplication::Voip,
            OpusApplication::Audio,
            OpusApplication::LowDelay,
        ] {
            for complexity in [0u8, 3, 5, 10] {
                for bitrate in [16_000, 20_000, 24_000] {
                    for frame_ms in [20u8, 60] {
                        let bw = if rate == 8000 {
                            OpusBandwidth::Narrowband
                        } else {
                            OpusBandwidth::Wideband
                        };
                        let s = OpusSettings {
                            application: app,
                            complexity,
                            mono_bitrate: bitrate,
                            max_bandwidth: bw,
                            frame_ms,
                            ..d
                        };
                        let (c, snr, kbps) = measure(rate, &src, s);
                        println!("| {rate} | {app:?} | {complexity} | {bitrate} | {bw:?} | {frame_ms} | {c:.3} | {snr:.1} | {kbps:.1} |");
                    }
                }
            }
        }
    }
}
