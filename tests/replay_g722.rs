//! Scenario: a G.722 call (PT 9, `G722/8000` in SDP but 16 kHz audio). The recording must be at 16 kHz with
//! each direction's source signal on its channel.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn g722_call_is_recorded_at_16_khz_matching_the_source() {
    let run = replay(one_call(10, |c| c.codec = Codec::G722), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    for dir in Direction::BOTH {
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(s.codec, "G722");
        assert!(s.decodable);
        assert_eq!(s.packets, gen.streams[dir.index()].stats.packets_captured);
        assert_eq!((s.lost, s.decrypt_failures), (0, 0));
    }
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (16000, 2));
    assert_eq!(report.sample_rate, 16000);
    let secs = chans[0].len() as f64 / 16000.0;
    assert!((9.9..10.5).contains(&secs), "recording length {secs} s");
    for dir in Direction::BOTH {
        // G.722 at 64 kbit/s is near-transparent for tones below 4 kHz (SB-ADPCM lower band at ~6 bits per
        // sample): correlation above 0.99 at 16 kHz (the codec's QMF delay is absorbed by the lag search)
        let (lag, c) = assert_source(&chans[side_of(dir).index()], 16000, dir, 1.0, 3.0, 0.99);
        eprintln!("{dir:?}: correlation {c:.5} at lag {lag}");
        assert_source(&chans[side_of(dir).index()], 16000, dir, 6.0, 3.0, 0.99);
    }
}
