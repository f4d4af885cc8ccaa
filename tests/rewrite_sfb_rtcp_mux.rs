//! Scenario: the Skype for Business single-part offer with `a=rtcp-mux` (example c), an internal client whose
//! defaults are its host candidates: they move to the UDP relay of the same component.

use rec_rewrite::{PolicyConfig, RewriteConfig, Rewriter};
use recorder_tests::{differing_lines, example, fix_content_length, replace_once};

#[test]
fn host_defaults_move_to_the_relay_and_rtcp_mux_stays() {
    let input = example('c');
    let mut expected = String::from_utf8(input.clone()).unwrap();
    for (from, to) in [
        ("c=IN IP4 192.0.2.30\r\n", "c=IN IP4 198.51.100.20\r\n"),
        ("m=audio 50052 RTP/SAVP", "m=audio 52037 RTP/SAVP"),
        (
            "2130706431 192.0.2.30 50052 typ host",
            "2130706431 192.0.2.30 9 typ host",
        ),
        (
            "2130705918 192.0.2.30 50053 typ host",
            "2130705918 192.0.2.30 9 typ host",
        ),
        (
            "1684797439 192.0.2.30 50024 typ srflx",
            "1684797439 192.0.2.30 9 typ srflx",
        ),
        (
            "1684796926 192.0.2.30 50024 typ srflx",
            "1684796926 192.0.2.30 9 typ srflx",
        ),
        ("a=rtcp:50053\r\n", "a=rtcp:59460\r\n"),
    ] {
        expected = replace_once(&expected, from, to);
    }
    let expected = fix_content_length(&expected);

    let mut rewriter = Rewriter::new(RewriteConfig::default(), &PolicyConfig::default()).unwrap();
    let output = rewriter.rewrite(&input).unwrap().output.expect("rewritten");
    assert_eq!(String::from_utf8(output.clone()).unwrap(), expected);
    assert_eq!(differing_lines(&input, &output).len(), 8);
    assert!(String::from_utf8(output)
        .unwrap()
        .contains("a=rtcp-mux\r\n"));
}
