//! The audio download of recordings encrypted at rest: the decrypted WAV (sizes filled in) is served, with
//! `Range` answered from the chunks the range lies in; a `.part` is served up to its last complete chunk;
//! tampered or truncated files and a server without keys are refused with a precise answer.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{call, wav_bytes, write, OPS_TOKEN, T1};
use rec_admin::sealed::DecryptionKeys;
use rec_admin::{token_sha256_hex, AdminConfig, AdminServer, Metrics, TokenEntry};
use rec_catalog::naming::{part_path, recording_path};
use rec_catalog::{CallStatus, Catalog};
use rec_vault::{FileRandom, Kek, Keyring, StreamWriter, FILE_RANDOM_LEN};
use reqwest::StatusCode;

fn kek() -> Kek {
    Kek::new("k1", [0x42; 32]).unwrap()
}

/// `plain` sealed as the recorder does: one short chunk per flush of `piece` bytes (chunks of at most 4000
/// bytes here, so ranges cross chunks); `finish` adds the final chunk.
fn seal(plain: &[u8], piece: usize, finish: bool) -> Vec<u8> {
    let mut rnd = [0u8; FILE_RANDOM_LEN];
    rnd.iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = (i as u8).wrapping_mul(13));
    let mut w = StreamWriter::new(&kek(), &FileRandom::from_bytes(&rnd), 4000).unwrap();
    let mut out = Vec::new();
    for p in plain.chunks(piece) {
        w.write(p, &mut out).unwrap();
        w.flush(&mut out).unwrap();
    }
    if finish {
        w.finish(&mut out).unwrap();
    }
    out
}

/// A WAV as the recorder writes it encrypted: its header carries the sizes of the first write (0 data).
fn streaming_header(wav: &[u8]) -> Vec<u8> {
    let mut w = wav.to_vec();
    w[4..8].copy_from_slice(&36u32.to_le_bytes());
    w[40..44].copy_from_slice(&0u32.to_le_bytes());
    w
}

struct Server {
    _dir: tempfile::TempDir,
    client: reqwest::Client,
    port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    async fn get(&self, id: i64, range: Option<&str>) -> reqwest::Response {
        let mut r = self
            .client
            .get(format!(
                "https://localhost:{}/api/recordings/{id}/audio",
                self.port
            ))
            .bearer_auth(OPS_TOKEN);
        if let Some(range) = range {
            r = r.header("range", range);
        }
        r.send().await.unwrap()
    }
}

/// Rows: complete (encrypted), recording (.part cut mid-chunk), tampered, truncated.
async fn start(
    keys: Option<Keyring>,
    root_files: impl FnOnce(&Path, &mut Catalog) -> Vec<i64>,
) -> (Server, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    std::fs::create_dir_all(&root).unwrap();
    let mut catalog = Catalog::open(root.join("catalog.sqlite")).unwrap();
    let ids = root_files(&root, &mut catalog);
    drop(catalog);
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("c.pem");
    let key_path = dir.path().join("k.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cert: cert_path,
        key: key_path,
        tokens: vec![TokenEntry {
            name: "ops".into(),
            sha256_hex: token_sha256_hex(OPS_TOKEN),
            role: rec_admin::Role::Admin,
        }],
        audit_log: dir.path().join("audit.log"),
        catalog: root.join("catalog.sqlite"),
        recordings_root: root.clone(),
        metrics_public: false,
        decryption_keys: DecryptionKeys(keys.map(Arc::new)),
        limits: rec_admin::AdminLimits::default(),
        audit_rotation: rec_admin::Rotation::default(),
        sessions: rec_admin::SessionLimits::default(),
    };
    let server = AdminServer::bind(cfg, Arc::new(Metrics::new()))
        .await
        .unwrap();
    let port = server.local_addr().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    (
        Server {
            _dir: dir,
            client,
            port,
            stop,
        },
        ids,
    )
}

