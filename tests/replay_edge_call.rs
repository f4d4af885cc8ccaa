//! Scenario: one Lync call through the Edge (MS-TURN Send/Data on the internal side, raw SRTP on the external
//! side, both seen by the SPAN port), PCMA, signaling as SIP over TCP in the capture. The recording must be
//! complete, hold each direction's source signal on its own channel, and count each packet once although the
//! capture holds it twice.

use recorder_tests::replay::*;

#[test]
fn edge_call_is_recorded_complete_with_each_direction_on_its_channel() {
    let run = replay(one_call(12, |_| {}), wav_engine());
    let report = run.only();
    assert_eq!(
        report.status,
        rec_engine::CallStatus::Complete,
        "{:?}",
        report.notes
    );
    let gen = &run.generated[0];
    assert_eq!(report.meta.call_id, gen.call_id);
    assert_eq!(
        report.meta.conversation_id.as_deref(),
        Some(gen.conversation_id.as_str())
    );
    assert_eq!(report.meta.from.uri, gen.from);
    assert_eq!(report.meta.to.uri, gen.to);
    assert!(report.meta.answered_at_us.is_some());
    assert_eq!(report.meta.end_reason.as_deref(), Some("BYE from caller"));
    // one stream per direction, every captured packet counted once, the second Edge leg as duplicates
    assert_eq!(report.streams.len(), 2);
    for (side, g) in [
        (rec_engine::Side::Caller, &gen.streams[0]),
        (rec_engine::Side::Callee, &gen.streams[1]),
    ] {
        let s = report
            .streams
            .iter()
            .find(|s| s.direction == Some(side))
            .expect("stream per side");
        assert_eq!(s.ssrc, g.ssrcs[0]);
        assert_eq!(s.codec, "PCMA");
        assert_eq!(s.packets, g.stats.packets_captured, "{side:?}");
        assert_eq!(
            s.duplicates, g.stats.packets_captured,
            "{side:?}: the external leg repeats every packet"
        );
        assert_eq!((s.lost, s.decrypt_failures), (0, 0));
        assert!(
            s.transport.contains("ms-turn") && s.transport.contains("raw"),
            "{}",
            s.transport
        );
    }
    // stereo 8 kHz: channel 0 = caller's signal, channel 1 = callee's, each correlating with its own source
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    let secs = chans[0].len() as f64 / 8000.0;
    assert!((11.9..12.5).contains(&secs), "recording length {secs} s");
    for (ch, dir) in [
        (0, Direction::CallerToCallee),
        (1, Direction::CalleeToCaller),
    ] {
        let src = source_signal(dir, 8000, chans[ch].len());
        let (lag, c) = best_lag(&chans[ch], &src, 8000, 4 * 8000, 400);
        // G.711 A-law keeps ~38 dB SNR: correlation above 0.99; the channel starts within 50 ms of the source
        assert!(c > 0.99, "channel {ch}: correlation {c} at lag {lag}");
        let other = source_signal(
            if ch == 0 {
                Direction::CalleeToCaller
            } else {
                Direction::CallerToCallee
            },
            8000,
            chans[ch].len(),
        );
        let (_, wrong) = best_lag(&chans[ch], &other, 8000, 4 * 8000, 400);
        assert!(
            wrong < 0.2,
            "channel {ch} also looks like the other direction ({wrong})"
        );
    }
}
