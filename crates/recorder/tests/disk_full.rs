//! Storage running out: recordings go to a 1.5 MiB tmpfs (root needed, as for CI) that fills up after a few
//! calls. The calls recorded before stay complete and valid, the one being written when the disk filled is kept
//! up to where it got (a valid WAV), later calls are reported as not recorded, and the run says so (exit 1).

use std::path::{Path, PathBuf};
use std::process::Command;

use rec_gen::{GenConfig, Generator, PcapWriter};
use serde_json::Value;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mount tmpfs (needs root): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn valid_wav(path: &Path) -> usize {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], b"RIFF", "{path:?}");
    let riff = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    let data = u32::from_le_bytes(b[40..44].try_into().unwrap()) as usize;
    assert_eq!(riff, b.len() - 8, "{path:?}: RIFF size");
    // the data chunk runs to the end, or to the call's LIST/INFO tags written when it ended
    let tail = &b[44 + data..];
    assert!(
        tail.is_empty()
            || (&tail[..4] == b"LIST"
                && tail.len() == 8 + u32::from_le_bytes(tail[4..8].try_into().unwrap()) as usize),
        "{path:?}: data size"
    );
    data
}

#[test]
fn full_disk_keeps_what_was_recorded_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("calls.pcap");
    // 8 calls of 6 s, one after the other (a new call every 7 s): ~190 KiB of stereo 8 kHz WAV each
    let mut cfg = GenConfig {
        calls: 8,
        stagger_us: 7_000_000,
        ..GenConfig::default()
    };
    cfg.call.duration_ms = 6_000;
    let mut w = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&pcap).unwrap(),
    ))
    .unwrap();
    for f in Generator::new(cfg) {
        w.write_frame(f.at_us, &f.data).unwrap();
    }
    w.finish().unwrap();

    let out = dir.path().join("small");
    let _fs = Tmpfs::mount(&out, "1500k");
    let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args([
            "replay",
            pcap.to_str().unwrap(),
            "--json",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let report: Value = serde_json::from_slice(&o.stdout).expect("the report is still printed");
    let calls = report.as_array().unwrap();
    assert_eq!(calls.len(), 8, "every call is reported");
    // the first calls were written completely
    let mut complete = 0;
    for c in calls {
        if let Some(f) = c["file"].as_str() {
            let p = Path::new(f);
            if p.exists() {
                let data = valid_wav(p);
                if data >= 2 * 2 * 8000 * 6 {
                    complete += 1;
                }
            }
        }
    }
    assert!(
        complete >= 3,
        "calls before the disk filled are complete ({complete})"
    );
    assert!(complete < 8, "the disk did fill");
    // what could not be written is not reported as complete
    let partial = calls.iter().filter(|c| c["status"] == "partial").count();
    assert_eq!(partial + complete, 8, "{report:#}");
    assert!(std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .all(|e| !e.path().to_string_lossy().ends_with(".part")));
}
