//! Scenario: each condition of the relay-forcing rewrite on its own — the call is recorded (policy), the
//! stream is recorded (audio; video when configured), relay candidates are present, the candidate is not a
//! relay — plus emergency calls, TCP-only relays, disabled sections and a re-INVITE after ICE completion.

use rec_rewrite::{DefaultAction, PolicyConfig, RewriteConfig, Rewriter, Unchanged};
use recorder_tests::{fix_content_length, replace_once, sip_message};

const HEAD: &str = "INVITE sip:bob@fabrikam.example SIP/2.0
Via: SIP/2.0/TLS 192.0.2.10:51234;branch=z9hG4bK1
From: \"Alice\"<sip:alice@contoso.example>;tag=a1;epid=e1
To: <sip:bob@fabrikam.example>
Call-ID: cond-CALLID
CSeq: 1 INVITE
Contact: <sip:alice@contoso.example;opaque=user:epid:x;gruu>
Content-Type: application/sdp";

fn invite(call_id: &str, sdp: &str) -> Vec<u8> {
    sip_message(&HEAD.replace("CALLID", call_id), sdp)
}

const AUDIO: &str = "m=audio 20062 RTP/SAVP 0 8
a=ice-ufrag:uFsY
a=ice-pwd:sPb/ADC9fTwu1bppYYlTVpgh
a=candidate:1 1 UDP 2130706431 192.0.2.10 20062 typ host 
a=candidate:1 2 UDP 2130705918 192.0.2.10 20063 typ host 
a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 20066 
a=candidate:3 2 UDP 184547838 198.51.100.20 50627 typ relay raddr 192.0.2.10 rport 20067 
a=rtcp:20063
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
";

const VIDEO: &str = "m=video 20080 RTP/SAVP 122
a=candidate:1 1 UDP 2130706431 192.0.2.10 20080 typ host 
a=candidate:1 2 UDP 2130705918 192.0.2.10 20081 typ host 
a=candidate:3 1 UDP 184548351 198.51.100.20 51000 typ relay raddr 192.0.2.10 rport 20086 
a=candidate:3 2 UDP 184547838 198.51.100.20 51001 typ relay raddr 192.0.2.10 rport 20087 
a=rtcp:20081
a=rtpmap:122 X-H264UC/90000
";

const SESSION: &str = "v=0
o=- 0 1 IN IP4 192.0.2.10
s=session
c=IN IP4 192.0.2.10
t=0 0
";

fn rewriter_with(config: RewriteConfig, policy: PolicyConfig) -> Rewriter {
    Rewriter::new(config, &policy).unwrap()
}

