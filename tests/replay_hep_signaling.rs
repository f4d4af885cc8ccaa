//! Scenario: the same Lync Edge call with its signaling captured two other ways: SIP inside HEPv3 over UDP
//! (a Front End's capture agent sending to a collector, the original addresses inside), and plain SIP over
//! UDP (large messages IPv4-fragmented). Each SIP message must be handled once and the call recorded
//! complete with its metadata.

use rec_engine::CallStatus;
use rec_gen::SignalingMode;
use recorder_tests::replay::*;

fn check(mode: SignalingMode) {
    let run = replay(one_call(8, |c| c.signaling = mode), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    assert_eq!(
        report.status,
        CallStatus::Complete,
        "{mode:?}: {:?}",
        report.notes
    );
    // every generated SIP message reached the engine's SIP handling exactly once, none failed to parse
    assert_eq!(run.stats.sip_messages, gen.sip_messages, "{mode:?}");
    assert_eq!(run.stats.sip_errors, 0, "{mode:?}");
    assert_eq!(report.meta.call_id, gen.call_id);
    assert_eq!(
        report.meta.conversation_id.as_deref(),
        Some(gen.conversation_id.as_str())
    );
    assert_eq!(report.meta.from.uri, gen.from);
    assert_eq!(report.meta.to.uri, gen.to);
    assert_eq!(
        report.meta.from.display.as_deref(),
        Some(gen.from_name.as_str())
    );
    // (the generator's To header carries no display name)
    // the INVITE / 200 OK times are the generator's (a fragmented message is complete with its last
    // fragment, which the generator sends 1 µs per fragment later)
    let near = |got: i64, want: u64| (0..10).contains(&(got - want as i64));
    assert!(
        near(report.meta.started_at_us, gen.times.invite_us),
        "{mode:?}: {} vs {}",
        report.meta.started_at_us,
        gen.times.invite_us
    );
    let answered = report.meta.answered_at_us.expect("answered");
    assert!(
        near(answered, gen.times.answer_us),
        "{mode:?}: {answered} vs {}",
        gen.times.answer_us
    );
    assert_eq!(report.meta.end_reason.as_deref(), Some("BYE from caller"));
    assert_eq!(report.streams.len(), 2);
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()];
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(s.ssrc, g.ssrcs[0]);
        assert_eq!(s.packets, g.stats.packets_captured, "{mode:?} {dir:?}");
        assert_eq!((s.lost, s.decrypt_failures), (0, 0), "{mode:?} {dir:?}");
    }
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        // G.711 A-law: correlation above 0.99
        assert_source(&chans[side_of(dir).index()], 8000, dir, 1.0, 4.0, 0.99);
    }
}

#[test]
fn sip_inside_hep3_over_udp_is_followed() {
    check(SignalingMode::Hep);
}

#[test]
fn sip_over_fragmented_udp_is_followed() {
    check(SignalingMode::InlineUdp);
}
