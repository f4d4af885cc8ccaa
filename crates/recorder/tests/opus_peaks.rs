//! The waveform of an Ogg Opus recording: `recorder replay --format opus` of a generated call leaves a
//! `<file>.opus.peaks` next to the recording whose two channels follow those of the WAV recording of the same
//! call (Opus is lossy, so the envelopes are compared by correlation, not byte for byte); a growing
//! `.opus.part` gives the waveform of its complete pages.

use std::path::{Path, PathBuf};
use std::process::Command;

use rec_audio::peaks::{parse_peaks, Peaks};
use rec_gen::{GenConfig, Generator, PcapWriter};

fn replay(pcap: &Path, out: &Path, format: &str) -> PathBuf {
    let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["replay", pcap.to_str().unwrap(), "--out"])
        .arg(out)
        .args(["--format", format])
        .output()
        .expect("run recorder");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut found = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == format) {
                found.push(p);
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

/// Per pixel, the peak-to-peak height of channel `c`.
fn envelope(p: &Peaks, c: usize) -> Vec<f64> {
    p.pairs
        .chunks(usize::from(p.channels))
        .map(|px| f64::from(px[c].1) - f64::from(px[c].0))
        .collect()
}

/// Pearson correlation of two envelopes over their common length.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (ma, mb) = (
        a[..n].iter().sum::<f64>() / n as f64,
        b[..n].iter().sum::<f64>() / n as f64,
    );
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (a[i] - ma, b[i] - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa.sqrt() * bb.sqrt())
}

#[test]
fn opus_recording_has_a_waveform_like_the_wav_of_the_same_call() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("edge.pcap");
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = 8000;
    let mut w = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&pcap).unwrap(),
    ))
    .unwrap();
    for f in Generator::new(cfg) {
        w.write_frame(f.at_us, &f.data).unwrap();
    }
    w.finish().unwrap();

    let wav = replay(&pcap, &dir.path().join("wav"), "wav");
    let opus = replay(&pcap, &dir.path().join("opus"), "opus");
    let read = |audio: &Path| {
        let sidecar = rec_admin::peaks::sidecar_path(audio);
        parse_peaks(&std::fs::read(&sidecar).expect("the store wrote the peaks at finalisation"))
            .unwrap()
    };
    let (pw, po) = (read(&wav), read(&opus));
    assert_eq!(po.channels, 2);
    assert_eq!(
        (po.sample_rate, po.samples_per_pixel),
        (pw.sample_rate, pw.samples_per_pixel)
    );
    // same length within a frame or two (pre-skip and end trimming are applied)
    let (lw, lo) = (pw.pairs.len() / 2, po.pairs.len() / 2);
    assert!(lw.abs_diff(lo) <= 3 && lw >= 350, "{lw} vs {lo} pixels");
    for c in 0..2 {
        let (ew, eo) = (envelope(&pw, c), envelope(&po, c));
        let loudest = eo.iter().cloned().fold(0.0, f64::max);
        assert!(loudest >= 4000.0, "channel {c} is blank: {loudest}");
        let r = pearson(&ew, &eo);
        eprintln!("channel {c}: envelope correlation {r:.3}, loudest {loudest}");
        assert!(r > 0.9, "channel {c}: envelope correlation {r}");
    }
    // the two channels differ (caller and callee are not swapped or duplicated)
    let cross = pearson(&envelope(&pw, 0), &envelope(&po, 1));
    assert!(cross < pearson(&envelope(&pw, 0), &envelope(&po, 0)));

    // the same recording while it was running: a .part cut in the middle of a page
    let bytes = std::fs::read(&opus).unwrap();
    let part = dir.path().join("running.opus.part");
    std::fs::write(&part, &bytes[..bytes.len() / 2 + 17]).unwrap();
    let running =
        parse_peaks(&rec_admin::peaks::opus_peaks(std::fs::File::open(&part).unwrap()).unwrap())
            .unwrap();
    let n = running.pairs.len();
    assert!(n > po.pairs.len() / 4 && n < po.pairs.len(), "{n}");
    // everything but the last (partial) pixel is what the finished file has
    assert_eq!(running.pairs[..n - 2], po.pairs[..n - 2]);
}
