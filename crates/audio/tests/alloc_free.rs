//! Media-path code does not allocate per packet: a counting global allocator (per thread) sees no allocation
//! while G.722 packets (mono and stereo) are decoded and losses concealed, nor while 20 ms frames are resampled
//! (ours, and rubato's `Fft` behind the same FIFO wrapper as in the comparison, for the record).
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rec_audio::decoder_for;

mod resample_support;
use resample_support::{Converter, Kind, Signal};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

#[test]
fn codec_g722_decode_does_not_allocate() {
    let payload: Vec<u8> = (0..320u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut out = vec![0i16; 1280];
    for ch in [1u16, 2] {
        let mut dec = decoder_for("G722", 8000, ch).unwrap();
        let before = allocs();
        for i in 0..100 {
            if i % 7 == 3 {
                dec.conceal(320, &mut out);
            }
            dec.decode(&payload, &mut out).unwrap();
        }
        assert_eq!(
            allocs(),
            before,
            "{ch} channel(s): allocations while decoding"
        );
    }
}

#[test]
fn resample_20ms_frames_do_not_allocate() {
    for (i, o) in [(8000u32, 16000u32), (16000, 48000), (48000, 16000)] {
        let frame = Signal::Sine(440.0).samples(i, (i / 50) as usize);
        for kind in Kind::ALL {
            let mut conv = Converter::new(kind, i, o);
            let mut out = Vec::with_capacity(8 * (o / 50) as usize);
            conv.process(&frame, &mut out);
            let before = allocs();
            for _ in 0..50 {
                out.clear();
                conv.process(&frame, &mut out);
            }
            assert_eq!(allocs(), before, "{kind:?} {i}->{o}: allocations per frame");
        }
    }
}
