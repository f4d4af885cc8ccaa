//! Scenario: the caller puts the call on hold 3 s after the answer (re-INVITE `a=inactive`) and resumes it
//! at 6 s; no media flows in between. The recording must cover the whole call with silence during the hold
//! on both channels, and the audio before and after the hold must sit at the same place relative to the
//! source (the generator's slots keep counting during the hold, so the source continues in time).

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn hold_is_recorded_as_silence_and_the_audio_resumes_in_place() {
    let run = replay(
        one_call(12, |c| c.impairments.hold_ms = Some((3000, 6000))),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    // duration = the whole call (media start to the BYE), hold included
    let media_s = (gen.times.bye_us - gen.times.media_start_us) as f64 / 1e6;
    let secs = chans[0].len() as f64 / 8000.0;
    assert!(
        (secs - media_s).abs() < 0.3,
        "recording {secs} s, media {media_s} s"
    );
    assert!(
        (report.audio_ms as f64 / 1000.0 - secs).abs() < 0.05,
        "report says {} ms",
        report.audio_ms
    );
    // hold in recording time: from answer + 3 s to the resume's 200 OK (answer + 6.04 s), the recording
    // starting at the first media (answer + 0.04 s) → about [2.96 s, 6.0 s]; checked 100 ms inside
    let to_rec = |us: u64| (us - gen.times.media_start_us) as f64 / 1e6;
    let (hold_a, hold_b) = (
        to_rec(gen.times.answer_us + 3_000_000),
        to_rec(gen.times.answer_us + 6_040_000),
    );
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        // 3.04 s of 20 ms slots without packets
        assert!(
            g.stats.packets_sent < 600 - 140,
            "generator: hold sent nothing ({:?})",
            g.stats
        );
        let s = streams_of(report, side_of(dir));
        assert_eq!(s.len(), 1, "{dir:?}: {s:?}");
        assert_eq!(s[0].packets, g.stats.packets_captured);
        assert_eq!(s[0].lost, 0, "{dir:?}: a hold is not loss");
        let ch = &chans[side_of(dir).index()];
        let hold = &ch[((hold_a + 0.1) * 8000.0) as usize..((hold_b - 0.1) * 8000.0) as usize];
        // the source's RMS is ~5000: "near 0" = below 30 (−55 dB), which any comfort noise or concealment
        // tail reaching into the hold would exceed
        let r = rms(hold);
        assert!(r < 30.0, "{dir:?}: RMS {r} during the hold");
        // before and after: G.711 correlation above 0.99 and the same lag within 20 ms (160 samples)
        let (before, _) = assert_source(ch, 8000, dir, 0.5, 2.0, 0.99);
        let (after, _) = assert_source(ch, 8000, dir, 6.5, 4.0, 0.99);
        assert!(
            (before - after).abs() <= 160,
            "{dir:?}: lag {before} before, {after} after the hold"
        );
        eprintln!("{dir:?}: hold RMS {r:.1}, lag before {before}, after {after}");
    }
}
