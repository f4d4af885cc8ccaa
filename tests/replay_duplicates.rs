//! Scenario: a direct call (one leg) where 10 % of the packets are captured twice, the copy 1–3 ms later
//! (a SPAN port mirroring the same packet from two ports). Every copy must be counted as a duplicate and
//! the recording must be exactly what the same call gives without duplicates.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn duplicated_packets_are_counted_and_leave_the_audio_untouched() {
    let call = |dup: f64| {
        one_call(10, |c| {
            c.topology = Topology::Direct;
            c.impairments = Impairments {
                duplicate_pct: dup,
                ..Impairments::default()
            };
        })
    };
    let run = replay(call(10.0), wav_engine());
    let clean = replay(call(0.0), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()].stats;
        assert!(
            g.packets_duplicated > 20,
            "generator: duplicates made ({g:?})"
        );
        assert_eq!(g.frames, g.packets_captured + g.packets_duplicated);
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(s.packets, g.packets_captured, "{dir:?}");
        assert_eq!(s.duplicates, g.packets_duplicated, "{dir:?}");
        assert_eq!((s.lost, s.decrypt_failures), (0, 0), "{dir:?}");
    }
    let (rate, chans) = run.only_wav();
    let (clean_rate, clean_chans) = clean.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        let ch = side_of(dir).index();
        // as clean: G.711 correlation above 0.99 …
        assert_source(&chans[ch], 8000, dir, 1.0, 4.0, 0.99);
        assert_source(&chans[ch], 8000, dir, 5.5, 4.0, 0.99);
    }
    // … and in fact the same samples as the call without duplicates (same seed, same packets, same times)
    assert_eq!(clean_rate, rate);
    assert_eq!(clean_chans.len(), 2);
    for ch in 0..2 {
        let n = chans[ch].len().min(clean_chans[ch].len());
        assert!(
            chans[ch].len().abs_diff(clean_chans[ch].len()) <= 160,
            "lengths {} vs {}",
            chans[ch].len(),
            clean_chans[ch].len()
        );
        let differing = (0..n)
            .filter(|&i| chans[ch][i] != clean_chans[ch][i])
            .count();
        assert_eq!(
            differing, 0,
            "channel {ch}: {differing} samples differ from the call without duplicates"
        );
    }
}
