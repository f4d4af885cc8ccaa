//! Scenario: the Lync 2013 multipart/alternative INVITE (example a) through the relay-forcing rewriter.
//! Both SDP parts are rewritten on their own: the draft-6 fallback part (relay recognised by the configured
//! Edge address) and the ICE-19 part (relay recognised by `typ relay`). The expected message is built from the
//! input by explicit, individually checked substitutions, so every other byte must be identical.

use rec_rewrite::{PolicyConfig, RewriteConfig, Rewriter, Unchanged};
use recorder_tests::{differing_lines, edit_part, example, fix_content_length};

const BOUNDARY: &str = "------=_NextPart_000_01A7_01D3C2B5.4F1E6A90";
const EDGE: &str = "198.51.100.20";

fn rewriter(edge: &[&str]) -> Rewriter {
    let config = RewriteConfig {
        edge_addresses: edge.iter().map(|a| a.parse().unwrap()).collect(),
        ..RewriteConfig::default()
    };
    Rewriter::new(config, &PolicyConfig::default()).unwrap()
}

/// Part 1 (draft-6): host candidates 20040/20041 → 9; the defaults (m= 20040, c= 192.0.2.10, a=rtcp:20041)
/// pointed at them, so they move to the relay candidates 198.51.100.20:52516 / :57309.
const DRAFT6_EDITS: &[(&str, &str)] = &[
    ("c=IN IP4 192.0.2.10\r\n", "c=IN IP4 198.51.100.20\r\n"),
    ("m=audio 20040 RTP/SAVP", "m=audio 52516 RTP/SAVP"),
    (
        "UDP 0.830 192.0.2.10 20040 \r\n",
        "UDP 0.830 192.0.2.10 9 \r\n",
    ),
    (
        "UDP 0.830 192.0.2.10 20041 \r\n",
        "UDP 0.830 192.0.2.10 9 \r\n",
    ),
    ("a=rtcp:20041\r\n", "a=rtcp:57309\r\n"),
];

/// Part 2 (ICE-19): host 20062/20063 and the TCP-ACT srflx 20070 (both components) → 9; relays, raddr/rport,
/// priorities untouched; defaults move to the UDP relay 55188 (RTP) and 50627 (RTCP).
const ICE_EDITS: &[(&str, &str)] = &[
    ("c=IN IP4 192.0.2.10\r\n", "c=IN IP4 198.51.100.20\r\n"),
    ("m=audio 20062 RTP/SAVP", "m=audio 55188 RTP/SAVP"),
    (
        "2130706431 192.0.2.10 20062 typ host",
        "2130706431 192.0.2.10 9 typ host",
    ),
    (
        "2130705918 192.0.2.10 20063 typ host",
        "2130705918 192.0.2.10 9 typ host",
    ),
    (
        "1684797439 192.0.2.10 20070 typ srflx",
        "1684797439 192.0.2.10 9 typ srflx",
    ),
    (
        "1684796926 192.0.2.10 20070 typ srflx",
        "1684796926 192.0.2.10 9 typ srflx",
    ),
    ("a=rtcp:20063\r\n", "a=rtcp:50627\r\n"),
];

#[test]
fn both_parts_are_rewritten_and_nothing_else_changes() {
    let input = example('a');
    let text = String::from_utf8(input.clone()).unwrap();
    let expected = edit_part(&text, BOUNDARY, 1, DRAFT6_EDITS);
    let expected = fix_content_length(&edit_part(&expected, BOUNDARY, 2, ICE_EDITS));

    let account = rewriter(&[EDGE]).rewrite(&input).unwrap();
    let output = account.output.clone().expect("message must be rewritten");
    assert_eq!(String::from_utf8(output.clone()).unwrap(), expected);
    // 5 + 7 edited lines, plus Content-Length; nothing else
    assert_eq!(differing_lines(&input, &output).len(), 13);
    assert_eq!(account.parts.len(), 2, "two SDP parts examined");
    let text = account.to_string();
    assert!(text.contains("rewritten"), "{text}");
}

#[test]
fn without_edge_addresses_the_draft6_part_is_never_guessed() {
    let input = example('a');
    let text = String::from_utf8(input.clone()).unwrap();
    let expected = fix_content_length(&edit_part(&text, BOUNDARY, 2, ICE_EDITS));
    let account = rewriter(&[]).rewrite(&input).unwrap();
    assert_eq!(
        String::from_utf8(account.output.clone().unwrap()).unwrap(),
        expected
    );
    let report = account.to_string();
    assert!(
        report.contains("no relay candidates"),
        "the draft-6 part says why it was left alone: {report}"
    );
}

#[test]
fn rewriting_a_rewritten_message_changes_nothing() {
    let mut rewriter = rewriter(&[EDGE]);
    let once = rewriter.rewrite(&example('a')).unwrap().output.unwrap();
    let twice = rewriter.rewrite(&once).unwrap();
    assert!(twice.output.is_none(), "second pass changed: {twice}");
    assert_eq!(twice.unchanged, Some(Unchanged::NothingApplied));
}

#[test]
fn a_different_invalid_port_is_used_verbatim() {
    let config = RewriteConfig {
        edge_addresses: vec![EDGE.parse().unwrap()],
        invalid_port: 1,
        ..RewriteConfig::default()
    };
    let mut rewriter = Rewriter::new(config, &PolicyConfig::default()).unwrap();
    let out = rewriter.rewrite(&example('a')).unwrap().output.unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("2130706431 192.0.2.10 1 typ host"));
    assert!(out.contains("UDP 0.830 192.0.2.10 1 \r\n"));
    assert!(!out.contains(" 9 typ host"));
}
