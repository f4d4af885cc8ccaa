//! HEP end to end with the field's own tools.
//!
//! - A real Kamailio (`siptrace` at its default HEP settings, which send HEPv1) proxies a call between two
//!   scripted user agents inside a network namespace; `recorder run` with the plain HEP listener records it.
//! - `recorder run` fed HEPv2 (TCP transport, old timestamps), compressed HEPv3 and garbage on loopback: the
//!   call is recorded, the journal keeps each message's own time and its TCP transport (read back by tshark),
//!   is mode 0600 although the daemon runs with umask 0, and the HOMER output sends every message and a call
//!   report to a collector (decoded here).
//!
//! Root is needed for the namespace; the tests skip with a message where Kamailio or tshark are missing only
//! when not in CI (scripts/ensure-deps --test installs them).

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rec_catalog::{CallStatus, Catalog, Query};

/// Both tests start daemons and measure nothing by time, but run one at a time to keep the shared CPU calm.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("{tool} is missing: scripts/ensure-deps --test installs it");
    }
    if !found {
        eprintln!("skipping: {tool} is not installed (scripts/ensure-deps --test)");
    }
    found
}

/// A network namespace with only its loopback up.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let ns = format!("rec-{tag}-{}", std::process::id() % 100_000);
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        for args in [
            vec!["netns", "add", &ns],
            vec!["-n", &ns, "link", "set", "lo", "up"],
        ] {
            let o = Command::new("ip").args(&args).output().expect("iproute2");
            assert!(
                o.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Netns(ns)
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

fn stop(child: &mut Child) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    err
}

fn files_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Waits (generously: the CPU is shared) until the catalog has an ended call with this Call-ID.
fn wait_for_ended_call(catalog: &Path, call_id: &str) -> rec_catalog::CallRecord {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(c) = Catalog::open_read_only(catalog) {
            let q = Query {
                call_id: Some(call_id.to_string()),
                ..Query::default()
            };
            if let Ok(rows) = c.query(&q) {
                if let Some(r) = rows.into_iter().find(|r| r.status != CallStatus::Recording) {
                    return r;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "call {call_id} did not end in {}",
            catalog.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The user agents: a caller on 5071 and a callee on 5072, talking through the proxy on 5060 (INVITE with SDP,
/// 200 with SDP, ACK, BYE, 200). Exits 0 when every step got its answer.
const UAS_UAC: &str = r#"
import socket, sys
proxy = ("127.0.0.1", 5060)
call_id = sys.argv[1]
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("127.0.0.1", 5071)); uac.settimeout(10)
uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uas.bind(("127.0.0.1", 5072)); uas.settimeout(10)
sdp = lambda port: ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                    "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % port)
def request(method, cseq, branch, body="", to_tag=""):
    to = "<sip:bob@127.0.0.1:5072>" + (";tag=" + to_tag if to_tag else "")
    h = ("%s sip:bob@127.0.0.1:5072 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=%s\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: %s\r\nCall-ID: %s\r\n"
         "CSeq: %d %s\r\nContact: <sip:alice@127.0.0.1:5071>\r\n" % (method, branch, to, call_id, cseq, method))
    if body: h += "Content-Type: application/sdp\r\n"
    return (h + "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode()
def answer(req, body=""):
    lines = req.decode().split("\r\n")
    keep = [l for l in lines if l.split(":")[0].lower() in ("via", "from", "call-id", "cseq")]
    to = [l for l in lines if l.lower().startswith("to:")][0]
    if ";tag=" not in to: to += ";tag=b1"
    h = "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\n" + to + "\r\nContact: <sip:bob@127.0.0.1:5072>\r\n"
    if body: h += "Content-Type: application/sdp\r\n"
    return (h + "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode()
uac.sendto(request("INVITE", 1, "z9hG4bK-i1", sdp(40000)), proxy)
inv, _ = uas.recvfrom(65535)
uas.sendto(answer(inv, sdp(40002)), proxy)
ok, _ = uac.recvfrom(65535)
assert ok.startswith(b"SIP/2.0 200"), ok
uac.sendto(request("ACK", 1, "z9hG4bK-a1", to_tag="b1"), proxy)
ack, _ = uas.recvfrom(65535)
assert ack.startswith(b"ACK"), ack
uac.sendto(request("BYE", 2, "z9hG4bK-b1", to_tag="b1"), proxy)
bye, _ = uas.recvfrom(65535)
uas.sendto(answer(bye), proxy)
ok, _ = uac.recvfrom(65535)
assert ok.startswith(b"SIP/2.0 200"), ok
print("call done")
"#;

fn kamailio_modules() -> PathBuf {
    for dir in [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ] {
        let p = Path::new(dir).join("kamailio/modules");
        if p.join("siptrace.so").exists() {
            return p;
        }
    }
    panic!("kamailio's siptrace.so not found (apt-get install kamailio)");
}

#[test]
fn kamailio_siptrace_at_its_default_hep_settings_is_recorded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !have("kamailio") || !have("python3") || !have("dumpcap") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = Netns::new("kam");
    let out = dir.path().join("rec");
    let conf = dir.path().join("recorder.toml");
    std::fs::write(
        &conf,
        format!(
            "[recording]\nout = \"{}\"\n\n[mirror]\nhep_enabled = true\nhep_listen = \"127.0.0.1:9060\"\nhep_sources = [\"127.0.0.1\"]\n",
            out.display()
        ),
    )
    .unwrap();
    // only the HEP settings the brief of a new user would write: where to send, HEP on; the version is the default
    let kcfg = dir.path().join("kamailio.cfg");
    std::fs::write(
        &kcfg,
        format!(
            r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:127.0.0.1:5060
mpath="{mpath}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "siptrace.so"
modparam("siptrace", "duplicate_uri", "sip:127.0.0.1:9060")
modparam("siptrace", "hep_mode_on", 1)
modparam("siptrace", "trace_to_database", 0)
modparam("siptrace", "trace_on", 1)
request_route {{
    sip_trace();
    forward();
    exit;
}}
onreply_route {{
    sip_trace();
}}
"#,
            mpath = kamailio_modules().display()
        ),
    )
    .unwrap();
    let hep_pcap = dir.path().join("hep.pcapng");
    let mut dumpcap = net
        .command("dumpcap")
        .args(["-q", "-i", "lo", "-f", "udp dst port 9060", "-w"])
        .arg(&hep_pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut recorder = net
        .command(env!("CARGO_BIN_EXE_recorder"))
        .args(["run", "--config"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut kamailio = net
        .command("kamailio")
        .args(["-DD", "-E", "-f"])
        .arg(&kcfg)
        .args(["-Y"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let script = dir.path().join("ua.py");
    std::fs::write(&script, UAS_UAC).unwrap();
    let call_id = "kamailio-siptrace-1@127.0.0.1";
    let ua = net
        .command("python3")
        .arg(&script)
        .arg(call_id)
        .output()
        .unwrap();
    let kam_log = stop(&mut kamailio);
    assert!(
        ua.status.success(),
        "the call through kamailio: {}{}\nkamailio: {kam_log}",
        String::from_utf8_lossy(&ua.stdout),
        String::from_utf8_lossy(&ua.stderr)
    );
    let record = wait_for_ended_call(&out.join("catalog.sqlite"), call_id);
    let rec_log = stop(&mut recorder);
    let _ = stop(&mut dumpcap);
    assert_eq!(record.call_id, call_id, "{rec_log}");
    assert!(record.answered_at_us.is_some(), "the 200 OK was traced too");
    assert!(
        !rec_log.contains("recorder_hep_refused_total"),
        "no HEP packet was refused: {rec_log}"
    );
    let calls = Catalog::open_read_only(out.join("catalog.sqlite"))
        .unwrap()
        .query(&Query::default())
        .unwrap();
    assert_eq!(calls.len(), 1, "exactly one call: {calls:?}");

    // what kamailio sent is its default, HEPv1 (version byte 1, 16-byte IPv4 header), one datagram per message
    let mut cap = rec_packet::capture::OfflineCapture::open(&hep_pcap).unwrap();
    let mut versions = Vec::new();
    while let Some(f) = cap.next_frame().unwrap() {
        if let Ok(d) = rec_packet::decode_frame(f.link, f.data) {
            if let rec_packet::Transport::Udp(u) = d.transport {
                versions.push((u.payload[0], u.payload[1]));
            }
        }
    }
    assert_eq!(
        versions.len(),
        5,
        "INVITE, 200, ACK, BYE, 200 traced: {versions:?}"
    );
    assert!(versions.iter().all(|v| *v == (1, 16)), "{versions:?}");

    // the journal holds the traced messages as SIP over UDP, with kamailio's addresses
    let journal = files_with(&out.join("journal"), ".pcapng");
    assert_eq!(journal.len(), 1);
    let mut cap = rec_packet::capture::OfflineCapture::open(&journal[0]).unwrap();
    let mut n = 0;
    while let Some(f) = cap.next_frame().unwrap() {
        let d = rec_packet::decode_frame(f.link, f.data).unwrap();
        let rec_packet::Transport::Udp(u) = d.transport else {
            panic!("SIP over UDP is journaled as UDP")
        };
        assert!([5060, 5071, 5072].contains(&u.src.port()), "{:?}", u.src);
        n += 1;
    }
    assert_eq!(n, versions.len());
}

/// One HEPv2 datagram (timestamped `at_us`, carried over `ip_proto`).
fn hep_v2(at_us: u64, ip_proto: u8, src: &str, dst: &str, sip: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    rec_packet::hep_legacy::LegacyHep {
        version: 2,
        ip_proto,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        at_us: Some(at_us),
        capture_id: Some(9),
        payload: sip,
    }
    .encode(&mut out);
    out
}

/// One HEPv3 packet whose payload is zlib-compressed (chunk 0x10), timestamped `at_us`.
fn hep_v3_zlib(at_us: u64, src: &str, dst: &str, sip: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(sip).unwrap();
    let z = z.finish().unwrap();
    let (s, d): (SocketAddr, SocketAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    let f = rec_packet::hep::HepFields {
        ip_proto: Some(6),
        src_ip: Some(s.ip()),
        dst_ip: Some(d.ip()),
        src_port: Some(s.port()),
        dst_port: Some(d.port()),
        ts_sec: Some((at_us / 1_000_000) as u32),
        ts_usec: Some((at_us % 1_000_000) as u32),
        proto_type: Some(1),
        compressed_payload: Some(&z),
        ..Default::default()
    };
    let mut out = Vec::new();
    rec_packet::hep::encode(&f, &[], &mut out).unwrap();
    out
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let t = std::net::TcpListener::bind(s.local_addr().unwrap());
    let port = s.local_addr().unwrap().port();
    drop(t);
    port
}

#[test]
fn hep_v2_and_compressed_v3_are_journaled_with_their_own_time_and_transport_and_sent_to_homer() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec");
    let collector = UdpSocket::bind("127.0.0.1:0").unwrap();
    collector
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let port = free_udp_port();
    let conf = dir.path().join("recorder.toml");
    std::fs::write(
        &conf,
        format!(
            "[recording]\nout = \"{}\"\n\n[mirror]\nhep_enabled = true\nhep_listen = \"127.0.0.1:{port}\"\nhep_sources = [\"127.0.0.1\"]\n\n[homer]\ncollector = \"{}\"\ncapture_id = 4242\n",
            out.display(),
            collector.local_addr().unwrap()
        ),
    )
    .unwrap();
    // umask 0: the journal must still be private
    let mut daemon = Command::new("sh")
        .args([
            "-c",
            &format!(
                "umask 0; exec {} run --config {}",
                env!("CARGO_BIN_EXE_recorder"),
                conf.display()
            ),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));

    let (a, b) = ("192.0.2.10:5061", "198.51.100.20:5061");
    let call_id = "hep-v2-tcp-1@example.com";
    let head = |start: &str, cseq: &str, to_tag: bool| {
        format!(
            "{start}\r\nVia: SIP/2.0/TCP 192.0.2.10:5061;branch=z9hG4bK-{cseq}\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>{}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n",
            if to_tag { ";tag=b1" } else { "" }
        )
    };
    let t0: u64 = 1_700_000_000_000_000; // 2023-11-14, far from the receive time
    let msgs: Vec<(u64, &str, &str, String)> = vec![
        (
            t0,
            a,
            b,
            head("INVITE sip:bob@example.com SIP/2.0", "1 INVITE", false),
        ),
        (t0 + 100_000, b, a, head("SIP/2.0 200 OK", "1 INVITE", true)),
        (
            t0 + 200_000,
            a,
            b,
            head("ACK sip:bob@example.com SIP/2.0", "1 ACK", true),
        ),
        (
            t0 + 3_000_000,
            a,
            b,
            head("BYE sip:bob@example.com SIP/2.0", "2 BYE", true),
        ),
        (t0 + 3_100_000, b, a, head("SIP/2.0 200 OK", "2 BYE", true)),
    ];
    let agent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = format!("127.0.0.1:{port}");
    agent.send_to(b"definitely not HEP", &to).unwrap();
    for (i, (t, s, d, m)) in msgs.iter().enumerate() {
        // every other message compressed HEPv3, the rest HEPv2; all over TCP
        let pkt = if i % 2 == 1 {
            hep_v3_zlib(*t, s, d, m.as_bytes())
        } else {
            hep_v2(*t, 6, s, d, m.as_bytes())
        };
        agent.send_to(&pkt, &to).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let record = wait_for_ended_call(&out.join("catalog.sqlite"), call_id);
    assert_eq!(record.call_id, call_id);

    // HOMER got every message (HEPv3, SIP, own time, TCP, original addresses) and then the call report
    let mut sip_seen = Vec::new();
    let mut report = None;
    let mut buf = vec![0u8; 65_536];
    while report.is_none() {
        let (n, _) = collector
            .recv_from(&mut buf)
            .expect("the HOMER collector receives SIP and a report");
        let (p, _) = rec_packet::hep::HepPacket::decode(&buf[..n]).unwrap();
        let f = p.fields;
        assert_eq!(f.capture_id, Some(4242));
        match f.proto_type {
            Some(1) => sip_seen.push((
                f.timestamp_micros().unwrap(),
                f.ip_proto,
                f.src().unwrap().to_string(),
                f.payload.unwrap().to_vec(),
            )),
            Some(0x22) => {
                assert_eq!(f.correlation_id, Some(call_id.as_bytes()));
                report =
                    Some(serde_json::from_slice::<serde_json::Value>(f.payload.unwrap()).unwrap());
            }
            other => panic!("unexpected HEP protocol type {other:?}"),
        }
    }
    let log = stop(&mut daemon);
    assert_eq!(sip_seen.len(), msgs.len(), "{log}");
    for ((t, s, _, m), (ht, proto, hs, hm)) in msgs.iter().zip(&sip_seen) {
        assert_eq!(
            (*t, Some(6), s.to_string(), m.as_bytes()),
            (*ht, *proto, hs.clone(), &hm[..])
        );
    }
    let report = report.unwrap();
    assert_eq!(report["call_id"], call_id);
    assert_eq!(report["type"], "recorder_call_report");
    assert!(report["streams"].is_array(), "{report}");

    // the garbage datagram was refused and said so
    assert!(log.contains("\"not_hep\""), "{log}");

    // the journal: private, each message at its own time, as TCP between the original addresses (tshark reads it)
    let journal = files_with(&out.join("journal"), ".pcapng");
    assert_eq!(journal.len(), 1, "{journal:?}");
    let mode = std::fs::metadata(&journal[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "journal mode {mode:o} with umask 0");
    if have("tshark") {
        let o = Command::new("tshark")
            .args(["-r"])
            .arg(&journal[0])
            .args([
                "-o",
                "tcp.desegment_tcp_streams:FALSE",
                "-T",
                "fields",
                "-E",
                "separator=|",
                "-e",
                "frame.time_epoch",
                "-e",
                "ip.proto",
                "-e",
                "tcp.srcport",
                "-e",
                "sip.Call-ID",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), msgs.len(), "{text}");
        for (row, (t, s, _, _)) in rows.iter().zip(&msgs) {
            let cols: Vec<&str> = row.split('|').collect();
            let epoch: f64 = cols[0].parse().unwrap();
            assert!(
                (epoch - *t as f64 / 1e6).abs() < 1e-5,
                "time {epoch} vs {t}: {row}"
            );
            assert_eq!(cols[1], "6", "TCP: {row}");
            assert_eq!(cols[2], s.rsplit(':').next().unwrap(), "{row}");
            assert_eq!(cols[3], call_id, "tshark dissects SIP over TCP: {row}");
        }
        // (tshark 4.0 as Debian ships it has no HEP dissector: what went to HOMER is checked with our
        // decoder above, field by field against what the agent sent)
    }
}
