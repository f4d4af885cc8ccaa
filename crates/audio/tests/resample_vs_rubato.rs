//! The own resampler against rubato (`Fft`) and against the ideal signal, for the mixer's
//! conversions 8 → 16 kHz, 16 → 48 kHz and 48 → 16 kHz, on a 1 kHz sine and a sweep through the speech band
//! (100 Hz to 0.45 × the lower rate), in 20 ms frames as the mixer feeds it.
//!
//! SNR against the ideal = power of the ideal signal / power of (output − ideal) over the middle 70 % (start-up
//! and end excluded), after removing each converter's known delay. Figures (printed with `--nocapture`) are in
//! BENCHMARKS.md; the thresholds sit a few dB under the measured values.
mod resample_support;
use resample_support::*;

const SECS: f64 = 1.0;

fn snr(reference: &[f64], test: &[i16]) -> f64 {
    let n = reference.len().min(test.len());
    let (lo, hi) = (n * 15 / 100, n * 85 / 100);
    let (mut s, mut e) = (0.0, 0.0);
    for i in lo..hi {
        s += reference[i] * reference[i];
        let d = f64::from(test[i]) - reference[i];
        e += d * d;
    }
    10.0 * (s / e.max(1e-12)).log10()
}

fn ideal(signal: Signal, rate: u32) -> Vec<f64> {
    (0..(f64::from(rate) * SECS) as usize)
        .map(|i| signal.at(i as f64 / f64::from(rate)))
        .collect()
}

/// (in, out, signal, minimum SNR of ours against the ideal in dB: a few dB under the measured value)
fn cases() -> Vec<(u32, u32, &'static str, Signal, f64)> {
    let sweep = |top: f64| Signal::Sweep {
        f0: 100.0,
        f1: top,
        secs: SECS,
    };
    vec![
        (8000, 16000, "sine 1k", Signal::Sine(1000.0), 85.0),
        (8000, 16000, "sweep 0.1-3.6k", sweep(3600.0), 80.0),
        (8000, 16000, "sine 3.4k", Signal::Sine(3400.0), 70.0),
        (16000, 48000, "sine 1k", Signal::Sine(1000.0), 85.0),
        (16000, 48000, "sweep 0.1-7.2k", sweep(7200.0), 80.0),
        (16000, 48000, "sine 7k", Signal::Sine(7000.0), 50.0),
        (48000, 16000, "sine 1k", Signal::Sine(1000.0), 85.0),
        (48000, 16000, "sweep 0.1-7.2k", sweep(7200.0), 80.0),
        (48000, 16000, "sine 7k", Signal::Sine(7000.0), 50.0),
    ]
}

#[test]
fn resample_quality_against_rubato_and_ideal() {
    println!("| conversion | signal | ours vs ideal | rubato Fft vs ideal | ours vs rubato Fft |");
    for (i, o, label, signal, min_ours) in cases() {
        let reference = ideal(signal, o);
        let outs: Vec<Vec<i16>> = Kind::ALL
            .iter()
            .map(|&k| convert_aligned(k, i, o, signal, SECS))
            .collect();
        let vs_ideal: Vec<f64> = outs.iter().map(|y| snr(&reference, y)).collect();
        let rubato: Vec<f64> = outs[1].iter().map(|&x| f64::from(x)).collect();
        let between = snr(&rubato, &outs[0]);
        println!(
            "| {}k→{}k | {label} | {:.1} dB | {:.1} dB | {:.1} dB |",
            i / 1000,
            o / 1000,
            vs_ideal[0],
            vs_ideal[1],
            between
        );
        assert!(
            vs_ideal[0] >= min_ours,
            "ours {i}→{o} {label}: {:.1} dB",
            vs_ideal[0]
        );
        // the harness itself: rubato is a high-quality reference on every case (and alignment is right)
        assert!(
            vs_ideal[1] >= 60.0,
            "rubato {i}→{o} {label}: {:.1} dB",
            vs_ideal[1]
        );
    }
}

/// Down-sampling must filter what the output rate cannot carry: a tone above the output Nyquist frequency
/// (10 and 12 kHz into 48 → 16 kHz) should vanish, not alias to 6 / 4 kHz. Output power relative to the input
/// tone's power.
#[test]
fn resample_alias_rejection_48k_to_16k() {
    for f in [9000.0, 10000.0, 12000.0] {
        let mut row = Vec::new();
        for k in Kind::ALL {
            let y = convert_aligned(k, 48000, 16000, Signal::Sine(f), SECS);
            let n = y.len();
            let p: f64 = y[n * 15 / 100..n * 85 / 100]
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>()
                / (n * 70 / 100) as f64;
            let rel = 10.0 * (p.max(1e-12) / (16000.0f64 * 16000.0 / 2.0)).log10();
            row.push(rel);
        }
        println!(
            "alias {f} Hz 48k→16k: ours {:.1} dB, rubato Fft {:.1} dB",
            row[0], row[1]
        );
        assert!(
            row[0] <= -60.0 && row[1] <= -60.0,
            "{f} Hz gets through: {row:?}"
        );
    }
}
