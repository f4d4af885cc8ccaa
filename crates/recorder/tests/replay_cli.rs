//! `recorder replay` as a user runs it: captures in, recordings + catalog + report out, exit codes 0/1/2.
//! Captures come from the shared test material (the marseillaise SRTP capture and its reference decode) and from
//! the generator (`rec-gen`), whose source signals are known.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rec_gen::{
    source_signal, CallOptions, Codec, Direction, FrameKind, GenConfig, Generator, PcapWriter,
    SignalingMode,
};
use serde_json::Value;

fn recorder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(args)
        .output()
        .expect("run recorder")
}

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes the generator's capture for `cfg`; frames for which `keep` is false go to `other` (if given).
fn write_capture(cfg: GenConfig, path: &Path, other: Option<&Path>) -> Vec<rec_gen::CallReport> {
    let mut main = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
    let mut side = other.map(|p| {
        PcapWriter::new(std::io::BufWriter::new(std::fs::File::create(p).unwrap())).unwrap()
    });
    let mut gen = Generator::new(cfg);
    for f in gen.by_ref() {
        match (&mut side, f.kind) {
            (Some(s), FrameKind::Signaling) => s.write_frame(f.at_us, &f.data).unwrap(),
            _ => main.write_frame(f.at_us, &f.data).unwrap(),
        }
    }
    main.finish().unwrap();
    if let Some(s) = side {
        s.finish().unwrap();
    }
    gen.into_reports()
}

