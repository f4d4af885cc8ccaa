//! Test fixture: a catalog made with rec-catalog holding calls with real audio files, an admin server on
//! loopback TLS with a self-signed certificate, and a reqwest (rustls) client trusting it.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rec_admin::{token_sha256_hex, AdminConfig, AdminServer, Metrics, TokenEntry};
use rec_catalog::naming::{part_path, recording_path};
use rec_catalog::{CallRecord, CallStatus, Catalog, Party, StreamRecord};
use reqwest::StatusCode;
use serde_json::Value;

pub const OPS_TOKEN: &str = "ops-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b";
pub const AUDIT_TOKEN: &str = "audit-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// A token with the `listener` role (web UI: listen, never download).
pub const LISTENER_TOKEN: &str = "listen-5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
/// 2026-11-29T10:00:00Z
pub const T1: i64 = 1_795_946_400_000_000;
/// 2026-11-30T09:30:00Z
pub const T2: i64 = T1 + 23 * 3_600_000_000 + 1_800_000_000;

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub audit_log: PathBuf,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// The same client without following redirects (to see the web UI's sign-in answer).
    pub no_redirect: reqwest::Client,
    pub metrics: Arc<Metrics>,
    pub ids: Ids,
    /// The complete call's WAV bytes, and the in-progress call's .part bytes.
    pub wav: Vec<u8>,
    pub part: Vec<u8>,
    pub opus: Vec<u8>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<Result<(), rec_admin::AdminError>>>,
}

#[derive(Clone, Copy)]
pub struct Ids {
    pub complete: i64,
    pub recording: i64,
    pub opus: i64,
    pub outside: i64,
    pub symlinked: i64,
    pub no_file: i64,
}

/// A stereo 16-bit WAV: a 440 Hz tone left, 1 kHz right.
pub fn wav_bytes(seconds: f32, rate: u32) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for i in 0..(seconds * rate as f32) as u32 {
            let t = i as f32 / rate as f32;
            w.write_sample((8000.0 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()) as i16)
                .unwrap();
            w.write_sample((8000.0 * (2.0 * std::f32::consts::PI * 1000.0 * t).sin()) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
    }
    cursor.into_inner()
}

/// An Ogg Opus file's header pages (OpusHead, OpusTags; RFC 7845) without audio packets.
pub fn opus_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = ogg::PacketWriter::new(&mut out);
        let mut head = b"OpusHead".to_vec();
        head.push(1); // version
        head.push(2); // channels
        head.extend_from_slice(&312u16.to_le_bytes()); // pre-skip
        head.extend_from_slice(&48_000u32.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes());
        head.push(0); // mapping family
        w.write_packet(head, 0x5eed, ogg::PacketWriteEndInfo::EndPage, 0)
            .unwrap();
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&4u32.to_le_bytes());
        tags.extend_from_slice(b"test");
        tags.extend_from_slice(&0u32.to_le_bytes());
        w.write_packet(tags, 0x5eed, ogg::PacketWriteEndInfo::EndStream, 0)
            .unwrap();
    }
    out
}

pub fn call(call_id: &str, started: i64, from: &str, to: &str) -> CallRecord {
    CallRecord {
        call_id: call_id.to_owned(),
        from: Party::from_uri(Some("Alice".into()), from, None),
        to: Party::from_uri(None, to, None),
        started_at_us: started,
        answered_at_us: Some(started + 2_000_000),
        status: CallStatus::Recording,
        streams: vec![
            StreamRecord {
                direction: "caller".into(),
                ssrc: 0x1234_5678,
                codec: "PCMU".into(),
                packets: 500,
                lost: 2,
                decrypt_failures: 1,
                ..StreamRecord::default()
            },
            StreamRecord {
                direction: "callee".into(),
                ssrc: 0x9abc_def0,
                codec: "PCMU".into(),
                packets: 498,
                ..StreamRecord::default()
            },
        ],
        ..CallRecord::default()
    }
}

pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

pub async fn start() -> Fixture {
    start_with(false).await
}

pub async fn start_with(metrics_public: bool) -> Fixture {
    start_full(metrics_public, rec_admin::AdminLimits::default(), None).await
}

/// The fixture with the given limits.
pub async fn start_limited(metrics_public: bool, limits: rec_admin::AdminLimits) -> Fixture {
    start_full(metrics_public, limits, None).await
}

