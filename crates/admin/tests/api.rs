//! The admin API end to end over loopback TLS: a catalog made with rec-catalog holding calls with real
//! audio files, a server started with `AdminServer`, requests from reqwest (rustls) trusting a test CA.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;

use common::*;
use rec_admin::{
    token_sha256_hex, AdminConfig, AdminServer, DropReason, Metrics, Queue, TokenEntry,
};
use rec_catalog::naming::{part_path, recording_path};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn tokens_are_required_and_accepted() {
    let f = start().await;
    for path in [
        "/api/recordings",
        &format!("/api/recordings/{}", f.ids.complete),
        &format!("/api/recordings/{}/audio", f.ids.complete),
        "/metrics",
    ] {
        let r = f.get_with(path, None, &[]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("token"));
        for bad in [
            "wrong",
            &OPS_TOKEN[..OPS_TOKEN.len() - 1],
            &token_sha256_hex(OPS_TOKEN),
        ] {
            let r = f.get_with(path, Some(bad), &[]).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path} {bad}");
        }
        let r = f
            .get_with(
                path,
                None,
                &[("authorization", &format!("Basic {OPS_TOKEN}"))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            f.get_with(path, Some(OPS_TOKEN), &[]).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            f.get_with(path, Some(AUDIT_TOKEN), &[]).await.status(),
            StatusCode::OK
        );
    }
    // the health check needs none
    let r = f.get_with("/healthz", None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok\n");
    f.stop().await;
}

#[tokio::test]
async fn list_and_search() {
    let f = start().await;
    let all = f.list("").await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[0], "a84b4c76e66710@pc33.atlanta.example");
    // the JSON shape of `recorder query --json`
    let v = f
        .json("/api/recordings?call_id=a84b4c76e66710%40pc33.atlanta.example")
        .await;
    let c = &v.as_array().unwrap()[0];
    for key in [
        "id",
        "call_id",
        "file",
        "format",
        "channels",
        "sample_rate",
        "started_at",
        "ended_at",
        "duration_s",
        "from",
        "to",
        "status",
        "streams",
    ] {
        assert!(c.get(key).is_some(), "{key} missing in {c}");
    }
    assert_eq!(c["id"], f.ids.complete);
    assert_eq!(c["started_at"], "2026-11-29T10:00:00Z");
    assert_eq!(c["ended_at"], "2026-11-29T10:01:02.500000Z");
    assert_eq!(c["duration_s"], 62.5);
    assert_eq!(c["status"], "complete");
    assert_eq!(c["from"]["number"], "+442081234567");
    assert_eq!(c["streams"][0]["ssrc"], 0x1234_5678);
    assert_eq!(c["streams"][0]["decrypt_failures"], 1);
    assert_eq!(c["streams"][1]["direction"], "callee");

    // numbers in other notations
    let complete = vec!["a84b4c76e66710@pc33.atlanta.example".to_owned()];
    assert_eq!(f.list("?number=%2B44%2020%208123%204567").await, complete);
    assert_eq!(f.list("?number=0044-20-8123-4567").await, complete);
    assert_eq!(f.list("?number=020%208123%204567").await, complete);
    assert_eq!(f.list("?number=tel:%2B44-20-8123-4567").await, complete);
    assert_eq!(
        f.list("?number=(415)%20555-0123").await,
        vec!["in-progress-1@fe1.contoso.example".to_owned()]
    );
    assert!(f.list("?number=%2B33123456789").await.is_empty());
    // time ranges: dates and RFC 3339, until a date includes that day
    assert_eq!(f.list("?until=2026-11-29").await, complete);
    assert_eq!(f.list("?since=2026-11-30").await.len(), 5);
    assert_eq!(
        f.list("?since=2026-11-29T09:59:59Z&until=2026-11-29T11:00:00%2B01:00")
            .await,
        Vec::<String>::new(), // 11:00+01:00 is 10:00Z, exclusive
    );
    assert_eq!(
        f.list("?since=2026-11-29T09:59:59Z&until=2026-11-29T10:00:00.000001Z")
            .await,
        complete
    );
    assert_eq!(
        f.list("?since=2026-11-30&number=%2B14155550123").await,
        vec!["in-progress-1@fe1.contoso.example".to_owned()]
    );
    assert_eq!(f.list("?limit=2").await, all[..2].to_vec());
    f.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let f = start().await;
    for (query, parameter) in [
        ("number=alice", "number"),
        ("number=%2B44%20'%3B%20DROP%20TABLE%20calls", "number"),
        ("since=yesterday", "since"),
        ("until=2026-02-30", "until"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=99999999999", "limit"),
        ("call_id=", "call_id"),
    ] {
        let (status, body) = f.error(&format!("/api/recordings?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
    }
    let long = "x".repeat(rec_admin::MAX_CALL_ID_LEN + 1);
    let (status, body) = f.error(&format!("/api/recordings?call_id={long}")).await;
    assert_eq!(
        (status, body["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("call_id"))
    );
    // a typo is an error, not a search for everything
    let (status, body) = f.error("/api/recordings?callid=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("callid"), "{body}");
    // hostile Call-IDs are just searched for (bound parameters): nothing matches, nothing breaks
    for id in [
        "../../etc/passwd",
        "x' OR '1'='1",
        "%00",
        "a%0d%0aSet-Cookie:%20x",
    ] {
        assert!(f.list(&format!("?call_id={id}")).await.is_empty(), "{id}");
    }
    // the catalog is intact afterwards
    assert_eq!(f.list("").await.len(), 6);
    f.stop().await;
}

#[tokio::test]
async fn metadata_of_one_call() {
    let f = start().await;
    let v = f
        .json(&format!("/api/recordings/{}", f.ids.recording))
        .await;
    assert_eq!(v["call_id"], "in-progress-1@fe1.contoso.example");
    assert_eq!(v["status"], "recording");
    assert!(v["ended_at"].is_null() && v["duration_s"].is_null());
    assert_eq!(v["started_at"], "2026-11-30T09:30:00Z");
    assert_eq!(v["streams"].as_array().unwrap().len(), 2);
    assert_eq!(v["streams"][0]["codec"], "PCMU");
    assert_eq!(v["streams"][0]["lost"], 2);
    let (status, body) = f.error("/api/recordings/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
    f.stop().await;
}

#[tokio::test]
async fn audio_whole_and_ranges() {
    let f = start().await;
    let path = format!("/api/recordings/{}/audio", f.ids.complete);
    let size = f.wav.len();
    let r = f.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "audio/wav");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["x-recording-status"], "final");
    assert_eq!(h["content-length"], size.to_string().as_str());
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".wav\""));
    let body = r.bytes().await.unwrap();
    assert_eq!(body.as_ref(), f.wav.as_slice());
    // and it is the recording: 8000 stereo frames of the two tones
    let reader = hound::WavReader::new(std::io::Cursor::new(body.to_vec())).unwrap();
    assert_eq!(reader.spec().channels, 2);
    assert_eq!(reader.duration(), 8000);

    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=44-", 44, size - 1),
        ("bytes=-100", size - 100, size - 1),
        ("bytes=1000-1000", 1000, 1000),
        ("bytes=30000-99999999", 30000, size - 1),
    ] {
        let r = f
            .get_with(&path, Some(OPS_TOKEN), &[("range", range)])
            .await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {start}-{end}/{size}").as_str()
        );
        assert_eq!(r.headers()["content-type"], "audio/wav");
        let body = r.bytes().await.unwrap();
        assert_eq!(body.as_ref(), &f.wav[start..=end], "{range}");
    }
    for range in [format!("bytes={size}-"), "bytes=-0".to_owned()] {
        let r = f
            .get_with(&path, Some(OPS_TOKEN), &[("range", &range)])
            .await;
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes */{size}").as_str()
        );
    }
    // several ranges, or a conditional one: the whole file
    for headers in [
        vec![("range", "bytes=0-1,5-6")],
        vec![("range", "bytes=0-1"), ("if-range", "\"x\"")],
    ] {
        let r = f.get_with(&path, Some(OPS_TOKEN), &headers).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.unwrap().len(), size);
    }

    // the .part file of a call being recorded is served, and says so
    let r = f
        .get(&format!("/api/recordings/{}/audio", f.ids.recording))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-recording-status"], "recording");
    assert!(!r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".part"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), f.part.as_slice());
    let r = f
        .get_with(
            &format!("/api/recordings/{}/audio", f.ids.recording),
            Some(OPS_TOKEN),
            &[("range", "bytes=-10")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &f.part[f.part.len() - 10..]
    );

    // Ogg Opus
    let r = f
        .get(&format!("/api/recordings/{}/audio", f.ids.opus))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/ogg");
    assert_eq!(r.bytes().await.unwrap().as_ref(), f.opus.as_slice());

    // no audio file
    let (status, _) = f
        .error(&format!("/api/recordings/{}/audio", f.ids.no_file))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // the file vanished
    std::fs::remove_file(part_path(&recording_path(
        &f.root,
        T2,
        "in-progress-1@fe1.contoso.example",
        "wav",
    )))
    .unwrap();
    let (status, _) = f
        .error(&format!("/api/recordings/{}/audio", f.ids.recording))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    f.stop().await;
}

