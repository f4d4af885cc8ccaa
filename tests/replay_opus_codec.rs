//! Scenario: an Opus call (`opus/48000/2`, mono 20 ms frames). The recording must be at 48 kHz with each
//! direction's source signal on its channel.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn opus_call_is_recorded_at_48_khz_matching_the_source() {
    let run = replay(one_call(8, |c| c.codec = Codec::Opus), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    for dir in Direction::BOTH {
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(s.codec.to_ascii_lowercase(), "opus");
        assert!(s.decodable);
        assert_eq!(s.packets, gen.streams[dir.index()].stats.packets_captured);
        assert_eq!((s.lost, s.decrypt_failures), (0, 0));
    }
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (48000, 2));
    assert_eq!(report.sample_rate, 48000);
    let secs = chans[0].len() as f64 / 48000.0;
    assert!((7.9..8.5).contains(&secs), "recording length {secs} s");
    for dir in Direction::BOTH {
        // Opus is a perceptual codec: at libopus's default bit rate (the generator sets none) the waveform
        // is kept less exactly than by G.711/G.722 (measured 0.997 / 0.999 here), so 0.95 is required;
        // the other direction's signal stays below 0.2. A 1 s window keeps the lag search at 48 kHz cheap.
        let (lag, c) = assert_source(&chans[side_of(dir).index()], 48000, dir, 1.0, 1.0, 0.95);
        eprintln!("{dir:?}: correlation {c:.5} at lag {lag}");
        assert_source(&chans[side_of(dir).index()], 48000, dir, 5.0, 1.0, 0.95);
    }
}
