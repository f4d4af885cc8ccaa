//! Legal holds and verification state through the API over loopback TLS: a hold is set and lifted with a
//! reason (audited, recorded with the token's name), shows on the recording, and beats retention; a sealed
//! recording shows `sealed` until one of its bytes changes.

mod common;

use common::*;
use rec_catalog::retention::{Retention, RetentionConfig};
use rec_catalog::seal::Sealer;
use rec_catalog::{Catalog, CatalogError};
use reqwest::StatusCode;
use serde_json::Value;

fn sealer() -> Sealer {
    Sealer {
        key: rec_seal::SigningKey::from_bytes(&[9u8; 32]),
        node_id: "test-node".into(),
    }
}

async fn send(
    f: &Fixture,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = f.client.request(method, f.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn verification_state_follows_the_files() {
    let f = start().await;
    let path = format!("/api/recordings/{}", f.ids.complete);
    let v = f.json(&path).await;
    assert_eq!(v["verification"]["state"], "unsealed", "{v}");
    assert_eq!(v["legal_hold"], Value::Null);
    let v = f
        .json(&format!("/api/recordings/{}", f.ids.recording))
        .await;
    assert_eq!(v["verification"]["state"], "recording");

    let catalog = f.root.join("catalog.sqlite");
    let call = {
        let mut c = Catalog::open(&catalog).unwrap();
        let call = c.get(f.ids.complete).unwrap().unwrap();
        c.seal_call(&f.root, &sealer(), &call, T1 + 100_000_000)
            .unwrap();
        call
    };
    let v = f.json(&path).await;
    assert_eq!(v["verification"]["state"], "sealed", "{v}");
    assert_eq!(v["verification"]["findings"], serde_json::json!([]));

    let file = std::path::PathBuf::from(call.file.unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[60] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let v = f.json(&path).await;
    assert_eq!(v["verification"]["state"], "altered", "{v}");
    let finding = v["verification"]["findings"][0].as_str().unwrap();
    assert!(
        finding.starts_with("altered: 2026-11-29/") && finding.contains("sealed in chain entry 1"),
        "{finding}"
    );
    f.stop().await;
}

#[tokio::test]
async fn holds_are_set_and_lifted_with_a_reason_and_beat_retention() {
    let f = start().await;
    use reqwest::Method;
    // a token and a reason are required
    let (s, _) = send(&f, Method::POST, "/api/holds?reason=x&call_id=y", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // a listener hears recordings but does not decide their fate
    let (s, v) = send(
        &f,
        Method::POST,
        "/api/holds?reason=x&call_id=y",
        Some(LISTENER_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = send(
        &f,
        Method::DELETE,
        "/api/holds/1?reason=x",
        Some(LISTENER_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = send(
        &f,
        Method::POST,
        "/api/holds?number=%2B442081234567",
        Some(OPS_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["parameter"], "reason");
    let (s, v) = send(
        &f,
        Method::POST,
        "/api/holds?reason=case%2017",
        Some(OPS_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("call_id, a number or a time range"),
        "{v}"
    );

    // a hold by number, in another notation than stored
    let (s, hold) = send(
        &f,
        Method::POST,
        "/api/holds?reason=SEC%20inquiry%2017&number=020%208123%204567",
        Some(OPS_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["set_by"], "ops");
    assert_eq!(hold["reason"], "SEC inquiry 17");
    let id = hold["id"].as_i64().unwrap();
    let v = f.json(&format!("/api/recordings/{}", f.ids.complete)).await;
    assert_eq!(v["legal_hold"]["id"], id, "{v}");
    let v = f.json(&format!("/api/recordings/{}", f.ids.opus)).await;
    assert_eq!(v["legal_hold"], Value::Null, "another number is not held");
    // the audit log carries the reason
    let audit = f.audit_lines();
    let line = audit
        .iter()
        .find(|l| l["method"] == "POST" && l["status"] == 201)
        .unwrap();
    assert!(
        line["query"]
            .as_str()
            .unwrap()
            .contains("reason=SEC%20inquiry%2017"),
        "{line}"
    );
    assert_eq!(line["token_name"], "ops");

    // retention far in the future deletes what is not held, keeps the held call
    {
        let mut c = Catalog::open(f.root.join("catalog.sqlite")).unwrap();
        let retention = Retention::new(
            &RetentionConfig {
                default_days: 1,
                ..Default::default()
            },
            "44",
        )
        .unwrap();
        let r = c
            .sweep_retention(
                &f.root,
                &sealer(),
                &retention,
                T2 + 30 * 86_400_000_000,
                false,
            )
            .unwrap();
        assert!(
            r.held
                .iter()
                .any(|(row, _, h)| *row == f.ids.complete && *h == id),
            "{r:?}"
        );
        assert!(!r.deleted.iter().any(|(row, _, _)| *row == f.ids.complete));
        assert!(
            r.deleted.iter().any(|(row, _, _)| *row == f.ids.opus),
            "{r:?}"
        );
        match c.delete_recording(&f.root, &sealer(), f.ids.complete, "operator", T2) {
            Err(CatalogError::Held { hold, .. }) => assert_eq!(hold, id),
            other => panic!("a held recording was not refused: {other:?}"),
        }
    }
    assert!(
        f.get(&format!("/api/recordings/{}", f.ids.complete))
            .await
            .status()
            == StatusCode::OK
    );
    assert_eq!(
        f.get(&format!("/api/recordings/{}", f.ids.opus))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // lifting needs a reason, is recorded, and cannot happen twice
    let (s, v) = send(
        &f,
        Method::DELETE,
        &format!("/api/holds/{id}"),
        Some(AUDIT_TOKEN),
    )
    .await;
    assert_eq!(
        (s, v["parameter"].clone()),
        (StatusCode::BAD_REQUEST, Value::from("reason"))
    );
    let (s, v) = send(
        &f,
        Method::DELETE,
        &format!("/api/holds/{id}?reason=closed"),
        Some(AUDIT_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["lifted_by"], "auditor");
    assert_eq!(v["lift_reason"], "closed");
    let (s, _) = send(
        &f,
        Method::DELETE,
        &format!("/api/holds/{id}?reason=again"),
        Some(AUDIT_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let list = f.json("/api/holds").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0]["lifted_at_us"].is_i64());
    let v = f.json(&format!("/api/recordings/{}", f.ids.complete)).await;
    assert_eq!(v["legal_hold"], Value::Null);
    f.stop().await;
}
