//! Which call gives way when the call table is full.
//!
//! A flood of never-answered INVITEs must not push out the calls that are really being recorded. Calls are
//! kept in one ordered index by *class* (how far the call got), then trust rank of the source that created
//! it, then age; the victim is the first entry, found in O(log n):
//!
//! | class | the call has                                   |
//! |-------|------------------------------------------------|
//! | 0     | no response at all (what a flood looks like)   |
//! | 1     | a provisional response, no answer, no media    |
//! | 2     | an answer or media, not both                   |
//! | 3     | an answer and media: never evicted by an INVITE |
//!
//! A new call may only push out a call of class 0–2 whose source is not more trusted than its own; otherwise
//! the new INVITE is refused (counted in `calls_refused`).

use std::collections::BTreeSet;

use crate::call::Call;
use crate::CallHandle;

/// A call's place in the eviction order: `(class, trust rank, handle)`; handles grow with age.
pub(crate) type EvictKey = (u8, u8, CallHandle);

/// The class a call never loses to a new INVITE.
pub(crate) const PROTECTED_CLASS: u8 = 3;

/// How far a call got (see the module documentation).
pub(crate) fn class_of(call: &Call) -> u8 {
    let media = call.first_media_us.is_some();
    match (call.answered, media) {
        (true, true) => 3,
        (true, false) | (false, true) => 2,
        (false, false) if call.responded => 1,
        (false, false) => 0,
    }
}

/// The eviction order of the tracked calls.
#[derive(Debug, Default)]
pub(crate) struct EvictionIndex {
    order: BTreeSet<EvictKey>,
}

impl EvictionIndex {
    /// Adds or moves `call` to its current place; returns the key to keep in the call.
    pub fn place(&mut self, old: Option<EvictKey>, new: EvictKey) -> EvictKey {
        if old != Some(new) {
            if let Some(o) = old {
                self.order.remove(&o);
            }
            self.order.insert(new);
        }
        new
    }

    /// Forgets a call.
    pub fn remove(&mut self, key: Option<EvictKey>) {
        if let Some(k) = key {
            self.order.remove(&k);
        }
    }

    /// The call to push out for a new call whose source has `rank`, if any may be.
    pub fn victim(&self, rank: u8) -> Option<EvictKey> {
        let first = *self.order.first()?;
        (first.0 < PROTECTED_CLASS && first.1 <= rank).then_some(first)
    }

    /// Calls indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn victims_come_by_class_then_trust_then_age() {
        let mut ix = EvictionIndex::default();
        let a = ix.place(None, (3, 2, 1));
        let b = ix.place(None, (0, 2, 2));
        let c = ix.place(None, (0, 1, 3));
        let d = ix.place(None, (1, 1, 4));
        assert_eq!(ix.victim(2), Some(c), "lowest class, then lowest trust");
        ix.remove(Some(c));
        assert_eq!(ix.victim(2), Some(b));
        assert_eq!(
            ix.victim(1),
            None,
            "a less trusted INVITE cannot push out a more trusted call"
        );
        ix.remove(Some(b));
        let d = ix.place(Some(d), (3, 1, 4));
        assert_eq!(
            ix.victim(9),
            None,
            "answered calls with media are never pushed out"
        );
        ix.remove(Some(a));
        ix.remove(Some(d));
        assert_eq!(ix.len(), 0);
    }
}
