//! Helpers shared by the scenario tests in `tests/`: where the independent test material lives and
//! how to run the `recorder` binary.

use std::path::PathBuf;

pub mod replay;

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout: the team's independent test material (see DEVELOPERS guide).
pub fn shared_dir() -> PathBuf {
    let dir = repo_root().join("..").join("shared");
    assert!(
        dir.is_dir(),
        "the shared test material is expected at {} (CI places it there)",
        dir.display()
    );
    dir
}

/// Reads a file of the shared material, e.g. `shared("domain/examples/example_b_200ok_answer.sip")`.
pub fn shared(relative: &str) -> Vec<u8> {
    let path = shared_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The Lync examples of `../shared/domain/examples` by letter: `example('a')`.
pub fn example(letter: char) -> Vec<u8> {
    let name = match letter {
        'a' => "example_a_lync2013_invite_multipart.sip",
        'b' => "example_b_200ok_answer.sip",
        'c' => "example_c_sfb_single_part_invite.sip",
        'd' => "example_d_sfb_trace_log.txt",
        _ => panic!("no example {letter}"),
    };
    shared(&format!("domain/examples/{name}"))
}

/// Builds a SIP message from a head (start line and headers, without Content-Length, `\n` line ends) and a
/// body (`\n` line ends): lines become CRLF and a correct `Content-Length` is appended to the head.
pub fn sip_message(head: &str, body: &str) -> Vec<u8> {
    let body = crlf(body);
    let mut out = crlf(head.trim_end_matches('\n'));
    out.push_str(&format!("\r\nContent-Length: {}\r\n\r\n", body.len()));
    out.push_str(&body);
    out.into_bytes()
}

/// Turns `\n` line ends into CRLF (leaving existing CRLFs alone).
pub fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Replaces exactly one occurrence of `from` by `to` in `text`, failing the test when `from` occurs zero or
/// several times: expected outputs are built by explicit, checked substitutions of the input.
pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    let count = text.matches(from).count();
    assert_eq!(count, 1, "{from:?} occurs {count} times, expected once");
    text.replacen(from, to, 1)
}

/// Sets the (first) `Content-Length` header of a message text to its body's length.
pub fn fix_content_length(message: &str) -> String {
    let (head, body) = message
        .split_once("\r\n\r\n")
        .expect("message has a blank line");
    let mut lines: Vec<String> = head.split("\r\n").map(str::to_owned).collect();
    let line = lines
        .iter_mut()
        .find(|l| l.to_ascii_lowercase().starts_with("content-length:"))
        .expect("message has a Content-Length");
    *line = format!("Content-Length: {}", body.len());
    format!("{}\r\n\r\n{}", lines.join("\r\n"), body)
}

/// Applies `edits` (each `(from, to)` must occur exactly once) to the `index`-th piece of `text` split at
/// `boundary` (piece 0 is everything before the first boundary), then rejoins the pieces.
pub fn edit_part(text: &str, boundary: &str, index: usize, edits: &[(&str, &str)]) -> String {
    let mut pieces: Vec<String> = text.split(boundary).map(str::to_owned).collect();
    assert!(index < pieces.len(), "no part {index}");
    for (from, to) in edits {
        pieces[index] = replace_once(&pieces[index], from, to);
    }
    pieces.join(boundary)
}

/// Lines of `a` and `b` that differ, as `(line number, a's line, b's line)`; both must have as many lines.
pub fn differing_lines(a: &[u8], b: &[u8]) -> Vec<(usize, String, String)> {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.split("\r\n").collect(), b.split("\r\n").collect());
    assert_eq!(la.len(), lb.len(), "line counts differ");
    la.iter()
        .zip(&lb)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
        .collect()
}