#[tokio::test]
async fn path_traversal_is_refused() {
    let f = start().await;
    // ids are numbers
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "1%2F..%2F2",
        "1;2",
        "0x1",
        "-1",
        "1%00",
        "%FF",
        "1%C0%AF",
    ] {
        for suffix in ["", "/audio"] {
            let (status, body) = f.error(&format!("/api/recordings/{id}{suffix}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{id}{suffix}");
            assert_eq!(body["parameter"], "id", "{id}{suffix}");
        }
    }
    // raw request lines (no client-side normalisation of dot segments)
    for (target, expected) in [
        ("/api/recordings/../../../etc/passwd", 404),
        ("/api/recordings/../audio", 400),
        ("/api/recordings/%2e%2e/audio", 400),
        ("/api/recordings/..%2f..%2f..%2fetc%2fpasswd/audio", 400),
        ("/api/recordings/1/../../../../etc/passwd", 404),
    ] {
        let head = f.raw_get(target).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {expected} ")),
            "{target}: {head}"
        );
        assert!(!head.contains("root:"), "{target}: {head}");
    }
    // catalog rows whose file lies outside the recordings directory are never served
    for id in [f.ids.outside, f.ids.symlinked] {
        let r = f.get(&format!("/api/recordings/{id}/audio")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{id}");
        assert!(!r.text().await.unwrap().contains("secret"));
    }
    f.stop().await;
}