fn default_rewriter() -> Rewriter {
    rewriter_with(RewriteConfig::default(), PolicyConfig::default())
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn call_not_recorded_by_policy_is_left_alone_and_include_brings_it_back() {
    let message = invite("policy", &format!("{SESSION}{AUDIO}"));
    let ignore = PolicyConfig {
        default: DefaultAction::Ignore,
        ..PolicyConfig::default()
    };
    let account = rewriter_with(RewriteConfig::default(), ignore.clone())
        .rewrite(&message)
        .unwrap();
    assert!(account.output.is_none());
    assert!(matches!(account.unchanged, Some(Unchanged::NotRecorded)));

    let include_bob = PolicyConfig {
        include: vec!["bob@fabrikam.example".into()],
        ..ignore
    };
    let account = rewriter_with(RewriteConfig::default(), include_bob)
        .rewrite(&message)
        .unwrap();
    assert!(account.output.is_some(), "{account}");

    let exclude_domain = PolicyConfig {
        exclude: vec!["domain:contoso.example".into()],
        ..PolicyConfig::default()
    };
    let account = rewriter_with(RewriteConfig::default(), exclude_domain)
        .rewrite(&message)
        .unwrap();
    assert!(account.output.is_none());
    assert!(account.to_string().contains("excluded"), "{account}");
}

#[test]
fn video_is_rewritten_only_when_configured() {
    let sdp = format!("{SESSION}{AUDIO}{VIDEO}");
    let message = invite("video", &sdp);
    let out = text(
        default_rewriter()
            .rewrite(&message)
            .unwrap()
            .output
            .unwrap(),
    );
    // The session-level c= is shared with the video section, whose default must stay valid: the audio
    // section gets a media-level c= of its own (right after its m= line) instead.
    let mut expected = text(message.clone());
    for (from, to) in [
        (
            "m=audio 20062 RTP/SAVP 0 8\r\n",
            "m=audio 55188 RTP/SAVP 0 8\r\nc=IN IP4 198.51.100.20\r\n",
        ),
        ("192.0.2.10 20062 typ host", "192.0.2.10 9 typ host"),
        ("192.0.2.10 20063 typ host", "192.0.2.10 9 typ host"),
        ("a=rtcp:20063\r\n", "a=rtcp:50627\r\n"),
    ] {
        expected = replace_once(&expected, from, to);
    }
    assert_eq!(out, fix_content_length(&expected));

    let config = RewriteConfig {
        video: true,
        ..RewriteConfig::default()
    };
    let out = text(
        rewriter_with(config, PolicyConfig::default())
            .rewrite(&message)
            .unwrap()
            .output
            .unwrap(),
    );
    assert!(out.contains("2130706431 192.0.2.10 9 typ host \r\na=candidate:1 2 UDP 2130705918 192.0.2.10 9 typ host \r\na=candidate:3 1 UDP 184548351 198.51.100.20 51000"));
    assert!(
        out.contains("m=video 51000 "),
        "video default moved to its relay"
    );
    assert!(out.contains("a=rtcp:51001\r\n"));
}

#[test]
fn section_without_relay_candidates_is_left_alone() {
    let audio_no_relay: String = AUDIO
        .lines()
        .filter(|l| !l.contains("typ relay"))
        .map(|l| format!("{l}\n"))
        .collect();
    let message = invite("norelay", &format!("{SESSION}{audio_no_relay}"));
    let account = default_rewriter().rewrite(&message).unwrap();
    assert!(account.output.is_none());
    assert_eq!(account.unchanged, Some(Unchanged::NothingApplied));
    assert!(
        account.to_string().contains("no relay candidates"),
        "{account}"
    );
}

#[test]
fn relay_candidates_and_disabled_sections_are_never_touched() {
    let disabled = "m=audio 0 RTP/SAVP 0\na=candidate:1 1 UDP 2130706431 192.0.2.10 20090 typ host \na=candidate:3 1 UDP 184548351 198.51.100.20 52000 typ relay raddr 192.0.2.10 rport 20091 \n";
    let message = invite("relay", &format!("{SESSION}{AUDIO}{disabled}"));
    let out = text(
        default_rewriter()
            .rewrite(&message)
            .unwrap()
            .output
            .unwrap(),
    );
    assert!(
        out.contains("184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 20066 \r\n")
    );
    assert!(
        out.contains("184547838 198.51.100.20 50627 typ relay raddr 192.0.2.10 rport 20067 \r\n")
    );
    assert!(
        out.contains("2130706431 192.0.2.10 20090 typ host"),
        "port-0 section untouched"
    );
}

#[test]
fn tcp_relay_only_moves_the_default_to_the_tcp_relay() {
    let sdp = "m=audio 20062 RTP/SAVP 0
a=candidate:1 1 UDP 2130706431 192.0.2.10 20062 typ host 
a=candidate:1 2 UDP 2130705918 192.0.2.10 20063 typ host 
a=candidate:2 1 TCP-PASS 174456319 198.51.100.20 53870 typ relay raddr 192.0.2.10 rport 20070 
a=candidate:2 2 TCP-PASS 174455806 198.51.100.20 53870 typ relay raddr 192.0.2.10 rport 20070 
a=rtcp:20063
";
    let input = text(invite("tcp", &format!("{SESSION}{sdp}")));
    let mut expected = input.clone();
    for (from, to) in [
        ("c=IN IP4 192.0.2.10\r\n", "c=IN IP4 198.51.100.20\r\n"),
        ("m=audio 20062 ", "m=audio 53870 "),
        ("192.0.2.10 20062 typ host", "192.0.2.10 9 typ host"),
        ("192.0.2.10 20063 typ host", "192.0.2.10 9 typ host"),
        ("a=rtcp:20063\r\n", "a=rtcp:53870\r\n"),
    ] {
        expected = replace_once(&expected, from, to);
    }
    let out = default_rewriter()
        .rewrite(input.as_bytes())
        .unwrap()
        .output
        .unwrap();
    assert_eq!(text(out), fix_content_length(&expected));
}

#[test]
fn reinvite_after_ice_keeps_remote_candidates() {
    let sdp = "m=audio 55188 RTP/SAVP 0
a=candidate:1 1 UDP 2130706431 192.0.2.10 20062 typ host 
a=candidate:1 2 UDP 2130705918 192.0.2.10 20063 typ host 
a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 20066 
a=candidate:3 2 UDP 184547838 198.51.100.20 50627 typ relay raddr 192.0.2.10 rport 20067 
a=remote-candidates:1 203.0.113.10 50010 2 203.0.113.10 50011
a=rtcp:50627
";
    let session = SESSION.replace("c=IN IP4 192.0.2.10", "c=IN IP4 198.51.100.20");
    let input = text(invite("reinvite", &format!("{session}{sdp}")).to_vec());
    let input = replace_once(&input, "CSeq: 1 INVITE", "CSeq: 2 INVITE");
    let mut expected = input.clone();
    for (from, to) in [
        ("192.0.2.10 20062 typ host", "192.0.2.10 9 typ host"),
        ("192.0.2.10 20063 typ host", "192.0.2.10 9 typ host"),
    ] {
        expected = replace_once(&expected, from, to);
    }
    let out = default_rewriter()
        .rewrite(input.as_bytes())
        .unwrap()
        .output
        .unwrap();
    assert_eq!(text(out), fix_content_length(&expected));
}

const PIDF: &str = "<?xml version=\"1.0\"?>
<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:alice@contoso.example\"><tuple id=\"1\"><status/></tuple></presence>
";

fn emergency_invite(call_id: &str, priority: bool) -> Vec<u8> {
    let boundary = "boundary1";
    let body = format!(
        "--{boundary}\nContent-Type: application/sdp\n\n{SESSION}{AUDIO}--{boundary}\nContent-Type: application/pidf+xml\nContent-ID: <loc@contoso.example>\n\n{PIDF}--{boundary}--\n"
    );
    let mut head = HEAD
        .replace("CALLID", call_id)
        .replace("bob@fabrikam.example", "+911@contoso.example;user=phone")
        .replace(
            "Content-Type: application/sdp",
            &format!("Content-Type: multipart/mixed;boundary={boundary}\nGeolocation: <cid:loc@contoso.example>"),
        );
    if priority {
        head.push_str("\nPriority: emergency");
    }
    sip_message(&head, &body)
}

#[test]
fn emergency_calls_are_never_rewritten_unless_configured() {
    for (call_id, priority) in [("e1", true), ("e2", false)] {
        let message = emergency_invite(call_id, priority);
        let mut rewriter = default_rewriter();
        let account = rewriter.rewrite(&message).unwrap();
        assert!(account.output.is_none(), "{account}");
        assert!(matches!(account.unchanged, Some(Unchanged::Emergency(_))));

        // the answer carries no marker of its own; the call is remembered
        let answer = sip_message(
            &format!(
                "SIP/2.0 200 OK\nFrom: <sip:alice@contoso.example>;tag=a1\nTo: <sip:+911@contoso.example;user=phone>;tag=b1\nCall-ID: cond-{call_id}\nCSeq: 1 INVITE\nContent-Type: application/sdp"
            ),
            &format!("{SESSION}{AUDIO}"),
        );
        let account = rewriter.rewrite(&answer).unwrap();
        assert!(
            account.output.is_none(),
            "answer of an emergency call: {account}"
        );

        let config = RewriteConfig {
            emergency: true,
            ..RewriteConfig::default()
        };
        let account = rewriter_with(config, PolicyConfig::default())
            .rewrite(&message)
            .unwrap();
        let out = text(account.output.expect("rewritten when configured"));
        assert!(out.contains(PIDF.lines().nth(1).unwrap()), "location kept");
    }
}

#[test]
fn messages_without_sdp_pass_unchanged() {
    let bye = sip_message(
        "BYE sip:bob@fabrikam.example SIP/2.0\nFrom: <sip:alice@contoso.example>;tag=a1\nTo: <sip:bob@fabrikam.example>;tag=b1\nCall-ID: nosdp\nCSeq: 3 BYE",
        "",
    );
    let account = default_rewriter().rewrite(&bye).unwrap();
    assert!(account.output.is_none());
    assert_eq!(account.unchanged, Some(Unchanged::NoSdp));
}

#[test]
fn drop_undecodable_codecs_applies_to_offers_only() {
    let sdp = "m=audio 20062 RTP/SAVP 114 0 8
a=candidate:1 1 UDP 2130706431 192.0.2.10 20062 typ host 
a=candidate:3 1 UDP 184548351 198.51.100.20 55188 typ relay raddr 192.0.2.10 rport 20066 
a=rtpmap:114 x-msrta/16000
a=fmtp:114 bitrate=29000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
";
    let config = RewriteConfig {
        drop_undecodable_codecs: true,
        ..RewriteConfig::default()
    };
    let message = invite("codecs", &format!("{SESSION}{sdp}"));
    let out = text(
        rewriter_with(config.clone(), PolicyConfig::default())
            .rewrite(&message)
            .unwrap()
            .output
            .unwrap(),
    );
    assert!(out.contains("m=audio 55188 RTP/SAVP 0 8\r\n"), "{out}");
    assert!(!out.contains("x-msrta") && !out.contains("a=fmtp:114"));

    let answer = sip_message(
        "SIP/2.0 200 OK\nFrom: <sip:alice@contoso.example>;tag=a1\nTo: <sip:bob@fabrikam.example>;tag=b1\nCall-ID: codecs2\nCSeq: 1 INVITE\nContent-Type: application/sdp",
        &format!("{SESSION}{sdp}"),
    );
    let out = text(
        rewriter_with(config, PolicyConfig::default())
            .rewrite(&answer)
            .unwrap()
            .output
            .unwrap(),
    );
    assert!(
        out.contains("a=rtpmap:114 x-msrta/16000"),
        "answers keep their codecs"
    );
}
