//! Any bytes as one SIP message: no panic, and every range the view hands out lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for parsed in [
        rec_sip::Message::parse(data),
        rec_sip::Message::parse_lenient(data),
    ] {
        let Ok(message) = parsed else { continue };
        let _ = (
            message.start_line(),
            message.method(),
            message.status_code(),
        );
        let _ = (
            message.call_id(),
            message.from(),
            message.to(),
            message.cseq(),
        );
        let _ = message.p_asserted_identities().count();
        for header in message.headers() {
            assert!(header.value_range.end <= data.len());
            let _ = header.value();
        }
        let body = message.body_range();
        assert!(body.end <= data.len() && body.start <= body.end);
        for part in message.bodies() {
            assert!(part.body_range.start >= body.start && part.body_range.end <= body.end);
            assert_eq!(&data[part.body_range.clone()], part.body);
        }
    }
});
