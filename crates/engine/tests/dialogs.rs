//! Calls from signaling alone: how each way a dialog can go ends up in the report (status, reason,
//! metadata), fed with the Lync examples of ../shared/domain/examples and messages derived from them.

#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // the test reads the shared examples

use rec_engine::{CallReport, CallStatus, Engine, EngineConfig, Input, Output, SipMeta};
use rec_rewrite::PolicyConfig;

const T0: i64 = 1_764_000_000_000_000;

fn example(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/domain/examples")
        .join(name);
    String::from_utf8(std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn invite() -> String {
    example("example_a_lync2013_invite_multipart.sip")
}

fn answer() -> String {
    example("example_b_200ok_answer.sip")
}

/// A response to the example INVITE without body: status line + the dialog headers of the 200 OK.
fn response(code: u16, reason: &str, extra: &str) -> String {
    format!(
        "SIP/2.0 {code} {reason}\r\nVia: SIP/2.0/TLS 192.0.2.10:51234\r\nFrom: \"Alice Example\"<sip:alice@contoso.example>;tag=237045a190;epid=fe77ac423f\r\nTo: <sip:bob@fabrikam.example>;epid=1eb09a209a;tag=9e1241812c\r\nCall-ID: ec744625192387425829ce4e58df7eb2\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

/// An in-dialog request (`method`) from the caller (or, with `from_callee`, from the callee).
fn request(method: &str, cseq: u32, from_callee: bool, extra: &str) -> String {
    let (from, to) = (
        "\"Alice Example\"<sip:alice@contoso.example>;tag=237045a190;epid=fe77ac423f",
        "<sip:bob@fabrikam.example>;epid=1eb09a209a;tag=9e1241812c",
    );
    let (f, t) = if from_callee { (to, from) } else { (from, to) };
    format!(
        "{method} sip:peer@example.invalid SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.10:51234\r\nFrom: {f}\r\nTo: {t}\r\nCall-ID: ec744625192387425829ce4e58df7eb2\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

fn run(
    cfg: EngineConfig,
    msgs: &[(i64, String)],
    end_at: Option<i64>,
) -> (Vec<Output>, Vec<CallReport>) {
    let mut e = Engine::new(cfg).unwrap();
    for (dt, m) in msgs {
        e.handle_input(Input::Sip {
            at_us: T0 + dt,
            meta: SipMeta::default(),
            bytes: m.as_bytes(),
        });
    }
    if let Some(t) = end_at {
        e.handle_input(Input::Timeout { at_us: T0 + t });
    }
    e.finish(T0 + 10_000_000_000);
    let mut outs = Vec::new();
    while let Some(o) = e.poll_output() {
        outs.push(o);
    }
    let reports = outs
        .iter()
        .filter_map(|o| match o {
            Output::CallEnded { report, .. } => Some((**report).clone()),
            _ => None,
        })
        .collect();
    (outs, reports)
}

#[test]
fn answered_call_without_media_ends_with_bye_as_no_media_with_its_metadata() {
    let (outs, reports) = run(
        EngineConfig::default(),
        &[
            (0, invite()),
            (2_000_000, answer()),
            (9_000_000, request("BYE", 2, true, "")),
        ],
        None,
    );
    assert!(matches!(outs[0], Output::CallStarted { .. }));
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.status, CallStatus::NoMedia);
    let m = &r.meta;
    assert_eq!(m.call_id, "ec744625192387425829ce4e58df7eb2");
    assert_eq!(m.from.display.as_deref(), Some("Alice Example"));
    assert_eq!(m.from.uri, "sip:alice@contoso.example");
    assert_eq!(m.to.uri, "sip:bob@fabrikam.example");
    assert_eq!(m.started_at_us, T0);
    assert_eq!(m.answered_at_us, Some(T0 + 2_000_000));
    assert_eq!(m.ended_at_us, Some(T0 + 9_000_000));
    assert_eq!(m.end_reason.as_deref(), Some("BYE from callee"));
    // the user agents of both ends, each once (in the examples both run the same Lync build)
    assert_eq!(
        m.user_agents,
        vec!["UCCAPI/15.0.4900.1000 OC/15.0.4900.1000 (Microsoft Lync)".to_string()]
    );
}

#[test]
fn busy_answer_fails_the_call_and_keeps_ms_diagnostics() {
    let diag = "ms-diagnostics: 10014;reason=\"SSL negotiation failed\";source=\"fe01.contoso.example\";component=\"MediationServer\"\r\n";
    let (_, reports) = run(
        EngineConfig::default(),
        &[(0, invite()), (1_000_000, response(486, "Busy Here", diag))],
        None,
    );
    let r = &reports[0];
    assert_eq!(r.status, CallStatus::Failed);
    assert_eq!(r.meta.end_reason.as_deref(), Some("486 Busy Here"));
    assert!(r
        .meta
        .diagnostics
        .as_deref()
        .unwrap()
        .starts_with("10014;reason="));
    assert_eq!(r.meta.answered_at_us, None);
}

#[test]
fn cancel_before_answer_is_a_failed_call() {
    let (_, reports) = run(
        EngineConfig::default(),
        &[(0, invite()), (3_000_000, request("CANCEL", 1, false, ""))],
        None,
    );
    assert_eq!(reports[0].status, CallStatus::Failed);
    assert_eq!(
        reports[0].meta.end_reason.as_deref(),
        Some("CANCEL from caller")
    );
}

#[test]
fn the_200_ok_of_a_bye_does_not_restart_or_end_anything() {
    // only one report, at the BYE; the BYE's 200 (CSeq BYE) is a response, not a BYE
    let mut bye_ok = response(200, "OK", "");
    bye_ok = bye_ok.replace("CSeq: 1 INVITE", "CSeq: 2 BYE");
    let (_, reports) = run(
        EngineConfig::default(),
        &[
            (0, invite()),
            (1_000_000, answer()),
            (5_000_000, request("BYE", 2, false, "")),
            (5_100_000, bye_ok),
        ],
        None,
    );
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].meta.end_reason.as_deref(),
        Some("BYE from caller")
    );
}

#[test]
fn transfer_by_refer_and_by_reinvite_is_kept_in_the_same_call() {
    let refer = request(
        "REFER",
        3,
        true,
        "Refer-To: <sip:carol@fabrikam.example>\r\nReferred-By: <sip:bob@fabrikam.example>\r\n",
    );
    let reinvite = request(
        "INVITE",
        4,
        true,
        "P-Asserted-Identity: \"Carol\" <sip:carol@fabrikam.example>\r\n",
    );
    let (outs, reports) = run(
        EngineConfig::default(),
        &[
            (0, invite()),
            (1_000_000, answer()),
            (3_000_000, refer),
            (4_000_000, reinvite),
            (6_000_000, request("BYE", 5, false, "")),
        ],
        None,
    );
    assert_eq!(reports.len(), 1, "one recording for the transferred call");
    let m = &reports[0].meta;
    assert!(
        m.transfers
            .iter()
            .any(|t| t.contains("REFER to <sip:carol@fabrikam.example>")),
        "{:?}",
        m.transfers
    );
    assert!(m.transfers.iter().any(|t| t.contains("referred by")));
    // the callee side is now Carol
    assert_eq!(m.to.uri, "sip:carol@fabrikam.example");
    assert_eq!(m.to.display.as_deref(), Some("Carol"));
    assert!(outs.iter().any(|o| matches!(o, Output::CallUpdated { .. })));
}

#[test]
fn unanswered_call_ends_at_the_setup_timeout() {
    let cfg = EngineConfig {
        setup_timeout_us: 30_000_000,
        ..EngineConfig::default()
    };
    let (_, reports) = run(cfg, &[(0, invite())], Some(31_000_000));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].meta.end_reason.as_deref(), Some("setup timeout"));
    assert_eq!(
        reports[0].meta.ended_at_us,
        Some(T0),
        "ended at its last activity"
    );
}

#[test]
fn emergency_call_metadata_keeps_the_location() {
    let body = "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=- 0 0 IN IP4 192.0.2.10\r\ns=session\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 20040 RTP/AVP 0\r\n\r\n--b1\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@contoso.example>\r\n\r\n<presence><civicAddress>1 Main St</civicAddress></presence>\r\n--b1--\r\n";
    let msg = format!(
        "INVITE sip:911@contoso.example;user=phone SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.10:51234\r\nFrom: <sip:alice@contoso.example>;tag=e1\r\nTo: <sip:911@contoso.example;user=phone>\r\nCall-ID: e911-call\r\nCSeq: 1 INVITE\r\nPriority: emergency\r\nGeolocation: <cid:loc@contoso.example>\r\nContent-Type: multipart/mixed;boundary=b1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (_, reports) = run(EngineConfig::default(), &[(0, msg)], None);
    let m = &reports[0].meta;
    assert!(m.emergency);
    assert!(m.location.as_deref().unwrap().contains("1 Main St"));
    assert_eq!(m.to.number.as_deref(), Some("911"));
}

#[test]
fn calls_the_policy_ignores_produce_nothing() {
    let cfg = EngineConfig {
        policy: PolicyConfig {
            exclude: vec!["domain:contoso.example".into()],
            ..PolicyConfig::default()
        },
        ..EngineConfig::default()
    };
    let (outs, _) = run(
        cfg,
        &[
            (0, invite()),
            (1_000_000, answer()),
            (2_000_000, request("BYE", 2, false, "")),
        ],
        None,
    );
    assert!(outs.is_empty(), "{outs:?}");
}

#[test]
fn garbage_and_truncated_sip_never_panic_and_are_counted() {
    let mut e = Engine::new(EngineConfig::default()).unwrap();
    let inv = invite();
    for cut in [0, 1, 10, 50, 200, inv.len() / 2, inv.len() - 1] {
        e.handle_input(Input::Sip {
            at_us: T0,
            meta: SipMeta::default(),
            bytes: &inv.as_bytes()[..cut],
        });
    }
    e.handle_input(Input::Sip {
        at_us: T0,
        meta: SipMeta::default(),
        bytes: b"\x00\xff\xfe garbage \r\n\r\n",
    });
    assert!(e.stats().sip_errors >= 3, "{:?}", e.stats());
}
