//! The call's metadata inside the recording files, read back by the field's tools: ffprobe for the WAV
//! `LIST`/`INFO` chunk and the Ogg Opus comments, opusinfo for the `OpusTags` header.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/lync_edge_call.pcap")
}

/// Replays the bundled sample in `format`; returns the recording and the catalog's JSON of the call.
fn replay(dir: &Path, format: &str) -> (PathBuf, serde_json::Value) {
    let out = dir.join(format);
    let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["replay", "--format", format, "--json", "--out"])
        .arg(&out)
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let calls: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let call = calls[0].clone();
    (PathBuf::from(call["file"].as_str().unwrap()), call)
}

fn ffprobe_tags(file: &Path, entries: &str) -> serde_json::Value {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", entries, "-of", "json"])
        .arg(file)
        .output()
        .expect("ffprobe (Debian ffmpeg) is needed");
    assert!(
        o.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn wav_carries_call_id_parties_and_times_in_a_riff_info_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let (file, call) = replay(dir.path(), "wav");
    let call_id = call["call_id"].as_str().unwrap();
    let tags = ffprobe_tags(&file, "format_tags");
    let tags = &tags["format"]["tags"];
    assert_eq!(tags["title"], format!("Call {call_id}"));
    assert!(tags["artist"]
        .as_str()
        .unwrap()
        .contains(call["from"]["uri"].as_str().unwrap()));
    let comment = tags["comment"].as_str().unwrap();
    assert!(comment.contains(&format!("call_id={call_id}")), "{comment}");
    assert!(
        comment.contains(&format!("to={}", call["to"]["uri"].as_str().unwrap())),
        "{comment}"
    );
    // the catalog keeps microseconds; the file whole seconds
    let started = seconds(call["started_at"].as_str().unwrap());
    assert!(comment.contains(&format!("started={started}")), "{comment}");
    let ended = seconds(call["ended_at"].as_str().unwrap());
    assert!(comment.contains(&format!("ended={ended}")), "{comment}");
    // the trailing chunk does not change the audio: sox still sees the 20 s of stereo
    let soxi = Command::new("soxi").arg("-D").arg(&file).output().unwrap();
    let secs: f64 = String::from_utf8_lossy(&soxi.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!((secs - 20.0).abs() < 0.1, "duration {secs}");
}

#[test]
fn ogg_opus_carries_the_call_in_its_comments() {
    let dir = tempfile::tempdir().unwrap();
    let (file, call) = replay(dir.path(), "opus");
    let call_id = call["call_id"].as_str().unwrap();
    let o = Command::new("opusinfo").arg(&file).output().unwrap();
    let info = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "opusinfo: {info}");
    assert!(info.contains(&format!("CALL_ID={call_id}")), "{info}");
    assert!(
        info.contains(&format!("TO={}", call["to"]["uri"].as_str().unwrap())),
        "{info}"
    );
    let tags = ffprobe_tags(&file, "stream_tags");
    let tags = &tags["streams"][0]["tags"];
    assert_eq!(tags["CALL_ID"], call_id);
    assert_eq!(
        tags["STARTED"],
        seconds(call["started_at"].as_str().unwrap())
    );
}

/// An RFC 3339 time of the catalog (microseconds when not whole) at the files' whole seconds.
fn seconds(t: &str) -> String {
    format!("{}Z", &t[..19])
}
