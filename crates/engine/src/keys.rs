//! The SRTP keys one side of a call may be sending with: every key its SDP offered (Lync offers up to three
//! tags, Lync 2013 with a different key per tag) plus keys from later re-INVITEs. The key that authenticates
//! is adopted; the others are kept so a re-key or a different tag still decrypts.

use rec_srtp::{DecryptedRtp, KeyParams, SrtpContext};

/// Most keys remembered per side of a media section.
const MAX_KEYS: usize = 8;

/// Candidate SRTP contexts of one sending side.
#[derive(Default)]
pub(crate) struct KeySet {
    /// `(fingerprint, batch, context)`: the batch numbers the SDP a key came from (later SDPs, higher numbers).
    contexts: Vec<(u64, u32, SrtpContext)>,
    /// Index of the context that authenticated last.
    current: Option<usize>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("keys", &self.contexts.len())
            .field("current", &self.current)
            .finish()
    }
}

/// Why a packet did not decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecryptFailure {
    /// The side has no key (no crypto line): the stream may be plain RTP.
    NoKey,
    /// No key authenticated the packet.
    Auth,
}

impl KeySet {
    /// Adds a key identified by `fingerprint` (a hash of its SDES text; the key itself is never compared or
    /// shown), unless already known.
    pub fn add(&mut self, fingerprint: u64, batch: u32, params: KeyParams) {
        if self.contexts.iter().any(|(f, _, _)| *f == fingerprint) {
            return;
        }
        if self.contexts.len() >= MAX_KEYS {
            // forget the oldest key that is not in use
            let victim = (0..self.contexts.len()).find(|&i| Some(i) != self.current);
            if let Some(v) = victim {
                self.contexts.remove(v);
                if let Some(c) = self.current.as_mut() {
                    if *c > v {
                        *c -= 1;
                    }
                }
            }
        }
        self.contexts
            .push((fingerprint, batch, SrtpContext::new(params)));
    }

    /// Key `i` authenticated: it becomes current, and the other keys of the same SDP (crypto tags the answer
    /// did not choose) are forgotten. Keys of other SDPs stay: an older key may still authenticate packets
    /// reordered around a re-key, a newer one is a re-key not yet in use.
    fn adopt(&mut self, i: usize) {
        let batch = self.contexts[i].1;
        let keep: Vec<bool> = self
            .contexts
            .iter()
            .enumerate()
            .map(|(j, (_, b, _))| j == i || *b != batch)
            .collect();
        let position = keep[..i].iter().filter(|&&k| k).count();
        let mut flags = keep.into_iter();
        self.contexts.retain(|_| flags.next().unwrap_or(true));
        self.current = Some(position);
    }

    /// Whether any key is known.
    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }

    /// Decrypts `pkt` in place with the current key, then with the others; the one that authenticates
    /// becomes current. Nothing changes when none does.
    pub fn decrypt_rtp(&mut self, pkt: &mut [u8]) -> Result<DecryptedRtp, DecryptFailure> {
        if self.contexts.is_empty() {
            return Err(DecryptFailure::NoKey);
        }
        let order = self
            .current
            .into_iter()
            .chain((0..self.contexts.len()).filter(|&i| Some(i) != self.current));
        for i in order {
            match self.contexts[i].2.decrypt_rtp(pkt) {
                Ok(d) => {
                    if self.current != Some(i) {
                        self.adopt(i);
                    }
                    return Ok(d);
                }
                Err(_) => continue,
            }
        }
        Err(DecryptFailure::Auth)
    }
}

/// A 64-bit FNV-1a hash: fingerprints of key text (never stored or shown in clear) and Ogg serials.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