/// Like [`start_limited`], with the audit log at `audit_log` (default: `audit/audit.log` in the fixture's
/// directory).
pub async fn start_full(
    metrics_public: bool,
    limits: rec_admin::AdminLimits,
    audit_log: Option<PathBuf>,
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    std::fs::create_dir_all(&root).unwrap();
    let outside_dir = dir.path().join("elsewhere");
    let mut catalog = Catalog::open(root.join("catalog.sqlite")).unwrap();

    // a complete call with its final WAV
    let wav = wav_bytes(1.0, 8000);
    let mut c = call(
        "a84b4c76e66710@pc33.atlanta.example",
        T1,
        "sip:+442081234567@contoso.example;user=phone",
        "sip:bob@contoso.example",
    );
    let path = recording_path(&root, c.started_at_us, &c.call_id, "wav");
    write(&path, &wav);
    c.file = Some(path.display().to_string());
    c.format = Some("wav".into());
    c.channels = 2;
    c.sample_rate = 8000;
    c.status = CallStatus::Complete;
    c.ended_at_us = Some(T1 + 62_500_000);
    c.end_reason = Some("bye".into());
    let complete = catalog.insert_call(&mut c).unwrap();

    // a call being recorded: only the .part file exists
    let part = wav_bytes(0.5, 8000);
    let mut c = call(
        "in-progress-1@fe1.contoso.example",
        T2,
        "tel:+14155550123",
        "sip:carol@contoso.example",
    );
    let path = recording_path(&root, c.started_at_us, &c.call_id, "wav");
    write(&part_path(&path), &part);
    c.file = Some(path.display().to_string());
    c.format = Some("wav".into());
    let recording = catalog.insert_call(&mut c).unwrap();

    // an Ogg Opus recording
    let opus = opus_bytes();
    let mut c = call("opus-call@fe1", T2 + 1_000_000, "sip:dave@x", "sip:erin@x");
    let path = recording_path(&root, c.started_at_us, &c.call_id, "opus");
    write(&path, &opus);
    c.file = Some(path.display().to_string());
    c.format = Some("opus".into());
    c.status = CallStatus::Complete;
    let opus_id = catalog.insert_call(&mut c).unwrap();

    // rows pointing outside the recordings directory: directly, through "..", and through a symlink
    write(&outside_dir.join("secret.wav"), b"RIFF secret");
    let mut c = call("outside@x", T2 + 2_000_000, "sip:f@x", "sip:g@x");
    c.file = Some(root.join("../elsewhere/secret.wav").display().to_string());
    c.format = Some("wav".into());
    let outside = catalog.insert_call(&mut c).unwrap();
    let link = root.join("2026-11-30").join("link.wav");
    std::os::unix::fs::symlink(outside_dir.join("secret.wav"), &link).unwrap();
    let mut c = call("symlinked@x", T2 + 3_000_000, "sip:f@x", "sip:g@x");
    c.file = Some(link.display().to_string());
    c.format = Some("wav".into());
    let symlinked = catalog.insert_call(&mut c).unwrap();

    // a call without audio
    let mut c = call("no-media@x", T2 + 4_000_000, "sip:h@x", "sip:i@x");
    c.status = CallStatus::NoMedia;
    let no_file = catalog.insert_call(&mut c).unwrap();
    drop(catalog);

    // TLS: a self-signed certificate for localhost
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("admin-cert.pem");
    let key_path = dir.path().join("admin-key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();

    let audit_log = audit_log.unwrap_or_else(|| dir.path().join("audit/audit.log"));
    let cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cert: cert_path,
        key: key_path,
        tokens: vec![
            TokenEntry {
                name: "ops".into(),
                sha256_hex: token_sha256_hex(OPS_TOKEN),
                role: rec_admin::Role::Admin,
            },
            TokenEntry {
                name: "auditor".into(),
                sha256_hex: token_sha256_hex(AUDIT_TOKEN),
                role: rec_admin::Role::Admin,
            },
            TokenEntry {
                name: "listener".into(),
                sha256_hex: token_sha256_hex(LISTENER_TOKEN),
                role: rec_admin::Role::Listener,
            },
        ],
        audit_log: audit_log.clone(),
        catalog: root.join("catalog.sqlite"),
        recordings_root: root.clone(),
        metrics_public,
        decryption_keys: Default::default(),
        limits,
        audit_rotation: rec_admin::Rotation::default(),
        sessions: rec_admin::SessionLimits::default(),
    };
    let metrics = Arc::new(Metrics::new());
    let server = AdminServer::bind(cfg, metrics.clone()).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", addr)
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let no_redirect = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", addr)
        .tls_built_in_root_certs(false)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        root,
        audit_log,
        addr,
        client,
        no_redirect,
        metrics,
        ids: Ids {
            complete,
            recording,
            opus: opus_id,
            outside,
            symlinked,
            no_file,
        },
        wav,
        part,
        opus,
        stop: Some(stop),
        server: Some(server),
    }
}

impl Fixture {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(path, Some(OPS_TOKEN), &[]).await
    }

    pub async fn get_with(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        r.json().await.unwrap()
    }

    /// Call-IDs of a list answer.
    pub async fn list(&self, query: &str) -> Vec<String> {
        let v = self.json(&format!("/api/recordings{query}")).await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["call_id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn error(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// Sends `GET <target> HTTP/1.1` exactly as given over TLS (HTTP/1.1) and returns the response text.
    pub async fn raw_get(&self, target: &str) -> String {
        use rustls::pki_types::pem::PemObject;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let cert_pem = std::fs::read(self._dir.path().join("admin-cert.pem")).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&cert_pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {OPS_TOKEN}\r\nConnection: close\r\n\r\n"
        );
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    pub fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit_log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.server.take().unwrap().await.unwrap().unwrap();
    }
}
