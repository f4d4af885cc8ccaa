//! Scenario: answers (200 OK, 183 Session Progress with early media) of a remote user whose defaults already
//! point at its UDP relay (example b). Host and srflx candidate ports become invalid; the defaults stay.

use rec_rewrite::{PolicyConfig, RewriteConfig, Rewriter};
use recorder_tests::{example, fix_content_length, replace_once};

/// Every non-relay candidate of example b, before → after. Relay candidates, `m=`, `c=` and `a=rtcp` stay:
/// they already name the relay (58110 / 51233 on 203.0.113.200).
const ANSWER_EDITS: &[(&str, &str)] = &[
    (
        "2130706431 203.0.113.10 50010 typ host",
        "2130706431 203.0.113.10 9 typ host",
    ),
    (
        "2130705918 203.0.113.10 50011 typ host",
        "2130705918 203.0.113.10 9 typ host",
    ),
    (
        "1694234623 203.0.113.99 60010 typ srflx",
        "1694234623 203.0.113.99 9 typ srflx",
    ),
    (
        "1694234110 203.0.113.99 60011 typ srflx",
        "1694234110 203.0.113.99 9 typ srflx",
    ),
    (
        "1684795391 203.0.113.99 60020 typ srflx",
        "1684795391 203.0.113.99 9 typ srflx",
    ),
    (
        "1684794878 203.0.113.99 60020 typ srflx",
        "1684794878 203.0.113.99 9 typ srflx",
    ),
];

fn expected(input: &str) -> String {
    let mut text = input.to_owned();
    for (from, to) in ANSWER_EDITS {
        text = replace_once(&text, from, to);
    }
    fix_content_length(&text)
}

fn rewrite(input: &[u8]) -> Option<Vec<u8>> {
    let mut rewriter = Rewriter::new(RewriteConfig::default(), &PolicyConfig::default()).unwrap();
    rewriter.rewrite(input).unwrap().output
}

#[test]
fn ok_200_answer_keeps_its_relay_defaults() {
    let input = example('b');
    let output = rewrite(&input).expect("answer must be rewritten");
    let output = String::from_utf8(output).unwrap();
    assert_eq!(output, expected(std::str::from_utf8(&input).unwrap()));
    for default in [
        "m=audio 58110 ",
        "c=IN IP4 203.0.113.200\r\n",
        "a=rtcp:51233\r\n",
    ] {
        assert!(output.contains(default), "default {default:?} must stay");
    }
}

#[test]
fn early_media_183_is_rewritten_like_the_final_answer() {
    let ok = String::from_utf8(example('b')).unwrap();
    let progress = replace_once(
        &ok,
        "SIP/2.0 200 OK\r\n",
        "SIP/2.0 183 Session Progress\r\nRequire: 100rel\r\nRSeq: 1\r\n",
    );
    let output = rewrite(progress.as_bytes()).expect("183 must be rewritten");
    assert_eq!(String::from_utf8(output).unwrap(), expected(&progress));
}
