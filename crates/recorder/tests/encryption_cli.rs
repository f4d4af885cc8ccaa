//! Encryption at rest as a user meets it: `recorder replay` with `[encryption] enabled` writes sealed files
//! (mode 0600, no audio in clear), `recorder export` decrypts them byte for byte to what an unencrypted run
//! writes, a crash-cut `.part` is finished by the next `recorder run`, and every tampering (wrong key, flipped
//! bit, truncated or swapped chunks, deleted file) is refused with a message that says what is wrong where.
//! An encrypted signaling journal feeds `recorder replay --signaling`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rec_gen::{source_signal, Direction, FrameKind, GenConfig, Generator, PcapWriter};

const KEY_HEX: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
const OLD_KEY_B64: &str = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Writes a generated call of `secs` seconds; signaling frames go to `sig` when given.
fn write_call(path: &Path, sig: Option<&Path>, secs: u64) -> rec_gen::CallReport {
    let mut cfg = GenConfig::default();
    cfg.call.duration_ms = secs * 1000;
    let mut main = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
    let mut side = Vec::new();
    let mut g = Generator::new(cfg);
    for f in g.by_ref() {
        if sig.is_some() && f.kind == FrameKind::Signaling {
            side.push((f.at_us, f.data.to_vec()));
        } else {
            main.write_frame(f.at_us, &f.data).unwrap();
        }
    }
    main.finish().unwrap();
    if let Some(sig) = sig {
        std::fs::write(sig, pcapng(&side)).unwrap();
    }
    g.into_reports().remove(0)
}

/// A little-endian pcapng of Ethernet frames with µs timestamps (the journal's layout).
fn pcapng(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let pad = (4 - body.len() % 4) % 4;
        let total = (12 + body.len() + pad) as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&total.to_le_bytes());
        b.extend_from_slice(body);
        b.extend(std::iter::repeat_n(0u8, pad));
        b.extend_from_slice(&total.to_le_bytes());
        b
    }
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut out = block(0x0A0D_0D0A, &shb);
    let mut idb = 1u16.to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&65535u32.to_le_bytes());
    out.extend(block(1, &idb));
    for (at, data) in frames {
        let ts = *at;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        out.extend(block(6, &epb));
    }
    out
}

struct Setup {
    dir: tempfile::TempDir,
    pcap: PathBuf,
    call: rec_gen::CallReport,
}

