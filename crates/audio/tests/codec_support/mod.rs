//! Shared helpers of the codec / encoder tests: a speech-like test signal, similarity measures, external tools.
#![allow(dead_code, clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::PathBuf;
use std::process::Command;

/// A deterministic speech-like signal: a glottal-ish harmonic series whose pitch glides 100–220 Hz, shaped by
/// two moving formant-like weights, cut into 150–400 ms "syllables" with short pauses. Peak about −6 dBFS.
pub fn speech_like(rate: u32, secs: f64, seed: u32) -> Vec<i16> {
    let n = (f64::from(rate) * secs) as usize;
    let mut out = Vec::with_capacity(n);
    let mut phase = 0f64;
    let mut rng = seed.wrapping_mul(2_654_435_761).max(1);
    let mut next_rand = move || {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        f64::from(rng) / f64::from(u32::MAX)
    };
    let mut syl_left = 0usize;
    let mut syl_len = 1usize;
    let mut pause = false;
    let (mut f1, mut f2) = (500.0, 1500.0);
    let nyq = f64::from(rate) / 2.0;
    for i in 0..n {
        if syl_left == 0 {
            pause = !pause && next_rand() < 0.3;
            syl_len = ((0.15 + 0.25 * next_rand()) * f64::from(rate)) as usize;
            if pause {
                syl_len /= 3;
            }
            syl_left = syl_len;
            f1 = 300.0 + 600.0 * next_rand();
            f2 = 900.0 + 1600.0 * next_rand();
        }
        syl_left -= 1;
        let t = i as f64 / f64::from(rate);
        let f0 = 160.0 + 60.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
        phase += f0 / f64::from(rate);
        let mut v = 0.0;
        let mut h = 1.0;
        while h * f0 < nyq.min(3800.0) {
            let f = h * f0;
            let w = 1.0 / h
                + 2.0 / (1.0 + ((f - f1) / 120.0).powi(2))
                + 1.0 / (1.0 + ((f - f2) / 200.0).powi(2));
            v += w * (2.0 * std::f64::consts::PI * h * phase).sin();
            h += 1.0;
        }
        let pos = (syl_len - syl_left) as f64 / syl_len as f64;
        let env = if pause {
            0.0
        } else {
            (std::f64::consts::PI * pos).sin().powf(0.5)
        };
        out.push((v * env * 2200.0).clamp(-32767.0, 32767.0) as i16);
    }
    out
}

/// Pearson correlation of two equally long sample runs (the shorter length is used).
pub fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let ma = a.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let mb = b.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    sab / (saa * sbb).sqrt().max(1e-9)
}

/// Signal-to-noise ratio in dB of `test` against `reference` (noise = difference).
pub fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let n = reference.len().min(test.len());
    let (mut s, mut e) = (0.0, 0.0);
    for (&r, &t) in reference[..n].iter().zip(&test[..n]) {
        s += f64::from(r).powi(2);
        e += (f64::from(r) - f64::from(t)).powi(2);
    }
    10.0 * (s / e.max(1e-9)).log10()
}

/// The delay (0..=max_lag samples) of `test` behind `reference` that maximises their correlation, and it.
pub fn best_lag(reference: &[i16], test: &[i16], max_lag: usize) -> (usize, f64) {
    (0..=max_lag)
        .filter(|&l| l < test.len())
        .map(|l| (l, correlation(reference, &test[l..])))
        .fold((0, f64::MIN), |acc, x| if x.1 > acc.1 { x } else { acc })
}

/// True when `tool` runs; prints a note otherwise (the assertion depending on it is skipped).
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--help").output().is_ok();
    if !ok {
        eprintln!("NOTE: `{tool}` not installed, skipping the check that uses it");
    }
    ok
}

/// A fresh path in the temp directory for this test process.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rec-audio-{}-{name}", std::process::id()))
}

/// Little-endian i16 bytes → samples.
pub fn le_samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// Runs a command, panicking with its stderr when it fails; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}
