//! Scenario: the Front End protocol trace log of `../shared/domain/examples/example_d_sfb_trace_log.txt`
//! (an SfB INVITE for a PSTN call from the Edge, answered `503 Service Unavailable` by the Mediation
//! Server) fed to the engine as SIP messages, as `recorder replay` does with trace logs. The call it holds
//! must be created with the log's Call-ID, caller and callee, and end failed with the 503 as its reason;
//! a trace log has no media, so there is no recording.

use rec_engine::{CallStatus, Engine, Input, Output, SipMeta};
use recorder_tests::replay::wav_engine;

#[test]
fn trace_log_call_is_created_and_fails_with_the_503() {
    let text = recorder_tests::example('d');
    let records: Vec<_> = rec_sip::trace_log::Reader::new(&text)
        .collect::<Result<_, _>>()
        .expect("trace log reads");
    assert_eq!(records.len(), 2, "INVITE and 503 in the log");
    let mut engine = Engine::new(wav_engine()).expect("engine");
    let mut started = Vec::new();
    let mut ended = Vec::new();
    let mut audio = 0;
    let mut last = 0;
    for r in &records {
        last = r.time.unix_micros();
        engine.handle_input(Input::Sip {
            at_us: last,
            meta: SipMeta::default(),
            bytes: &r.message,
        });
        while let Some(o) = engine.poll_output() {
            match o {
                Output::CallStarted { call, meta } => started.push((call, meta)),
                Output::CallEnded { call, report } => ended.push((call, report)),
                Output::Audio { .. } | Output::Rtp { .. } => audio += 1,
                Output::CallUpdated { .. } => {}
            }
        }
    }
    // the 503 ends the call at once: nothing is left for the end of input
    assert_eq!(engine.active_calls(), 0);
    engine.finish(last);
    assert!(engine.poll_output().is_none());
    assert_eq!(engine.stats().sip_messages, 2);
    assert_eq!(engine.stats().sip_errors, 0);
    assert_eq!(started.len(), 1);
    assert_eq!(ended.len(), 1);
    assert_eq!(started[0].0, ended[0].0);
    assert_eq!(audio, 0, "no media in a trace log");
    let report = &ended[0].1;
    let m = &report.meta;
    assert_eq!(m.call_id, "a02b9849-77d7-4a4b-9bdc-a6fba42dc931");
    assert_eq!(m.from.uri, "sip:+442081234567@contoso.example;user=phone");
    assert_eq!(m.from.number.as_deref(), Some("+442081234567"));
    assert_eq!(m.to.uri, "sip:+447912345678@contoso.example;user=phone");
    assert_eq!(m.to.number.as_deref(), Some("+447912345678"));
    assert_eq!(m.asserted_identity, vec!["tel:+442081234567".to_string()]);
    assert!(m.privacy, "Privacy: id");
    assert_eq!(m.target_class.as_deref(), Some("secondary"));
    // times: the log's timestamps (UTC, ms): INVITE 2017-02-15 11:02:54.101, 503 at 11:02:55.214
    assert_eq!(m.started_at_us, 1_487_156_574_101_000);
    assert_eq!(m.ended_at_us, Some(1_487_156_575_214_000));
    assert_eq!(m.answered_at_us, None);
    assert_eq!(report.status, CallStatus::Failed, "{:?}", report.notes);
    assert_eq!(m.end_reason.as_deref(), Some("503 Service Unavailable"));
    assert!(
        m.diagnostics
            .as_deref()
            .is_some_and(|d| d.starts_with("10014;")),
        "{:?}",
        m.diagnostics
    );
    assert!(report.streams.is_empty() && report.dtmf.is_empty());
    assert_eq!((report.audio_ms, report.sample_rate), (0, 0));
}
