//! WAV sink: incremental writes + header patch give a file that hound and sox read back sample-exactly.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod codec_support;
use codec_support::*;
use rec_audio::{AudioSink, WavSink};
use std::process::Command;

fn write_file(rate: u32, channels: u16, pcm: &[i16], chunk: usize) -> Vec<u8> {
    let mut sink = WavSink::new(rate, channels);
    let mut file = Vec::new();
    for c in pcm.chunks(chunk) {
        sink.write(c, &mut file);
    }
    sink.finish(&mut file);
    let (off, patch) = sink.header_patch().unwrap();
    let off = off as usize;
    file[off..off + patch.len()].copy_from_slice(&patch);
    file
}

#[test]
fn wav_sink_reads_back_with_hound() {
    for (rate, ch) in [(8000, 1u16), (16000, 2), (48000, 2)] {
        let mono = speech_like(rate, 0.5, rate);
        let pcm: Vec<i16> = if ch == 2 {
            mono.iter().flat_map(|&s| [s, s / 3]).collect()
        } else {
            mono
        };
        let file = write_file(rate, ch, &pcm, 320);
        let mut r = hound::WavReader::new(std::io::Cursor::new(&file)).unwrap();
        let spec = r.spec();
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (rate, ch, 16)
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        let back: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(back, pcm);
    }
}

/// A file whose writer stopped mid-call (header patched, no finish) is valid up to that point.
#[test]
fn wav_sink_patch_mid_stream_and_partial_frames() {
    let mut sink = WavSink::new(8000, 2);
    let mut file = Vec::new();
    sink.write(&[1, 2, 3, 4, 5], &mut file); // trailing partial frame dropped
    assert_eq!(sink.dropped_samples(), 1);
    let (_, patch) = sink.header_patch().unwrap();
    file[..44].copy_from_slice(&patch);
    let mut r = hound::WavReader::new(std::io::Cursor::new(&file)).unwrap();
    let back: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(back, [1, 2, 3, 4]);
    // empty recording: header only, still valid
    let mut empty = WavSink::new(16000, 1);
    let mut f2 = Vec::new();
    empty.finish(&mut f2);
    assert_eq!(f2.len(), 44);
    assert_eq!(
        hound::WavReader::new(std::io::Cursor::new(&f2))
            .unwrap()
            .len(),
        0
    );
}

/// `soxi` reports the format and length, and `sox` decodes the same samples.
#[test]
fn wav_sink_valid_for_sox() {
    if !have("sox") {
        return;
    }
    let pcm = speech_like(16000, 1.0, 9);
    let file = write_file(16000, 1, &pcm, 333);
    let path = temp_path("sink.wav");
    let raw = temp_path("sink.raw");
    std::fs::write(&path, &file).unwrap();
    let info = run(Command::new("soxi").arg(&path));
    assert!(info.contains("Sample Rate    : 16000"), "{info}");
    assert!(info.contains("Channels       : 1"), "{info}");
    assert!(info.contains("16000 samples"), "{info}");
    run(Command::new("sox")
        .arg(&path)
        .args(["-t", "raw", "-e", "signed", "-b", "16"])
        .arg(&raw));
    assert_eq!(le_samples(&std::fs::read(&raw).unwrap()), pcm);
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(raw);
}
