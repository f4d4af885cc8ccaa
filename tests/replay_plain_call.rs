//! Scenario: a non-Lync SIP call (single `application/sdp`, RTP/SAVP with `a=crypto` without MKI, no ICE,
//! SRTP straight between the two hosts). The recording must be complete and hold each direction's source
//! signal on its own channel; each packet is on the wire once.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn plain_savp_call_without_mki_is_recorded_complete() {
    let run = replay(one_call(10, |c| c.topology = Topology::Plain), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    assert!(
        gen.streams[0].keys[0].starts_with("inline:") && !gen.streams[0].keys[0].contains('|'),
        "generator: a plain key without lifetime/MKI ({})",
        gen.streams[0].keys[0]
    );
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    assert_eq!(report.meta.call_id, gen.call_id);
    assert_eq!(report.meta.from.uri, gen.from);
    assert_eq!(report.meta.to.uri, gen.to);
    assert_eq!(report.meta.end_reason.as_deref(), Some("BYE from caller"));
    assert_eq!(report.streams.len(), 2, "{:?}", report.streams);
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        let s = streams_of(report, side_of(dir));
        assert_eq!(s.len(), 1);
        let s = s[0];
        assert_eq!(s.ssrc, g.ssrcs[0]);
        assert_eq!(s.codec, "PCMA");
        assert_eq!(
            g.stats.frames, g.stats.packets_captured,
            "generator: one leg"
        );
        assert_eq!(s.packets, g.stats.packets_captured, "{dir:?}");
        assert_eq!(
            (s.duplicates, s.lost, s.decrypt_failures),
            (0, 0, 0),
            "{dir:?}"
        );
        assert_eq!(s.transport, "raw");
    }
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    let secs = chans[0].len() as f64 / 8000.0;
    assert!((9.9..10.5).contains(&secs), "recording length {secs} s");
    for dir in Direction::BOTH {
        // G.711 A-law: ~38 dB SNR, correlation above 0.99
        assert_source(&chans[side_of(dir).index()], 8000, dir, 1.0, 4.0, 0.99);
        assert_source(&chans[side_of(dir).index()], 8000, dir, 5.5, 4.0, 0.99);
    }
}
