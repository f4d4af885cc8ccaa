//! Scenario: a 10-minute direct call whose senders' clocks are off: the caller's runs 100 ppm fast (its
//! 20 ms packets come every 19.998 ms of capture time), the callee's 100 ppm slow. Over 10 minutes that is
//! ±60 ms between what the RTP timestamps say and the capture clock. The recording is on the capture
//! clock (both channels side by side as they were heard), so each channel must stay where its audio was
//! sent: the offset between a recorded sample and the capture time at which the generator sent that source
//! sample must be the same (within 5 ms) in the first and in the last minute — no growing offset.
//!
//! The generator sends source sample `k` at `media_start + k / 8000 s / (1 + ppm·10⁻⁶)` (slot `k / 160`,
//! slots `20 ms / (1 + ppm·10⁻⁶)` apart). If the recording holds it at sample `k + lag` (best lag against
//! the source), its offset from the capture clock is `lag / 8000 + k·ppm·10⁻⁶ / (8000·(1 + ppm·10⁻⁶))` s
//! plus the recording's constant start. A recorder that ignored the drift and laid samples end to end
//! would keep `lag` constant and so drift ±60 ms from the capture clock (and the two channels 120 ms apart).

use rec_engine::CallStatus;
use recorder_tests::replay::*;

const PPM: [f64; 2] = [100.0, -100.0];

#[test]
fn sender_clock_drift_does_not_accumulate_an_offset() {
    let run = replay(
        one_call(600, |c| {
            c.topology = Topology::Direct;
            c.remote_candidates_reinvite = false;
            c.impairments.drift_ppm = PPM;
        }),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    let secs = chans[0].len() as f64 / 8000.0;
    assert!((599.5..600.5).contains(&secs), "recording {secs} s");
    let mut offsets = [[0.0f64; 2]; 2];
    for dir in Direction::BOTH {
        let d = dir.index();
        let g = &gen.streams[d];
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(s.packets, g.stats.packets_captured, "{dir:?}");
        assert_eq!((s.lost, s.decrypt_failures), (0, 0), "{dir:?}");
        let ch = &chans[side_of(dir).index()];
        let p = PPM[d] * 1e-6;
        // one-second windows (the drift moves the audio by at most 0.1 ms inside one), ±100 ms search located
        // on the envelope first (a tone-only search can lock onto a peak whole periods away); G.711 windows
        // correlate above 0.99 at the right lag (0.993 with the recorder's one-sample slips inside)
        for (m, at_s) in [(0, 30.0), (1, 570.0)] {
            let from = (at_s * 8000.0) as usize;
            let src = source_from(dir, 8000, 0, from + 8000 + 800);
            let (lag, c, _) = locate(ch, &src, 8000, from, 8000, 800);
            assert!(
                c > 0.99,
                "{dir:?} at {at_s} s: correlation {c} at lag {lag}"
            );
            offsets[d][m] = lag as f64 / 8000.0 + from as f64 * p / (8000.0 * (1.0 + p));
            eprintln!("{dir:?} at {at_s} s: lag {lag} samples (c {c:.5}), offset from the capture clock {:.2} ms", offsets[d][m] * 1e3);
        }
    }
    for dir in Direction::BOTH {
        let d = dir.index();
        let growth_ms = (offsets[d][1] - offsets[d][0]) * 1e3;
        assert!(
            growth_ms.abs() < 5.0,
            "{dir:?}: offset grew by {growth_ms:.2} ms in 9 minutes"
        );
    }
    // and so the channels stay together: their offsets differ as much at the end as at the start
    let skew = |m: usize| (offsets[0][m] - offsets[1][m]) * 1e3;
    assert!(
        (skew(1) - skew(0)).abs() < 5.0,
        "channels moved apart: {:.2} ms → {:.2} ms",
        skew(0),
        skew(1)
    );
}
