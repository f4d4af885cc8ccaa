//! The admin server when its audit log cannot be written (the disk is full; here the audit log is `/dev/full`,
//! whose every write fails with ENOSPC): monitoring (`/healthz`, `/metrics`) still answers 200 and counts the
//! failures in `recorder_audit_errors_total`, while a recording search or download is refused with 503 — no
//! access to a recording goes unaudited.
#![allow(missing_docs)]

mod common;

use reqwest::StatusCode;

/// The value of the sample `name` (no labels) in a Prometheus text exposition.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} not in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_full_disk_refuses_recording_access_but_monitoring_answers() {
    let full = std::path::PathBuf::from("/dev/full");
    assert!(
        std::fs::OpenOptions::new().append(true).open(&full).is_ok(),
        "this test needs /dev/full"
    );
    let f = common::start_full(false, rec_admin::AdminLimits::default(), Some(full)).await;

    let r = f.get_with("/healthz", None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);

    // a search and a download: their audit lines cannot be written, so they are refused
    let r = f.get("/api/recordings?limit=10").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("audit"),
        "the error names the audit log: {body}"
    );
    assert!(
        !body.contains("a84b4c76e66710"),
        "no call data leaked: {body}"
    );
    let r = f
        .get(&format!("/api/recordings/{}/audio", f.ids.complete))
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_ne!(r.bytes().await.unwrap().as_ref(), f.wav.as_slice());

    // metrics answer, and count every request whose audit line failed: healthz, search, download (and this
    // metrics request itself once it is answered, so the next scrape sees it)
    let r = f.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    let first = sample(&r.text().await.unwrap(), "recorder_audit_errors_total");
    assert_eq!(first, 3.0);
    let r = f.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = sample(&r.text().await.unwrap(), "recorder_audit_errors_total");
    assert_eq!(second, 4.0);
    assert_eq!(f.metrics.audit_errors.get(), 5);
}
