//! Scenario: the caller sends two bursts of RFC 4733 telephone events (one digit every 300 ms: 5 event
//! packets then the end packet three times). The report must list exactly the generator's digits, each at
//! the time it was sent (within 50 ms: the generator starts a digit on the next 20 ms slot), from the caller,
//! 120 ms long; the audio around the bursts stays the source.

use rec_engine::{CallStatus, Side};
use rec_gen::DtmfBurst;
use recorder_tests::replay::*;

#[test]
fn telephone_events_are_reported_with_digit_time_and_side() {
    let bursts = vec![
        DtmfBurst {
            digits: "1234".into(),
            at_ms: 3000,
        },
        DtmfBurst {
            digits: "*#0A".into(),
            at_ms: 6000,
        },
    ];
    let run = replay(
        one_call(12, |c| c.impairments.dtmf = bursts.clone()),
        wav_engine(),
    );
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    assert_eq!(gen.digits, "1234*#0A");
    assert_eq!(
        gen.streams[0].stats.dtmf_packets,
        8 * 8,
        "generator: 8 packets per digit"
    );
    let got: String = report.dtmf.iter().map(|d| d.digit).collect();
    assert_eq!(got, gen.digits, "{:?}", report.dtmf);
    let expected: Vec<u64> = bursts
        .iter()
        .flat_map(|b| (0..b.digits.len() as u64).map(move |j| b.at_ms + 300 * j))
        .map(|ms| gen.times.answer_us + ms * 1000)
        .collect();
    for (d, want) in report.dtmf.iter().zip(&expected) {
        let off_ms = (d.at_us - *want as i64) as f64 / 1000.0;
        assert!(
            off_ms.abs() <= 50.0,
            "digit {}: {off_ms} ms from the generator's time",
            d.digit
        );
        assert_eq!(d.side, Side::Caller, "digit {}", d.digit);
        // 6 × 160 samples at 8 kHz in the end packets' duration field
        assert_eq!(d.duration_ms, 120, "digit {}", d.digit);
    }
    // the DTMF packets are RTP packets of the caller's stream: counted with the audio
    let s = streams_of(report, Side::Caller)[0];
    assert_eq!(s.packets, gen.streams[0].stats.packets_captured);
    assert_eq!((s.lost, s.decrypt_failures), (0, 0));
    let (_, chans) = run.only_wav();
    // outside the bursts (media time 3.0–4.3 s and 6.0–7.3 s) both channels are the source (G.711: > 0.99)
    assert_source(&chans[0], 8000, Direction::CallerToCallee, 0.5, 2.0, 0.99);
    assert_source(&chans[0], 8000, Direction::CallerToCallee, 8.0, 3.0, 0.99);
    assert_source(&chans[1], 8000, Direction::CalleeToCaller, 0.5, 10.0, 0.99);
}
