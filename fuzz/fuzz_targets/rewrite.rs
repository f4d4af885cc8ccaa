//! Any bytes through the relay-forcing rewriter (with an Edge address, video and codec dropping on, so every
//! path runs): no panic; a rewritten message parses again, and rewriting it again changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rec_rewrite::{PolicyConfig, RewriteConfig, Rewriter};

fuzz_target!(|data: &[u8]| {
    let config = RewriteConfig {
        edge_addresses: vec!["198.51.100.20".parse().unwrap()],
        video: true,
        drop_undecodable_codecs: true,
        ..RewriteConfig::default()
    };
    let mut rewriter = Rewriter::new(config, &PolicyConfig::default()).unwrap();
    let Ok(account) = rewriter.rewrite(data) else {
        return;
    };
    let _ = account.to_string();
    if let Some(output) = account.output {
        rec_sip::Message::parse(&output).expect("rewritten message parses");
        let again = rewriter
            .rewrite(&output)
            .expect("rewritten message is accepted");
        assert!(again.output.is_none(), "rewrite is idempotent");
    }
});
