//! Scenario: 5 s into the call a re-INVITE offers a new key, its 200 OK answers with a new key, and both
//! directions switch to the new keys at that 200 OK. Every packet must still decrypt (old key before, new
//! key after), be counted once, and the audio after the re-key must be the source, in place.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn re_invite_rekey_keeps_every_packet_decrypting() {
    let run = replay(
        one_call(12, |c| c.impairments.rekey_at_ms = Some(5000)),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        assert_eq!(g.keys.len(), 2, "generator: two keys");
        assert_ne!(g.keys[0], g.keys[1]);
        let s = streams_of(report, side_of(dir));
        assert_eq!(s.len(), 1, "{dir:?}: same SSRC across the re-key ({s:?})");
        let s = s[0];
        assert_eq!(s.decrypt_failures, 0, "{dir:?}");
        assert_eq!(s.packets, g.stats.packets_captured, "{dir:?}");
        assert_eq!(s.lost, 0, "{dir:?}");
        // the key switches at answer + 5.04 s, media started at answer + 0.04 s: compare 1–4 s and 6–11 s of
        // media; G.711 correlation above 0.99 on both sides of the re-key, at the same lag (±1 ms)
        let ch = &chans[side_of(dir).index()];
        let (before, _) = assert_source(ch, 8000, dir, 1.0, 3.0, 0.99);
        let (after, _) = assert_source(ch, 8000, dir, 6.0, 5.0, 0.99);
        assert!(
            (before - after).abs() <= 8,
            "{dir:?}: lag {before} before, {after} after the re-key"
        );
    }
}
