//! `recorder rewrite` as a user runs it: bytes on stdout, the account on stderr, exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn recorder() -> Command {
    Command::new(env!("CARGO_BIN_EXE_recorder"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = recorder()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn sample() -> PathBuf {
    repo().join("samples/lync2013_invite_multipart.sip")
}

#[test]
fn sample_is_rewritten_with_embedded_defaults() {
    let out = recorder().arg("rewrite").arg(sample()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let input = std::fs::read(sample()).unwrap();
    assert_ne!(out.stdout, input);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("192.0.2.10 9 typ host"));
    // embedded defaults name no Edge address: the draft-6 part stays as it was
    assert!(stdout.contains("UDP 0.830 192.0.2.10 20040 \r\n"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("rewritten"), "{stderr}");
    assert!(stderr.contains("no relay candidates"), "{stderr}");
}

#[test]
fn stdin_dash_and_no_argument_read_standard_input() {
    let input = std::fs::read(sample()).unwrap();
    let from_file = recorder().arg("rewrite").arg(sample()).output().unwrap();
    for args in [&["rewrite", "-"][..], &["rewrite"][..]] {
        let out = run_with_stdin(args, &input);
        assert!(out.status.success());
        assert_eq!(out.stdout, from_file.stdout);
    }
}

#[test]
fn config_file_changes_the_rewrite_and_unchanged_input_is_echoed_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("recorder-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ignore.toml");
    std::fs::write(&config, "[policy]\ndefault = \"ignore\"\n").unwrap();
    let input = std::fs::read(sample()).unwrap();
    let out = recorder()
        .arg("rewrite")
        .arg("--config")
        .arg(&config)
        .arg(sample())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        out.stdout, input,
        "unchanged message must be echoed exactly"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("not recorded"), "{stderr}");

    let edge = dir.join("edge.toml");
    std::fs::write(&edge, "[rewrite]\nedge_addresses = [\"198.51.100.20\"]\n").unwrap();
    let out = recorder()
        .args(["rewrite", "--config"])
        .arg(&edge)
        .arg(sample())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("UDP 0.830 192.0.2.10 9 \r\n"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn non_sip_truncated_and_unreadable_inputs_exit_2_with_nothing_on_stdout() {
    let input = std::fs::read(sample()).unwrap();
    let cases: [(&str, &[u8]); 3] = [
        ("not SIP", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("truncated", &input[..input.len() - 100]),
        ("empty", b""),
    ];
    for (what, bytes) in cases {
        let out = run_with_stdin(&["rewrite"], bytes);
        assert_eq!(out.status.code(), Some(2), "{what}");
        assert!(out.stdout.is_empty(), "{what}: nothing on stdout");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("recorder rewrite: "), "{what}: {stderr}");
    }
    let out = recorder()
        .args(["rewrite", "/nonexistent/message.sip"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("/nonexistent/message.sip"));
}

#[test]
fn bad_configuration_exits_2_and_names_the_problem() {
    let dir = std::env::temp_dir().join(format!("recorder-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "[policy]\ninclude = [\"domain:\"]\n").unwrap();
    let out = recorder()
        .args(["rewrite", "--config"])
        .arg(&config)
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().contains("domain:"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keys_never_reach_stderr() {
    let out = recorder().arg("rewrite").arg(sample()).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for key in [
        "D6vOaAbvmONs1aKnutmT",
        "U6ek5VXgkQUkNOLQcA48",
        "GHtTtSH+wxb9NZvIzT2d",
        "inline:",
    ] {
        assert!(!stderr.contains(key), "SRTP key material in the account");
    }
}
