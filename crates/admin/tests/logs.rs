//! Logs at every level (hyper, h2, rustls included) name tokens but never hold them. A test binary of its
//! own: it installs the global subscriber.

mod common;

use std::sync::Arc;

use common::*;
use rec_admin::token_sha256_hex;

/// Collects formatted log output.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_tokens_but_never_hold_them() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    // every level of every crate (hyper, h2, rustls included)
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let f = start().await;
    let _ = f
        .get("/api/recordings?number=%2B442081234567")
        .await
        .bytes()
        .await;
    let _ = f
        .get_with("/api/recordings", Some(AUDIT_TOKEN), &[])
        .await
        .bytes()
        .await;
    let _ = f
        .get_with("/api/recordings", Some("wrong-token-xyz"), &[])
        .await;
    let _ = f.get("/api/recordings?access_token=query-secret-123").await;
    let _ = f
        .get(&format!("/api/recordings/{}/audio", f.ids.complete))
        .await
        .bytes()
        .await;
    let _ = f.raw_get("/metrics").await;
    f.stop().await;
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("rec_admin::access"), "no access log:\n{logs}");
    assert!(
        logs.contains("token=ops") && logs.contains("token=auditor"),
        "{logs}"
    );
    for secret in [
        OPS_TOKEN,
        AUDIT_TOKEN,
        "wrong-token-xyz",
        "query-secret-123",
        &token_sha256_hex(OPS_TOKEN),
        "PRIVATE KEY",
    ] {
        assert!(!logs.contains(secret), "logs hold {secret}");
    }
}