fn add(root: &Path, catalog: &mut Catalog, n: i64, bytes: &[u8], part: bool) -> i64 {
    let mut c = call(
        &format!("enc-{n}@x"),
        T1 + n * 1_000_000,
        "sip:a@x",
        "sip:b@x",
    );
    let path = recording_path(root, c.started_at_us, &c.call_id, "wav");
    write(&if part { part_path(&path) } else { path.clone() }, bytes);
    c.file = Some(path.display().to_string());
    c.format = Some("wav".into());
    c.status = if part {
        CallStatus::Recording
    } else {
        CallStatus::Complete
    };
    catalog.insert_call(&mut c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_audio_is_served_decrypted_with_ranges() {
    let wav = wav_bytes(2.0, 8000); // 64044 bytes: 17 chunks of up to 4000
    let sealed = seal(&streaming_header(&wav), 3000, true);
    let half = wav_bytes(1.0, 8000);
    let mut part = seal(&streaming_header(&half), 3000, false);
    part.truncate(part.len() - 10); // the last chunk is being written
    let mut tampered = sealed.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    let truncated = sealed[..sealed.len() - 30].to_vec();
    let (files, bytes) = (sealed.clone(), part.clone());
    let (srv, ids) = start(
        Some(Keyring::new(kek(), vec![]).unwrap()),
        move |root, cat| {
            vec![
                add(root, cat, 1, &files, false),
                add(root, cat, 2, &bytes, true),
                add(root, cat, 3, &tampered, false),
                add(root, cat, 4, &truncated, false),
            ]
        },
    )
    .await;

    // whole file: the WAV with its sizes
    let r = srv.get(ids[0], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-length"],
        wav.len().to_string().as_str()
    );
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert!(
        r.bytes().await.unwrap() == wav,
        "decrypted download equals the WAV"
    );

    // ranges: inside the header, across chunk boundaries, the suffix, and past the end
    for (range, start, end) in [
        ("bytes=0-99", 0usize, 99usize),
        ("bytes=30-50", 30, 50),
        ("bytes=3990-12010", 3990, 12010),
        ("bytes=-500", wav.len() - 500, wav.len() - 1),
        ("bytes=64000-", 64000, wav.len() - 1),
    ] {
        let r = srv.get(ids[0], Some(range)).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {start}-{end}/{}", wav.len()).as_str(),
            "{range}"
        );
        assert!(r.bytes().await.unwrap() == wav[start..=end], "{range}");
    }
    let r = srv.get(ids[0], Some("bytes=64044-")).await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // the .part being written: its complete chunks, a valid WAV of whole frames
    let r = srv.get(ids[1], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-recording-status"], "recording");
    let got = r.bytes().await.unwrap();
    assert!(got.len() > 44 && got.len() < half.len(), "{}", got.len());
    assert_eq!((got.len() - 44) % 4, 0, "whole stereo frames");
    let data = u32::from_le_bytes([got[40], got[41], got[42], got[43]]) as usize;
    assert_eq!(data, got.len() - 44);
    assert!(got[44..] == half[44..got.len()]);

    // a flipped bit: the body stops before the announced length (the client sees an error)
    let r = srv.get(ids[2], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await;
    assert!(
        body.as_ref().map_or(true, |b| b.len() < wav.len()),
        "an altered chunk is never served"
    );
    // a final file without its final chunk: refused, saying so
    let r = srv.get(ids[3], None).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let e: serde_json::Value = r.json().await.unwrap();
    let msg = e["error"].as_str().unwrap();
    assert!(
        msg.contains("cut short") || msg.contains("no final chunk"),
        "{msg}"
    );
    let _ = srv.stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_keys_refuses_encrypted_audio() {
    let sealed = seal(&streaming_header(&wav_bytes(0.5, 8000)), 3000, true);
    let (srv, ids) = start(None, move |root, cat| {
        vec![add(root, cat, 1, &sealed, false)]
    })
    .await;
    let r = srv.get(ids[0], None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let e: serde_json::Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("encrypted"), "{e}");
    let _ = srv.stop.send(());
}
