//! The `recorder-gen` binary: options reach the generator, files and manifest are written, bad
//! options are refused.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_recorder-gen"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rec-gen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Frames of a classic pcap file: (ts µs, frame), checking the global header.
fn read_pcap(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[0..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(
        u32::from_le_bytes(b[20..24].try_into().unwrap()),
        1,
        "LINKTYPE_ETHERNET"
    );
    let mut out = Vec::new();
    let mut at = 24;
    while at < b.len() {
        let u = |o: usize| u32::from_le_bytes(b[at + o..at + o + 4].try_into().unwrap());
        let (sec, usec, incl, orig) = (u(0), u(4), u(8) as usize, u(12) as usize);
        assert_eq!(incl, orig);
        assert!(usec < 1_000_000);
        out.push((
            u64::from(sec) * 1_000_000 + u64::from(usec),
            b[at + 16..at + 16 + incl].to_vec(),
        ));
        at += 16 + incl;
    }
    assert_eq!(at, b.len());
    out
}

fn dst_port(frame: &[u8]) -> Option<u16> {
    match rec_packet::decode_frame(rec_packet::LinkType::Ethernet, frame)
        .ok()?
        .transport
    {
        rec_packet::Transport::Udp(u) => Some(u.dst.port()),
        rec_packet::Transport::Tcp(t) => Some(t.dst.port()),
        _ => None,
    }
}

#[test]
fn separate_signaling_file_and_manifest() {
    let (media, sig, manifest) = (tmp("m.pcap"), tmp("s.pcap"), tmp("m.json"));
    let st = bin()
        .args(["--out"])
        .arg(&media)
        .arg(format!("--signaling=separate:{}", sig.display()))
        .args([
            "--calls",
            "3",
            "--duration",
            "2",
            "--loss",
            "5",
            "--dtmf",
            "42@0.5",
            "--seed",
            "7",
            "--manifest",
        ])
        .arg(&manifest)
        .status()
        .unwrap();
    assert!(st.success());
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let calls = m["call_list"].as_array().unwrap();
    assert_eq!(calls.len(), 3);
    assert_eq!(m["seed"], 7);
    let media_frames = read_pcap(&media);
    let sig_frames = read_pcap(&sig);
    // No SIP in the media file; all of it in the signaling file.
    assert!(media_frames
        .iter()
        .all(|(_, f)| dst_port(f) != Some(5061) && !f.windows(7).any(|w| w == b"SIP/2.0")));
    let expected_sig: u64 = calls
        .iter()
        .map(|c| c["signaling_frames"].as_u64().unwrap())
        .sum();
    assert_eq!(sig_frames.len() as u64, expected_sig);
    let expected_media: u64 = calls
        .iter()
        .flat_map(|c| {
            c["streams"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["frames"].as_u64().unwrap())
        })
        .sum();
    assert_eq!(media_frames.len() as u64, expected_media);
    assert!(media_frames.windows(2).all(|w| w[0].0 <= w[1].0));
    for c in calls {
        assert_eq!(c["digits"], "42");
        let s = &c["streams"][0];
        assert!(s["keys"][0].as_str().unwrap().starts_with("inline:"));
        assert!(s["replay_keys"][0].as_str().unwrap().starts_with("ssrc=0x"));
        assert_eq!(
            s["packets_sent"].as_u64().unwrap(),
            s["packets_captured"].as_u64().unwrap() + s["packets_lost"].as_u64().unwrap()
        );
    }
    for f in [media, sig, manifest] {
        std::fs::remove_file(f).unwrap();
    }
}

#[test]
fn no_signaling_leaves_media_only() {
    let out = tmp("n.pcap");
    let st = bin()
        .arg("--out")
        .arg(&out)
        .args([
            "--signaling",
            "none",
            "--duration",
            "1",
            "--topology",
            "direct",
            "--codec",
            "pcmu",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let frames = read_pcap(&out);
    assert_eq!(frames.len(), 100);
    std::fs::remove_file(out).unwrap();
}

#[test]
fn bad_options_are_refused_without_output() {
    for args in [
        &["--codec", "g729"][..],
        &["--topology", "mesh"],
        &["--signaling", "smoke"],
        &["--loss", "120"],
        &["--hold", "5,2"],
        &["--dtmf", "12X@3"],
        &["--drift-ppm", "5"],
        &["--duration", "0"],
    ] {
        let out = tmp("bad.pcap");
        let o = bin().arg("--out").arg(&out).args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?} accepted");
        assert!(!String::from_utf8_lossy(&o.stderr).is_empty());
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}
