//! How long the web UI takes to compute the waveform of a long Ogg Opus recording on demand, and how much
//! memory it needs: encodes MINUTES (default 60) of stereo 16 kHz speech-like audio with the recorder's
//! own Opus writer into a temporary file, then times [`rec_admin::peaks::opus_peaks`] over it and reports
//! the resident-memory high-water mark of that step (Linux `/proc/self/status` `VmHWM`, reset before it).
//!
//! `cargo run --release -p rec-admin --example opus_peaks_hour [MINUTES]`

use std::io::Write;
use std::time::Instant;

use rec_audio::{AudioSink, OggOpusSink};

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let minutes: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(60);
    let rate = 16_000u32;
    let path = std::env::temp_dir().join(format!("opus_peaks_hour_{}.opus", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
    let mut sink = OggOpusSink::new(rate, 2, Default::default(), 1).expect("Opus encoder");
    let mut out = Vec::new();
    let mut pcm = vec![0i16; 2 * rate as usize];
    let started = Instant::now();
    for second in 0..minutes * 60 {
        // talk bursts: each side speaks every other 3 s, a 5 Hz-modulated two-tone "voice"
        for (i, pair) in pcm.chunks_exact_mut(2).enumerate() {
            let t = f64::from(second) + i as f64 / f64::from(rate);
            let env = 0.6 + 0.4 * (std::f64::consts::TAU * 5.0 * t).sin();
            let v = |f: f64| (9000.0 * env * (std::f64::consts::TAU * f * t).sin()) as i16;
            let left_talks = (second / 3) % 2 == 0;
            pair[0] = if left_talks { v(440.0) } else { 0 };
            pair[1] = if left_talks { 0 } else { v(700.0) };
        }
        sink.write(&pcm, &mut out);
        file.write_all(&out).expect("write");
        out.clear();
    }
    sink.finish(&mut out);
    file.write_all(&out).expect("write");
    file.flush().expect("write");
    drop(file);
    let size = std::fs::metadata(&path).expect("size").len();
    println!(
        "encoded {minutes} min stereo {rate} Hz Opus: {:.1} MB in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_hwm_kib();
    let started = Instant::now();
    let peaks =
        rec_admin::peaks::opus_peaks(std::fs::File::open(&path).expect("open")).expect("peaks");
    let took = started.elapsed();
    let after = vm_hwm_kib();
    println!(
        "peaks: {} bytes in {:.2} s ({:.0}x real time); VmHWM {:?} KiB before, {:?} KiB after",
        peaks.len(),
        took.as_secs_f64(),
        f64::from(minutes * 60) / took.as_secs_f64(),
        before,
        after
    );
    let _ = std::fs::remove_file(&path);
}
