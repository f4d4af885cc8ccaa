//! Any bytes as SDP: no panic, a parsed SDP reproduces its input byte for byte, typed views never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = rec_sdp::Sdp::parse(data) else {
        return;
    };
    assert_eq!(sdp.to_bytes(), data, "round trip");
    for media in sdp.media() {
        let _ = media.candidates().count();
        let _ = media.cryptos().count();
    }
});