fn one_call(secs: u64, edit: impl FnOnce(&mut CallOptions)) -> GenConfig {
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = secs * 1000;
    edit(&mut cfg.call);
    cfg
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The PCM data of a WAV file (little-endian i16), found by its `data` chunk.
fn wav_pcm(bytes: &[u8]) -> (u16, Vec<i16>) {
    let channels = u16::from_le_bytes([bytes[22], bytes[23]]);
    let at = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("data chunk")
        + 8;
    // the data chunk's own size: the call's LIST/INFO tags may follow the samples
    let size = u32::from_le_bytes(bytes[at - 4..at].try_into().unwrap()) as usize;
    let pcm = bytes[at..(at + size).min(bytes.len())]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    (channels, pcm)
}

#[test]
fn marseillaise_with_a_key_decodes_exactly_to_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec");
    let o = recorder(&[
        "replay",
        shared("testdata/srtp/srtp-decrypt/marseillaise-srtp.pcap")
            .to_str()
            .unwrap(),
        "--key",
        "suite=AES_CM_128_HMAC_SHA1_80,inline=aSBrbm93IGFsbCB5b3VyIGxpdHRsZSBzZWNyZXRz",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files: Vec<_> = files_under(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    assert_eq!(files.len(), 1, "one stream, one file: {files:?}");
    let (ch, got) = wav_pcm(&std::fs::read(&files[0]).unwrap());
    let (_, want) = wav_pcm(
        &std::fs::read(shared(
            "testdata/srtp/srtp-decrypt/derived_expected_pcma_decoded.wav",
        ))
        .unwrap(),
    );
    assert_eq!(ch, 1, "a stream recorded on its own is mono");
    assert_eq!(got.len(), want.len());
    assert!(
        got == want,
        "decoded audio differs from the reference decode"
    );
    // the key never appears in what the recorder prints
    assert!(!stderr(&o).contains("aSBrbm93"));
    assert!(
        stderr(&o).contains("packets=11888 lost=0"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn generated_edge_call_lands_in_a_day_directory_and_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("edge.pcap");
    let gen = write_capture(one_call(8, |_| {}), &pcap, None);
    let out = dir.path().join("rec");
    let o = recorder(&[
        "replay",
        pcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("--json prints JSON");
    let call = &report[0];
    assert_eq!(call["call_id"], gen[0].call_id.as_str());
    assert_eq!(call["status"], "complete");
    let file = PathBuf::from(call["file"].as_str().expect("file path"));
    assert!(file.exists(), "{file:?}");
    assert!(file.starts_with(out.join("2026-01-01")), "{file:?}");
    assert!(
        !files_under(&out)
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".part")),
        "no *.part left"
    );
    // the audio: stereo, caller's source on channel 0
    let (ch, pcm) = wav_pcm(&std::fs::read(&file).unwrap());
    assert_eq!(ch, 2);
    let left: Vec<i16> = pcm.iter().step_by(2).copied().collect();
    let src = source_signal(Direction::CallerToCallee, 8000, left.len());
    let best = (-400i64..=400)
        .map(|lag| {
            let s = (8000 + lag) as usize;
            rec_gen::correlation(&left[s..s + 16000], &src[8000..24000])
        })
        .fold(f64::MIN, f64::max);
    assert!(best > 0.99, "channel 0 vs caller source: {best}");
    // the catalog finds it by Call-ID, with its streams
    let q = recorder(&[
        "query",
        "--catalog",
        out.join("catalog.sqlite").to_str().unwrap(),
        "--call-id",
        &gen[0].call_id,
        "--json",
    ]);
    assert_eq!(q.status.code(), Some(0), "{}", stderr(&q));
    let rows: Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["status"], "complete");
    assert_eq!(rows[0]["file"], file.to_str().unwrap());
    assert_eq!(rows[0]["channels"], 2);
    assert_eq!(rows[0]["sample_rate"], 8000);
    // replay --json and query --json describe the call with one shape: every field query prints, replay
    // prints with the same value (replay adds only what the catalog does not keep: notes, audio_s)
    let (q_call, r_call) = (rows[0].as_object().unwrap(), call.as_object().unwrap());
    for (key, value) in q_call {
        assert_eq!(
            r_call.get(key),
            Some(value),
            "replay --json differs on {key}"
        );
    }
    for key in r_call.keys() {
        assert!(
            q_call.contains_key(key) || ["notes", "audio_s"].contains(&key.as_str()),
            "replay --json has {key}, query --json does not"
        );
    }
    let streams = rows[0]["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2);
    for s in streams {
        assert_eq!(s["codec"], "PCMA");
        assert_eq!(s["packets"], gen[0].streams[0].stats.packets_captured);
        assert_eq!(s["decrypt_failures"], 0);
    }
}

#[test]
fn separate_signaling_file_feeds_the_calls_of_a_media_only_capture() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media.pcap");
    let sig = dir.path().join("signaling.pcap");
    let gen = write_capture(
        one_call(5, |c| c.signaling = SignalingMode::InlineUdp),
        &media,
        Some(&sig),
    );
    let out = dir.path().join("rec");
    // the media alone: no call can be found
    let o = recorder(&[
        "replay",
        media.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 call(s)"), "{}", stderr(&o));
    let o = recorder(&[
        "replay",
        media.to_str().unwrap(),
        "--signaling",
        sig.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("call {} [complete]", gen[0].call_id)),
        "{}",
        stderr(&o)
    );
}

#[test]
fn opus_recording_is_a_valid_ogg_opus_file() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("edge.pcap");
    write_capture(one_call(6, |_| {}), &pcap, None);
    let out = dir.path().join("rec");
    let o = recorder(&[
        "replay",
        pcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "opus",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files: Vec<_> = files_under(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "opus"))
        .collect();
    assert_eq!(files.len(), 1);
    // opusinfo (opus-tools, installed by scripts/ensure-deps --test) validates the container
    let info = Command::new("opusinfo")
        .arg(&files[0])
        .output()
        .expect("opusinfo (opus-tools) is installed");
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("warning"), "{text}");
    assert!(text.contains("Channels: 2"), "{text}");
}

#[test]
fn undecodable_codec_exits_1_and_keeps_the_decrypted_rtp() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("msrta.pcap");
    let gen = write_capture(one_call(4, |c| c.codec = Codec::XMsrta), &pcap, None);
    let out = dir.path().join("rec");
    let o = recorder(&[
        "replay",
        pcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("[undecodable]"), "{}", stderr(&o));
    let kept: Vec<_> = files_under(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    // the kept capture holds every distinct packet of both directions, decrypted (tshark counts the records)
    let n = gen[0]
        .streams
        .iter()
        .map(|s| s.stats.packets_captured)
        .sum::<u64>();
    let bytes = std::fs::read(&kept[0]).unwrap();
    let mut records = 0u64;
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
        records += 1;
    }
    assert_eq!(records, n);
}

#[test]
fn unusable_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.txt");
    std::fs::write(&bogus, "hello, not a capture\n").unwrap();
    let out = dir.path().join("rec");
    let o = recorder(&[
        "replay",
        bogus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("notes.txt") && stderr(&o).contains("neither"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "nothing may be written for unusable input");
    let missing = dir.path().join("missing.pcap");
    let o = recorder(&[
        "replay",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    // a bad --key names what is wrong, never the key
    let o = recorder(&[
        "replay",
        shared("testdata/srtp/srtp-decrypt/marseillaise-srtp.pcap")
            .to_str()
            .unwrap(),
        "--key",
        "suite=AES_CM_128_HMAC_SHA1_80,inline=c2VjcmV0c2VjcmV0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("c2VjcmV0c2VjcmV0"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn trace_log_signaling_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec");
    // media: the generator's edge call (its Call-IDs differ from the log's; only the log's calls are checked)
    let pcap = dir.path().join("edge.pcap");
    write_capture(
        one_call(3, |c| c.signaling = SignalingMode::None),
        &pcap,
        None,
    );
    let log = shared("domain/examples/example_d_sfb_trace_log.txt");
    let o = recorder(&[
        "replay",
        pcap.to_str().unwrap(),
        "--signaling",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let text = std::fs::read_to_string(&log).unwrap();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["call_id"].as_str())
        .collect();
    assert!(
        !ids.is_empty(),
        "the trace log's INVITE makes a call: {}",
        stderr(&o)
    );
    for id in ids {
        assert!(text.contains(id), "call {id} comes from the log");
    }
}
