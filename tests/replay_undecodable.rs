//! Scenario: a call with the proprietary `x-msrta` (RTAudio) codec, which the recorder cannot decode. The
//! call must end `Undecodable`, write no audio file, and keep every decrypted RTP packet of both directions.

use rec_engine::CallStatus;
use recorder_tests::replay::*;

#[test]
fn x_msrta_call_keeps_decrypted_rtp_and_writes_no_audio() {
    let run = replay(one_call(6, |c| c.codec = Codec::XMsrta), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(report.status, CallStatus::Undecodable, "{:?}", report.notes);
    assert!(
        run.files.is_empty(),
        "no audio file expected, got {} byte(s)",
        run.files.values().map(Vec::len).sum::<usize>()
    );
    assert_eq!((report.audio_ms, report.sample_rate), (0, 0));
    let handle = run.handles[0];
    let captured: u64 = gen.streams.iter().map(|s| s.stats.packets_captured).sum();
    assert!(captured > 500);
    assert_eq!(
        run.rtp_packets.get(&handle).copied().unwrap_or(0) as u64,
        captured,
        "every captured packet kept once"
    );
    assert_eq!(report.streams.len(), 2);
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(s.ssrc, g.ssrcs[0]);
        assert_eq!(s.codec, "x-msrta");
        assert!(!s.decodable, "{dir:?}: flagged not decodable");
        assert_eq!(s.packets, g.stats.packets_captured);
        assert_eq!(s.decrypt_failures, 0);
    }
}
