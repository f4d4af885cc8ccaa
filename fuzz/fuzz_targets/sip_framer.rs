//! Any bytes fed in chunks (sizes taken from the first byte) to the stream framer: no panic, no hang, and
//! every framed message is a contiguous piece of the input, in order.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut framer = rec_sip::StreamFramer::new(16 * 1024);
    let mut search_from = 0;
    for piece in stream.chunks(chunk) {
        framer.push(piece);
        let mut rounds = 0;
        while let Some(frame) = framer.next_frame() {
            rounds += 1;
            assert!(rounds <= stream.len() + 1, "framer does not make progress");
            if let Ok(message) = frame {
                let found = stream[search_from..]
                    .windows(message.len().max(1))
                    .position(|w| w == message);
                let at = found.expect("framed bytes are a piece of the input") + search_from;
                search_from = at + message.len();
            }
        }
    }
});
