//! Scenario: one call whose internal leg goes through the Edge with standard TURN (a ChannelBind, then
//! ChannelData on channel 0x4000) and whose external leg is raw SRTP, both seen on the SPAN port. The
//! recording must be complete, each packet counted once (the second leg as duplicates), and each direction's
//! source signal on its own channel.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn channeldata_call_is_complete_with_each_direction_on_its_channel() {
    let run = replay(
        one_call(12, |c| c.topology = Topology::ChannelData),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    assert_eq!(report.meta.call_id, gen.call_id);
    assert_eq!(report.meta.end_reason.as_deref(), Some("BYE from caller"));
    assert_eq!(report.streams.len(), 2, "{:?}", report.streams);
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        let side = side_of(dir);
        let s = streams_of(report, side);
        assert_eq!(s.len(), 1, "{side:?}: one stream");
        let s = s[0];
        assert_eq!(s.ssrc, g.ssrcs[0], "{side:?}");
        assert_eq!(s.codec, "PCMA");
        assert!(s.decodable);
        // every packet is on the wire twice (ChannelData inside, raw outside): counted once, the copy as duplicate
        assert_eq!(
            g.stats.frames,
            2 * g.stats.packets_captured,
            "generator: two legs per packet"
        );
        assert_eq!(s.packets, g.stats.packets_captured, "{side:?}");
        assert_eq!(s.duplicates, g.stats.packets_captured, "{side:?}");
        assert_eq!((s.lost, s.decrypt_failures), (0, 0), "{side:?}");
        assert!(
            s.transport.contains("channeldata") && s.transport.contains("raw"),
            "{}",
            s.transport
        );
        assert!(!s.transport.contains("ms-turn"), "{}", s.transport);
    }
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    let secs = chans[0].len() as f64 / 8000.0;
    assert!((11.9..12.5).contains(&secs), "recording length {secs} s");
    for dir in Direction::BOTH {
        // G.711 A-law keeps ~38 dB SNR on these tones: correlation above 0.99 at a lag within ±50 ms
        assert_source(&chans[side_of(dir).index()], 8000, dir, 1.0, 4.0, 0.99);
        assert_source(&chans[side_of(dir).index()], 8000, dir, 7.0, 4.0, 0.99);
    }
}
