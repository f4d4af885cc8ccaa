//! SIGHUP reloads the configuration of a running `recorder run` without ending it or its calls: the
//! admin API's tokens and certificate, the mirror's rewrite policy; a broken file changes nothing.
#![allow(missing_docs)]

#[path = "../../mirror/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rec_gen::{GenConfig, Generator, PcapWriter, SignalingMode};

struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Daemon {
    fn start(conf: &Path) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_recorder"))
            .args(["run", "--config"])
            .arg(conf)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Daemon {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a log line containing `what`; returns it.
    fn wait_for(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                self.log.push(l.clone());
                if l.contains(what) {
                    return l;
                }
            }
        }
        panic!("no log line with {what:?}: {:#?}", self.log);
    }

    fn signal(&self, sig: &str) {
        assert!(Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success());
    }
}

/// The address after `key=` in a log line.
fn addr_in(line: &str, key: &str) -> String {
    let at = line.find(&format!("{key}=")).unwrap() + key.len() + 1;
    line[at..].split_whitespace().next().unwrap().to_owned()
}

fn config(
    dir: &Path,
    pki: &support::Setup,
    admin_cert: &support::Leaf,
    token_hash: &str,
    default: &str,
) -> String {
    format!(
        r#"[recording]
out = "{out}"

[policy]
default = "{default}"

[mirror]
enabled = true
listen = "127.0.0.1:0"
cert = "{mcert}"
key = "{mkey}"
client_ca = "{ca}"

[admin]
enabled = true
listen = "127.0.0.1:0"
cert = "{acert}"
key = "{akey}"
tokens = [{{ name = "ops", sha256 = "{token_hash}" }}]
"#,
        out = dir.join("rec").display(),
        mcert = pki.server.cert.display(),
        mkey = pki.server.key.display(),
        ca = pki.ca.pem.display(),
        acert = admin_cert.cert.display(),
        akey = admin_cert.key.display(),
    )
}

fn curl(ca: &Path, token: &str, url: &str) -> String {
    let o = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(ca)
        .args(["-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A generated call's SIP, split into what comes before its media (INVITE … ACK) and after (BYE, 200).
fn call_signaling(dir: &Path) -> (PathBuf, PathBuf) {
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = 1000;
    cfg.call.signaling = SignalingMode::InlineUdp;
    let frames: Vec<rec_gen::Frame> = Generator::new(cfg).collect();
    let media_start = frames
        .iter()
        .find(|f| f.kind == rec_gen::FrameKind::Media)
        .unwrap()
        .at_us;
    let paths = [dir.join("before.pcap"), dir.join("after.pcap")];
    let mut w: Vec<_> = paths
        .iter()
        .map(|p| PcapWriter::new(std::fs::File::create(p).unwrap()).unwrap())
        .collect();
    for f in frames
        .iter()
        .filter(|f| f.kind == rec_gen::FrameKind::Signaling)
    {
        w[usize::from(f.at_us >= media_start)]
            .write_frame(f.at_us, &f.data)
            .unwrap();
    }
    for x in w {
        x.finish().unwrap();
    }
    let [a, b] = paths;
    (a, b)
}

fn mirror(pki: &support::Setup, to: &str, input: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["mirror", "--to", to, "--server-name", "localhost", "--cert"])
        .arg(&pki.filter.cert)
        .arg("--key")
        .arg(&pki.filter.key)
        .arg("--ca")
        .arg(&pki.ca.pem)
        .arg(input)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    text
}

#[test]
fn sighup_reloads_tokens_certificate_and_policy_while_a_call_runs() {
    let dir = tempfile::tempdir().unwrap();
    let pki = support::Setup::new();
    // a second CA and certificate for the admin API, to switch to
    let ca2 = pki.pki.ca("second-ca");
    let admin2 = pki.pki.leaf(&ca2, "localhost", true);
    let (before, after) = call_signaling(dir.path());
    let conf = dir.path().join("recorder.toml");
    let (t1, t2) = ("first-token-value", "second-token-value");
    std::fs::write(
        &conf,
        config(
            dir.path(),
            &pki,
            &pki.server,
            &rec_admin::token_sha256_hex(t1),
            "record",
        ),
    )
    .unwrap();

    let mut d = Daemon::start(&conf);
    let mirror_addr = addr_in(&d.wait_for("mirror (mTLS) listening"), "listen");
    let admin_addr = addr_in(&d.wait_for("admin API listening"), "listen");
    let admin_port = admin_addr.rsplit(':').next().unwrap().to_owned();
    let url = format!("https://localhost:{admin_port}/api/recordings");
    let out = mirror(&pki, &mirror_addr, &before);
    assert!(out.contains(": rewritten in"), "recorded by policy: {out}");
    assert_eq!(curl(&pki.ca.pem, t1, &url), "200");

    // the new file: other token, other certificate, nothing recorded any more
    std::fs::write(
        &conf,
        config(
            dir.path(),
            &pki,
            &admin2,
            &rec_admin::token_sha256_hex(t2),
            "ignore",
        ),
    )
    .unwrap();
    d.signal("-HUP");
    d.wait_for("configuration reloaded");
    assert_eq!(curl(&ca2.pem, t1, &url), "401", "the old token is refused");
    assert_eq!(
        curl(&ca2.pem, t2, &url),
        "200",
        "the new token and certificate work"
    );
    assert_ne!(
        curl(&pki.ca.pem, t2, &url),
        "200",
        "the old certificate is gone"
    );
    // the call that started before the reload goes on and ends normally
    mirror(&pki, &mirror_addr, &after);
    // a new offer is left alone by the new policy
    let out = mirror(&pki, &mirror_addr, &before);
    assert!(!out.contains(": rewritten in"), "policy now ignores: {out}");

    // a broken file changes nothing
    std::fs::write(&conf, "[policy\n").unwrap();
    d.signal("-HUP");
    d.wait_for("reload (SIGHUP) refused");
    assert_eq!(curl(&ca2.pem, t2, &url), "200");

    d.signal("-TERM");
    let status = d.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let cat = rec_catalog::Catalog::open_read_only(dir.path().join("rec/catalog.sqlite")).unwrap();
    let calls = cat.query(&rec_catalog::Query::default()).unwrap();
    assert_eq!(
        calls.len(),
        1,
        "one call, not split by the reload: {calls:#?}"
    );
    assert!(
        calls[0]
            .end_reason
            .as_deref()
            .is_some_and(|r| r.contains("BYE")),
        "ended by its BYE after the reload: {:?}",
        calls[0].end_reason
    );
}