#[tokio::test]
async fn audit_log_has_a_line_per_request_with_token_names_only() {
    let f = start().await;
    let requests: Vec<(&str, Option<&str>, u16)> = vec![
        // an unknown parameter is refused (400), and a token put in the query string is not logged
        (
            "/api/recordings?number=%2B442081234567&access_token=leak",
            Some(OPS_TOKEN),
            400,
        ),
        ("/api/recordings", None, 401),
        ("/api/recordings", Some("not-a-token"), 401),
        ("/api/recordings/1", Some(AUDIT_TOKEN), 200),
        ("/api/recordings/abc", Some(OPS_TOKEN), 400),
        ("/nowhere", Some(OPS_TOKEN), 404),
        ("/healthz", None, 200),
    ];
    for (path, token, status) in &requests {
        let r = f.get_with(path, *token, &[]).await;
        assert_eq!(r.status().as_u16(), *status, "{path}");
        let _ = r.bytes().await;
    }
    let r = f
        .get_with(
            &format!("/api/recordings/{}/audio", f.ids.complete),
            Some(OPS_TOKEN),
            &[("range", "bytes=0-99")],
        )
        .await;
    assert_eq!(r.bytes().await.unwrap().len(), 100);

    let lines = f.audit_lines();
    assert_eq!(lines.len(), requests.len() + 1);
    let text = std::fs::read_to_string(&f.audit_log).unwrap();
    for secret in [OPS_TOKEN, AUDIT_TOKEN, "not-a-token", "leak"] {
        assert!(!text.contains(secret), "audit log holds {secret}");
    }
    for (line, (path, token, status)) in lines.iter().zip(&requests) {
        let expected_name = match *token {
            Some(OPS_TOKEN) if *status != 401 => Some("ops"),
            Some(AUDIT_TOKEN) => Some("auditor"),
            _ => None,
        };
        // public and unknown routes are not authenticated
        let expected_name = if path.starts_with("/api") {
            expected_name
        } else {
            None
        };
        assert_eq!(line["token_name"].as_str(), expected_name, "{line}");
        assert_eq!(line["status"], *status, "{line}");
        assert_eq!(line["method"], "GET");
        assert_eq!(line["path"], path.split('?').next().unwrap());
        assert!(line["remote_addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"));
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
        assert!(line["bytes"].as_u64().is_some());
    }
    assert_eq!(
        lines[0]["query"],
        "number=%2B442081234567&access_token=REDACTED"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["status"], 206);
    assert_eq!(last["bytes"], 100);
    assert_eq!(last["token_name"], "ops");
    f.stop().await;
}

