//! Scenario: 5 s after the answer both directions switch to a new SSRC (new sequence and timestamp bases),
//! as an endpoint does after a device change. The report must list four streams (two per side, the SSRCs
//! the generator used, each with its share of the packets) and the audio must continue without a jump.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn new_ssrcs_mid_call_are_new_streams_with_continuous_audio() {
    let run = replay(
        one_call(12, |c| c.impairments.ssrc_change_at_ms = Some(5000)),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    assert_eq!(report.streams.len(), 4, "{:?}", report.streams);
    // slots before the switch: those sent before answer + 5 s, the media starting at media_start_us
    let switch = gen.times.answer_us + 5_000_000;
    let before = (switch - gen.times.media_start_us).div_ceil(20_000);
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        assert_eq!(g.ssrcs.len(), 2);
        let s = streams_of(report, side_of(dir));
        assert_eq!(s.len(), 2, "{dir:?}");
        assert_eq!(
            (s[0].ssrc, s[1].ssrc),
            (g.ssrcs[0], g.ssrcs[1]),
            "{dir:?}: SSRCs in order of use"
        );
        assert_eq!(s[0].packets, before, "{dir:?}");
        assert_eq!(
            s[0].packets + s[1].packets,
            g.stats.packets_captured,
            "{dir:?}"
        );
        for st in &s {
            assert_eq!(
                (st.lost, st.decrypt_failures),
                (0, 0),
                "{dir:?} {:#x}",
                st.ssrc
            );
        }
        assert!(s[1].first_at_us >= switch as i64 && s[0].last_at_us < switch as i64 + 1000);
        // continuous: every 20 ms frame is its source frame at one lag (G.711 frames correlate above 0.99;
        // a gap, overlap or jump at the switch would drop a frame below 0.98)
        let ch = &chans[side_of(dir).index()];
        let (lag, _) = assert_source(ch, 8000, dir, 1.0, 3.0, 0.99);
        let (lag_after, _) = assert_source(ch, 8000, dir, 6.0, 4.0, 0.99);
        assert!(
            (lag - lag_after).abs() <= 8,
            "{dir:?}: lag {lag} before, {lag_after} after"
        );
        let frames = (ch.len() / 160).min(g.stats.packets_sent as usize) - 1;
        let src = source_signal(dir, 8000, ch.len() + 800);
        let (frame_lag_, _) = frame_lag(ch, &src, 8000, 1, frames, 400, 0.98);
        let corr = frame_correlations(ch, &src, 8000, frame_lag_, 1, frames);
        let bad: Vec<usize> = corr
            .iter()
            .enumerate()
            .filter(|(_, &c)| c < 0.98)
            .map(|(i, _)| i + 1)
            .collect();
        assert!(
            bad.is_empty(),
            "{dir:?}: frames {bad:?} differ from the source (switch at frame {before})"
        );
    }
}
