//! Scenario: the capture starts late in a call whose sequence numbers already wrapped: the first 100
//! packets of each direction are missing, the first captured one has sequence number 0 and ROC 1 (the
//! signaling, with the keys, is still there). The engine cannot see the wrap, so it must find the ROC:
//! every captured packet has to decrypt and the audio must be the source from slot 100 on.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn capture_after_a_sequence_wrap_decrypts_every_packet() {
    let run = replay(
        one_call(10, |c| c.impairments.mid_call_roc = true),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        assert_eq!(
            g.stats.packets_before_capture, 100,
            "generator: 100 packets before the capture"
        );
        let s = streams_of(report, side_of(dir));
        assert_eq!(s.len(), 1, "{dir:?}: {s:?}");
        let s = s[0];
        assert_eq!(s.ssrc, g.ssrcs[0]);
        assert_eq!(s.decrypt_failures, 0, "{dir:?}");
        assert_eq!(
            s.packets, g.stats.packets_captured,
            "{dir:?}: every captured packet decrypted and counted"
        );
        assert_eq!(s.lost, 0, "{dir:?}: nothing missing inside the capture");
        // The recording starts with the first captured packet, slot 100 (source sample 16 000), so the
        // source is compared from there: G.711 correlation above 0.99 within ±50 ms.
        let ch = &chans[side_of(dir).index()];
        let first = g.stats.packets_before_capture * 160;
        let len = 4 * 8000;
        let src = source_from(dir, 8000, first, len + 8000);
        let (lag, c) = best_lag(ch, &src, 4000, len, 400);
        assert!(c > 0.99, "{dir:?}: correlation {c} at lag {lag}");
        let wrong = source_from(other(dir), 8000, first, len + 8000);
        let (_, w) = best_lag(ch, &wrong, 4000, len, 400);
        assert!(w < 0.2, "{dir:?}: other direction {w}");
    }
}
