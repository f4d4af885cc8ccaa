//! Scenario: the 16-bit RTP sequence numbers of both directions wrap inside the capture (5 s into the
//! media). The wrap must not be taken for loss or a restart: no loss, no decryption failure (the ROC must
//! be advanced), one stream per side, and the audio continuous across the wrap.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn sequence_wrap_inside_the_capture_is_seamless() {
    let run = replay(
        one_call(12, |c| c.impairments.seq_wrap = true),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        // the generator starts the sequence 250 packets (5 s) before the wrap
        assert_eq!(
            g.first_seqs[0],
            0u16.wrapping_sub(250),
            "generator: wrap after 250 packets"
        );
        let s = streams_of(report, side_of(dir));
        assert_eq!(s.len(), 1, "{dir:?}: {s:?}");
        let s = s[0];
        assert_eq!(s.packets, g.stats.packets_captured, "{dir:?}");
        assert_eq!((s.lost, s.decrypt_failures), (0, 0), "{dir:?}");
        assert_eq!(
            s.duplicates, g.stats.packets_captured,
            "{dir:?}: the Edge's second leg, nothing more"
        );
        // every 20 ms frame of the call (first and last aside) is its source frame at one lag: G.711
        // frames correlate above 0.99, so a single frame below 0.98 means a gap or slip at the wrap
        let ch = &chans[side_of(dir).index()];
        let (lag, _) = assert_source(ch, 8000, dir, 1.0, 3.0, 0.99);
        // the wrap is 5 s into the media: the audio after it sits at the same lag as before (a frame
        // dropped or doubled at the wrap would move it by 160 samples, which the per-frame check below
        // cannot see for the callee's signal, periodic in 16 samples)
        let (lag_after, _) = assert_source(ch, 8000, dir, 6.0, 5.0, 0.99);
        assert!(
            (lag - lag_after).abs() <= 1,
            "{dir:?}: lag {lag} before, {lag_after} after the wrap"
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
            "{dir:?}: frames {bad:?} do not match the source (wrap at frame 250)"
        );
    }
}