impl Setup {
    fn new(secs: u64) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let pcap = dir.path().join("call.pcap");
        let call = write_call(&pcap, None, secs);
        Setup { dir, pcap, call }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("rec")
    }

    /// A configuration with encryption on (key file `kek`, id `k2`; an old key `k1` in an environment
    /// variable), or with `key` instead of the right key.
    fn config(&self, name: &str, key: &str, enabled: bool) -> PathBuf {
        let kek = self.dir.path().join(format!("{name}.kek"));
        std::fs::write(&kek, key).unwrap();
        let cfg = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "[recording]\nout = \"{}\"\nflush_interval_ms = 200\n\n[encryption]\nenabled = {enabled}\nkey_id = \"k2\"\nkek_file = \"{}\"\nold_keys = [{{ id = \"k1\", env = \"REC_TEST_OLD_KEK\" }}]\n",
                self.out().display(),
                kek.display()
            ),
        )
        .unwrap();
        cfg
    }

    fn replay(&self, cfg: &Path) -> Output {
        let o = Command::new(env!("CARGO_BIN_EXE_recorder"))
            .env("REC_TEST_OLD_KEK", OLD_KEY_B64)
            .args(["replay", self.pcap.to_str().unwrap(), "--config"])
            .arg(cfg)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o
    }

    fn export(&self, cfg: &Path, out: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_recorder"))
            .env("REC_TEST_OLD_KEK", OLD_KEY_B64)
            .args(["export", "--call-id", &self.call.call_id, "--config"])
            .arg(cfg)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Channel 0 of a WAV against the caller's source: best correlation over ±50 ms around `from_s`.
fn caller_correlation(wav: &[u8], from_s: usize) -> f64 {
    let pcm: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let left: Vec<i16> = pcm.iter().step_by(2).copied().collect();
    let src = source_signal(Direction::CallerToCallee, 8000, left.len() + 8000);
    let from = from_s * 8000;
    (-400i64..=400)
        .map(|lag| {
            let s = (from as i64 + lag) as usize;
            rec_gen::correlation(&left[s..s + 8000], &src[from..from + 8000])
        })
        .fold(f64::MIN, f64::max)
}

#[test]
fn encrypted_recordings_export_to_exactly_the_clear_recording() {
    let s = Setup::new(6);
    // in clear first: the reference
    let clear_cfg = s.config("clear", KEY_HEX, false);
    s.replay(&clear_cfg);
    let clear_wav = files_under(&s.out(), ".wav");
    assert_eq!(clear_wav.len(), 1);
    let reference = std::fs::read(&clear_wav[0]).unwrap();
    assert!(reference.starts_with(b"RIFF"));
    std::fs::remove_dir_all(s.out()).unwrap();

    let cfg = s.config("enc", KEY_HEX, true);
    let o = s.replay(&cfg);
    assert!(!stderr(&o).contains(KEY_HEX), "the key is never printed");
    let wav = files_under(&s.out(), ".wav");
    assert_eq!(wav.len(), 1);
    let sealed = std::fs::read(&wav[0]).unwrap();
    assert!(
        sealed.starts_with(b"RECVAULT"),
        "the recording is encrypted"
    );
    assert!(
        !sealed.windows(32).any(|w| reference[2000..].starts_with(w)),
        "no run of the audio appears in clear"
    );
    assert_eq!(mode(&wav[0]), 0o600);
    assert_eq!(mode(&s.out().join("catalog.sqlite")), 0o600);

    let copy = s.dir.path().join("copy.wav");
    let o = s.export(&cfg, &copy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let exported = std::fs::read(&copy).unwrap();
    assert!(
        exported == reference,
        "the decrypted copy equals the recording made in clear"
    );
    assert_eq!(mode(&copy), 0o600);
    assert!(caller_correlation(&exported, 2) > 0.99);
    // the export is audited: who, which call, where, and no key
    let audit = std::fs::read_to_string(s.out().join("audit.log")).unwrap();
    assert!(
        audit.contains("EXPORT") && audit.contains("copy.wav"),
        "{audit}"
    );
    assert!(!audit.contains(KEY_HEX));
    // never overwrites
    let o = s.export(&cfg, &copy);
    assert_eq!(o.status.code(), Some(2));

    // key rotation: the current key becomes old_keys' k1... a file written under k1 reads with k1 from the env
    let rotated = s.dir.path().join("rot.toml");
    std::fs::write(
        &rotated,
        format!(
            "[recording]\nout = \"{}\"\n\n[encryption]\nenabled = true\nkey_id = \"k3\"\nkek_env = \"REC_TEST_OLD_KEK\"\nold_keys = [{{ id = \"k2\", file = \"{}\" }}]\n",
            s.out().display(),
            s.dir.path().join("enc.kek").display()
        ),
    )
    .unwrap();
    let copy2 = s.dir.path().join("copy2.wav");
    let o = s.export(&rotated, &copy2);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read(&copy2).unwrap() == reference);
}

fn export_error(s: &Setup, cfg: &Path, name: &str) -> String {
    let out = s.dir.path().join(name);
    let o = s.export(cfg, &out);
    assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
    assert!(!out.exists(), "{name}: no partial copy is left");
    let e = stderr(&o);
    assert!(!e.contains(KEY_HEX));
    e
}

/// Offsets and lengths of the chunk records of an encrypted file.
fn records(file: &[u8]) -> Vec<(usize, usize)> {
    let mut at = rec_vault::header_info(file).unwrap().len;
    let mut v = Vec::new();
    while at + 4 <= file.len() {
        let f = rec_vault::Frame::parse([file[at], file[at + 1], file[at + 2], file[at + 3]]);
        v.push((at, f.record_len() as usize));
        at += f.record_len() as usize;
    }
    v
}

#[test]
fn tampering_wrong_keys_and_missing_files_are_named() {
    let s = Setup::new(4);
    let cfg = s.config("enc", KEY_HEX, true);
    s.replay(&cfg);
    let wav = files_under(&s.out(), ".wav").remove(0);
    let good = std::fs::read(&wav).unwrap();
    let recs = records(&good);
    assert!(recs.len() > 4, "several chunks: {}", recs.len());

    // wrong key under the right id
    let wrong = s.config("wrong", &"11".repeat(32), true);
    let e = export_error(&s, &wrong, "w.wav");
    assert!(e.contains("does not unwrap with key id \"k2\""), "{e}");

    // one flipped bit in chunk 2
    let mut bad = good.clone();
    bad[recs[2].0 + 9] ^= 0x04;
    std::fs::write(&wav, &bad).unwrap();
    let e = export_error(&s, &cfg, "f.wav");
    assert!(
        e.contains("chunk 2 at byte") && e.contains("fails authentication"),
        "{e}"
    );

    // chunks 1 and 2 swapped
    let mut bad = good[..recs[1].0].to_vec();
    bad.extend_from_slice(&good[recs[2].0..recs[2].0 + recs[2].1]);
    bad.extend_from_slice(&good[recs[1].0..recs[1].0 + recs[1].1]);
    bad.extend_from_slice(&good[recs[3].0..]);
    std::fs::write(&wav, &bad).unwrap();
    let e = export_error(&s, &cfg, "s.wav");
    assert!(
        e.contains("chunk 1 at byte") && e.contains("is chunk 2 of the stream"),
        "{e}"
    );

    // cut inside the last chunk: the final chunk is gone
    let last = recs[recs.len() - 1];
    std::fs::write(&wav, &good[..last.0 + 3]).unwrap();
    let e = export_error(&s, &cfg, "t.wav");
    assert!(e.contains("is cut short") && e.contains("truncated"), "{e}");
    // cut at a chunk boundary
    std::fs::write(&wav, &good[..last.0]).unwrap();
    let e = export_error(&s, &cfg, "t2.wav");
    assert!(e.contains("no final chunk"), "{e}");

    // deleted
    std::fs::remove_file(&wav).unwrap();
    let e = export_error(&s, &cfg, "d.wav");
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn a_crash_cut_part_is_finished_by_the_next_start_and_keeps_every_complete_chunk() {
    let s = Setup::new(6);
    let cfg = s.config("enc", KEY_HEX, true);
    s.replay(&cfg);
    let wav = files_under(&s.out(), ".wav").remove(0);
    let good = std::fs::read(&wav).unwrap();
    let recs = records(&good);
    // what kill -9 leaves: a .part whose last record was half written, no final chunk
    let keep = recs.len() * 2 / 3;
    let cut = recs[keep].0 + recs[keep].1 / 2;
    let part = rec_catalog::naming::part_path(&wav);
    std::fs::write(&part, &good[..cut]).unwrap();
    std::fs::remove_file(&wav).unwrap();

    // the next start recovers, then stops on SIGTERM
    let mut child = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .env("REC_TEST_OLD_KEK", OLD_KEY_B64)
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while part.exists() || !wav.exists() {
        assert!(
            Instant::now() < deadline,
            "recovery did not finish the .part"
        );
        if let Some(st) = child.try_wait().unwrap() {
            panic!("recorder run stopped: {st}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let st = child.wait().unwrap();
    assert!(st.success(), "{st}");

    // the recovered file is whole: every complete chunk, then a final chunk
    let recovered = std::fs::read(&wav).unwrap();
    assert_eq!(&recovered[..recs[keep].0], &good[..recs[keep].0]);
    assert_eq!(records(&recovered).len(), keep + 1);
    let copy = s.dir.path().join("copy.wav");
    let o = s.export(&cfg, &copy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let exported = std::fs::read(&copy).unwrap();
    // WAV sizes filled in from what was kept; the audio equals the source
    let data = u32::from_le_bytes([exported[40], exported[41], exported[42], exported[43]]);
    assert_eq!(data as usize, exported.len() - 44);
    assert!(
        exported.len() > 44 + 2 * 2 * 8000,
        "more than two seconds kept"
    );
    assert!(caller_correlation(&exported, 1) > 0.99);
}

#[test]
fn encrypted_journal_feeds_replay_signaling() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media.pcap");
    let journal = dir.path().join("journal.pcapng");
    let call = write_call(&media, Some(&journal), 4);
    let clear = std::fs::read(&journal).unwrap();
    // encrypt it as the daemon does: one chunk per message-sized piece, then the final chunk
    let kek = rec_vault::Kek::parse("k2", KEY_HEX.as_bytes()).unwrap();
    let mut rnd = [0u8; rec_vault::FILE_RANDOM_LEN];
    rnd.iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = i as u8 ^ 0x5a);
    let mut w = rec_vault::StreamWriter::new(&kek, &rec_vault::FileRandom::from_bytes(&rnd), 65536)
        .unwrap();
    let mut sealed = Vec::new();
    for piece in clear.chunks(700) {
        w.write(piece, &mut sealed).unwrap();
        w.flush(&mut sealed).unwrap();
    }
    w.finish(&mut sealed).unwrap();
    std::fs::write(&journal, &sealed).unwrap();
    let cfg = dir.path().join("r.toml");
    let kf = dir.path().join("k");
    std::fs::write(&kf, KEY_HEX).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "[encryption]\nkey_id = \"k2\"\nkek_file = \"{}\"\n",
            kf.display()
        ),
    )
    .unwrap();
    let run = |cfg: Option<&Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_recorder"));
        c.args([
            "replay",
            media.to_str().unwrap(),
            "--signaling",
            journal.to_str().unwrap(),
            "--json",
            "--out",
        ])
        .arg(dir.path().join("out"));
        if let Some(cfg) = cfg {
            c.arg("--config").arg(cfg);
        }
        c.output().unwrap()
    };
    let o = run(Some(&cfg));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report[0]["call_id"], call.call_id.as_str());
    assert_eq!(report[0]["status"], "complete");
    // without the key: refused, saying how to give it
    let o = run(None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is encrypted: give the [encryption] keys with --config"),
        "{}",
        stderr(&o)
    );
    // a journal cut by a crash (no final chunk) still replays what it holds, with a warning
    let recs = records(&sealed);
    std::fs::write(&journal, &sealed[..recs[recs.len() - 1].0]).unwrap();
    let o = run(Some(&cfg));
    assert!(stderr(&o).contains("no final chunk"), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report[0]["call_id"], call.call_id.as_str());
}