#[tokio::test]
async fn metrics_text_has_the_documented_names_and_values() {
    let f = start().await;
    f.metrics.calls_active.set(4);
    f.metrics.calls_total.inc_by(17);
    f.metrics.packets_dropped.inc_by(DropReason::Unmatched, 99);
    f.metrics.queue_depth.set(Queue::Capture, 12);
    f.metrics.rewrite_latency.observe(0.0004);
    let r = f.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], Metrics::CONTENT_TYPE);
    let text = r.text().await.unwrap();
    let docs = include_str!("../../../docs/metrics.md");
    for name in Metrics::NAMES {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        assert!(docs.contains(&format!("`{name}`")), "{name} undocumented");
    }
    for line in [
        "recorder_calls_active 4",
        "recorder_calls_total 17",
        "recorder_packets_dropped_total{reason=\"unmatched\"} 99",
        "recorder_queue_depth{queue=\"capture\"} 12",
        "recorder_rewrite_latency_seconds_bucket{le=\"0.0005\"} 1",
        "recorder_rewrite_latency_seconds_count 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
    f.stop().await;

    // metrics_public: no token needed for /metrics, still for the API
    let f = start_with(true).await;
    assert_eq!(
        f.get_with("/metrics", None, &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        f.get_with("/api/recordings", None, &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    f.stop().await;
}

#[tokio::test]
async fn plain_http_is_refused() {
    let f = start().await;
    let plain = reqwest::Client::new();
    let r = plain
        .get(format!("http://127.0.0.1:{}/healthz", f.addr.port()))
        .send()
        .await;
    assert!(r.is_err(), "plain HTTP got {:?}", r.map(|r| r.status()));
    // and on the wire: no HTTP answer to a cleartext request
    let addr = f.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    })
    .await
    .unwrap();
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // the server still serves TLS clients afterwards
    assert_eq!(f.get("/healthz").await.status(), StatusCode::OK);
    // a client that does not trust the certificate fails the handshake
    let untrusting = reqwest::Client::builder()
        .resolve("localhost", f.addr)
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(untrusting.get(f.url("/healthz")).send().await.is_err());
    f.stop().await;
}

#[tokio::test]
async fn http1_clients_work_too() {
    let f = start().await;
    let cert_pem = std::fs::read(f._dir.path().join("admin-cert.pem")).unwrap();
    let h1 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert_pem).unwrap())
        .resolve("localhost", f.addr)
        .tls_built_in_root_certs(false)
        .http1_only()
        .build()
        .unwrap();
    let r = h1
        .get(f.url(&format!("/api/recordings/{}/audio", f.ids.complete)))
        .bearer_auth(OPS_TOKEN)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &f.wav[10..20]);
    // HEAD: the headers of the download, no body
    let r = h1
        .head(f.url(&format!("/api/recordings/{}/audio", f.ids.complete)))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-length"],
        f.wav.len().to_string().as_str()
    );
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert!(r.bytes().await.unwrap().is_empty());
    let r = f.get("/healthz").await;
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    f.stop().await;
}

#[tokio::test]
async fn startup_errors_name_the_problem_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(
        &key_path,
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cert: dir.path().join("missing-cert.pem"),
        key: key_path,
        tokens: vec![],
        audit_log: dir.path().join("audit.log"),
        catalog: dir.path().join("catalog.sqlite"),
        sessions: rec_admin::SessionLimits::default(),
        recordings_root: dir.path().to_path_buf(),
        metrics_public: false,
        decryption_keys: Default::default(),
        limits: rec_admin::AdminLimits::default(),
        audit_rotation: rec_admin::Rotation::default(),
    };
    let e = AdminServer::bind(cfg.clone(), Arc::new(Metrics::new()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing-cert.pem"), "{e}");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    let cfg = AdminConfig {
        cert: dir.path().join("cert.pem"),
        ..cfg
    };
    let e = AdminServer::bind(cfg.clone(), Arc::new(Metrics::new()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("key.pem"), "{e}");
    assert!(!e.contains("c2VjcmV0") && !e.contains("secret"), "{e}");
    let cfg = AdminConfig {
        tokens: vec![TokenEntry {
            name: "ops".into(),
            sha256_hex: "not-hex".into(),
            role: rec_admin::Role::Admin,
        }],
        ..cfg
    };
    let e = AdminServer::bind(cfg, Arc::new(Metrics::new()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("ops") && e.contains("64 hex"), "{e}");
}
