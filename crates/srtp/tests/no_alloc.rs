//! Decrypting a steady stream allocates nothing per packet (counting global allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rec_srtp::{KeyParams, SrtpContext, Suite};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// Test-only allocator: forwards every call unchanged to `System` (so its safety contract is
// exactly `System`'s) and counts allocations made on the current thread.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(|c| c.get())
}

#[test]
fn steady_state_decrypt_does_not_allocate() {
    for suite in Suite::ALL {
        let ks: Vec<u8> = (0..(suite.key_len() + suite.salt_len()) as u8).collect();
        let b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&ks)
        };
        let kp = KeyParams::parse_sdes(suite.name(), &format!("inline:{b64}|2^31|1:1")).unwrap();
        let kp2 = kp.clone();
        let mut tx = SrtpContext::new(kp.clone());
        let mut rx = SrtpContext::new(kp);
        let mut wire = Vec::new();
        for seq in 65_000u16..=65_535 {
            let mut p = vec![0x80, 0x08];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
            p.extend_from_slice(&[0x55; 160]);
            tx.encrypt_rtp(&mut p).unwrap();
            wire.push(p);
        }
        // First packet creates the per-SSRC state (one allocation allowed).
        rx.decrypt_rtp(&mut wire[0]).unwrap();
        let before = allocs();
        for p in wire.iter_mut().skip(1) {
            rx.decrypt_rtp(p).unwrap();
        }
        assert_eq!(
            allocs() - before,
            0,
            "{suite}: allocations while decrypting"
        );
        // The same through `decrypt_rtp_pair` (ciphertexts re-made: the loop above decrypted
        // them in place).
        let mut tx = SrtpContext::new(kp2.clone());
        let mut rx = SrtpContext::new(kp2.clone());
        let mut wire: Vec<Vec<u8>> = (65_000u16..=65_535)
            .map(|seq| {
                let mut p = vec![0x80, 0x08];
                p.extend_from_slice(&seq.to_be_bytes());
                p.extend_from_slice(&[0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
                p.extend_from_slice(&[0x55; 160]);
                tx.encrypt_rtp(&mut p).unwrap();
                p
            })
            .collect();
        rx.decrypt_rtp(&mut wire[0]).unwrap();
        let before = allocs();
        for two in wire[1..].chunks_mut(2) {
            if let [a, b] = two {
                let [ra, rb] = rx.decrypt_rtp_pair(a, b);
                ra.unwrap();
                rb.unwrap();
            }
        }
        assert_eq!(
            allocs() - before,
            0,
            "{suite}: allocations while decrypting pairs"
        );
    }
}
