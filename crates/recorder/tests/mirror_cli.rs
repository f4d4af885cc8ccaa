//! `recorder mirror` against an in-process mirror server on loopback.
#![allow(missing_docs)]

#[path = "../../mirror/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use rec_mirror::shared_rewriter;

fn testdata(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// Runs `recorder mirror` on `inputs`; returns (exit code, stdout, the messages the server queued).
fn mirror(
    inputs: &[std::path::PathBuf],
    extra: &[&str],
) -> (i32, String, Vec<rec_mirror::MirroredSip>) {
    let s = support::Setup::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut running = rt.block_on(support::start(
        &s.config(),
        shared_rewriter(support::rewriter()),
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .arg("mirror")
        .args([
            "--to",
            &running.addr.to_string(),
            "--server-name",
            "localhost",
        ])
        .arg("--cert")
        .arg(&s.filter.cert)
        .arg("--key")
        .arg(&s.filter.key)
        .arg("--ca")
        .arg(&s.ca.pem)
        .args(extra)
        .args(inputs)
        .output()
        .unwrap();
    let mut got = Vec::new();
    while let Ok(m) = running.rx.try_recv() {
        got.push(m);
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), stdout, got)
}

#[test]
fn a_udp_capture_is_mirrored_completely_with_replies_for_sdp_messages() {
    // tshark -r sip.pcap -Y sip: 81 messages; -Y 'sip && sdp': 12
    let (code, stdout, got) = mirror(
        &[testdata("testdata/pcaps/ndpi/sip.pcap")],
        &["--rate", "2000"],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("sent 81 message(s)"), "{stdout}");
    assert!(stdout.contains("12 wanting a reply"), "{stdout}");
    assert!(stdout.contains("acknowledged: 81 of 81"), "{stdout}");
    assert!(stdout.contains("round trip: p50"), "{stdout}");
    assert_eq!(got.len(), 81);
    assert!(got
        .iter()
        .all(|m| m.ip_proto == Some(17) && m.src.is_some()));
}

#[test]
fn tcp_captures_and_trace_logs_are_read_and_rewrites_printed() {
    // tshark -r sip_ipv4_tcp.pcap -Y sip: 7 messages, 2 with SDP; the trace log holds 2 records
    let (code, stdout, got) = mirror(
        &[
            testdata("testdata/pcaps/heplify/sip_ipv4_tcp.pcap"),
            testdata("domain/examples/example_d_sfb_trace_log.txt"),
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("sent 9 message(s)"), "{stdout}");
    assert_eq!(got.iter().filter(|m| m.ip_proto == Some(6)).count(), 7);
    assert_eq!(got.iter().filter(|m| m.ip_proto.is_none()).count(), 2);
    // every rewritten reply shows the lines it changed
    let rewritten = got.iter().filter(|m| m.rewritten).count();
    assert_eq!(stdout.matches(": rewritten in").count(), rewritten);
}

#[test]
fn a_wrong_certificate_or_input_is_exit_code_2() {
    let s = support::Setup::new();
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["mirror", "--to", "127.0.0.1:9", "--cert"])
        .arg(&s.filter.cert)
        .arg("--key")
        .arg(&s.filter.key)
        .arg("--ca")
        .arg(&s.ca.pem)
        .arg(&s.filter.cert) // a PEM file is not an input
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn generated_calls_over_fragmented_udp_tcp_and_hep_are_mirrored_message_for_message() {
    use rec_gen::{GenConfig, Generator, PcapWriter, SignalingMode};
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let mut want = 0;
    for (i, mode) in [
        SignalingMode::InlineUdp,
        SignalingMode::InlineTcp,
        SignalingMode::Hep,
    ]
    .into_iter()
    .enumerate()
    {
        let mut cfg = GenConfig::default();
        cfg.call.duration_ms = 1000;
        cfg.call.signaling = mode;
        cfg.seed = i as u64 + 1;
        let path = dir.path().join(format!("call{i}.pcap"));
        let mut w = PcapWriter::new(std::io::BufWriter::new(
            std::fs::File::create(&path).unwrap(),
        ))
        .unwrap();
        let mut gen = Generator::new(cfg);
        for f in gen.by_ref() {
            w.write_frame(f.at_us, &f.data).unwrap();
        }
        w.finish().unwrap();
        want += gen.into_reports()[0].sip_messages as usize;
        inputs.push(path);
    }
    let (code, stdout, got) = mirror(&inputs, &["--quiet"]);
    assert_eq!(code, 0);
    assert_eq!(got.len(), want, "{stdout}");
    assert!(
        stdout.contains(&format!("sent {want} message(s)")),
        "{stdout}"
    );
    // the generated INVITEs and answers carry SDP: some replies were asked for and all came back
    assert!(stdout.contains("0 without reply"), "{stdout}");
    assert!(!stdout.contains(" 0 wanting a reply"), "{stdout}");
}
