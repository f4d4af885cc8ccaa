//! Per-direction SRTP/SRTCP context: key selection (MKI, re-key candidate), per-SSRC rollover
//! counter estimation and duplicate detection.

use std::fmt;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::params::{KeyParams, Suite};
use crate::session::{SessionKeys, Transform};

/// Per-SSRC table. A context serves one direction of one media stream, which carries one or
/// a few SSRCs, so a linear scan beats hashing; entries are only created for authenticated
/// packets, so unauthenticated floods cannot grow it.
#[derive(Debug, Clone)]
struct SsrcMap<T> {
    entries: Vec<(u32, T)>,
}

impl<T> Default for SsrcMap<T> {
    fn default() -> Self {
        SsrcMap {
            entries: Vec::new(),
        }
    }
}

impl<T: Default> SsrcMap<T> {
    #[inline]
    fn get(&self, ssrc: u32) -> Option<&T> {
        self.entries.iter().find(|e| e.0 == ssrc).map(|e| &e.1)
    }

    #[inline]
    fn get_mut_or_default(&mut self, ssrc: u32) -> &mut T {
        let pos = match self.entries.iter().position(|e| e.0 == ssrc) {
            Some(p) => p,
            None => {
                self.entries.push((ssrc, T::default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[pos].1
    }

    fn insert(&mut self, ssrc: u32, v: T) {
        *self.get_mut_or_default(ssrc) = v;
    }

    fn remove(&mut self, ssrc: u32) {
        self.entries.retain(|e| e.0 != ssrc);
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Width of the duplicate / replay window in packets.
const WINDOW: u64 = 128;

/// Tunables of a [`SrtpContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Reject packets whose index was already accepted (RFC 3711 §3.3.2). A passive recorder
    /// sees legitimate duplicates (SPAN of both legs), so the default is off: duplicates are
    /// decrypted and flagged in [`DecryptedRtp::duplicate`] instead.
    pub replay_protection: bool,
    /// ROC assumed for the first packet of an SSRC (0 for a call recorded from its start).
    pub initial_roc: u32,
    /// How many ROC values a first packet tries before giving up, around `initial_roc`
    /// (`initial_roc`, +1, −1, +2, −2, …). Covers joining a call after sequence wraps.
    pub first_packet_roc_tries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            replay_protection: false,
            initial_roc: 0,
            first_packet_roc_tries: 5,
        }
    }
}

/// What [`SrtpContext::decrypt_rtp`] found; the plain payload is `buf[payload_range]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedRtp {
    /// Plain payload within the caller's buffer (RTP padding removed).
    pub payload_range: Range<usize>,
    /// Length of the plain RTP packet (header + payload + padding) at the start of the buffer.
    pub packet_len: usize,
    /// Synchronisation source.
    pub ssrc: u32,
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// RTP payload type.
    pub payload_type: u8,
    /// RTP marker bit.
    pub marker: bool,
    /// Rollover counter that authenticated the packet.
    pub roc: u32,
    /// 48-bit packet index `roc * 65536 + seq`.
    pub index: u64,
    /// The same index was already accepted on this SSRC (only reported; see [`Config`]).
    pub duplicate: bool,
    /// This packet authenticated with the candidate key, which is now the current key.
    pub rekeyed: bool,
}

/// What [`SrtpContext::decrypt_rtcp`] found; the plain compound packet is `buf[..packet_len]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedRtcp {
    /// Length of the plain compound RTCP packet at the start of the buffer.
    pub packet_len: usize,
    /// SSRC of the sender (first packet of the compound).
    pub ssrc: u32,
    /// 31-bit SRTCP index.
    pub index: u32,
    /// Whether the packet was encrypted (E flag) or only authenticated.
    pub encrypted: bool,
    /// The same SRTCP index was already accepted on this SSRC.
    pub duplicate: bool,
    /// This packet authenticated with the candidate key, which is now the current key.
    pub rekeyed: bool,
}

/// Highest index seen and a bitmap of recently seen indices.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    highest: u64,
    bits: u128,
}

impl Window {
    /// Classifies `index` without changing state: Ok(duplicate?) or Err(too old).
    fn check(&self, index: u64) -> std::result::Result<bool, ()> {
        if index > self.highest {
            Ok(false)
        } else {
            let d = self.highest - index;
            if d >= WINDOW {
                Err(())
            } else {
                Ok(self.bits >> d & 1 == 1)
            }
        }
    }

    fn mark(&mut self, index: u64) {
        if index > self.highest {
            let shift = index - self.highest;
            self.bits = if shift >= WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.highest = index;
        } else {
            let d = self.highest - index;
            if d < WINDOW {
                self.bits |= 1 << d;
            }
        }
    }
}

/// Receive state of one SSRC.
#[derive(Debug, Clone, Copy, Default)]
struct RtpStream {
    /// ROC of the highest index.
    roc: u32,
    /// Sequence number of the highest index (`s_l` in RFC 3711).
    s_l: u16,
    window: Window,
}

/// RFC 3711 §3.3.1 / Appendix A: the most likely ROC of `seq` given the highest index.
fn estimate_roc(roc: u32, s_l: u16, seq: u16) -> i64 {
    let (roc, s_l, seq) = (i64::from(roc), i64::from(s_l), i64::from(seq));
    if s_l < 32768 {
        if seq - s_l > 32768 {
            roc - 1
        } else {
            roc
        }
    } else if s_l - 32768 > seq {
        roc + 1
    } else {
        roc
    }
}

/// ROC candidates, most likely first (`center`, +1, −1, +2, −2, …, skipping values outside
/// `0..=u32::MAX`), at most `tries` (≤ 16) of them; generated lazily so that the usual case, the
/// first candidate authenticating, costs nothing more.
#[derive(Clone, Copy)]
struct RocCandidates {
    center: i64,
    left: u32,
    /// Next offset index: 0 → center, 1 → +1, 2 → −1, 3 → +2, …
    j: u32,
}

impl RocCandidates {
    fn new(center: i64, tries: u32) -> RocCandidates {
        RocCandidates {
            center,
            left: tries.clamp(1, 16),
            j: 0,
        }
    }
}

impl Iterator for RocCandidates {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        // Offsets stay within ±16 (j ≤ 32), as a first packet never needs more.
        while self.left > 0 && self.j <= 32 {
            let j = i64::from(self.j);
            self.j += 1;
            let v = if j % 2 == 1 {
                self.center + (j + 1) / 2
            } else {
                self.center - j / 2
            };
            if let Ok(v) = u32::try_from(v) {
                self.left -= 1;
                return Some(v);
            }
        }
        None
    }
}

/// Keys of one negotiation (one SDES `a=crypto` line): one session-key set per master key.
#[derive(Clone)]
struct KeySet {
    suite: Suite,
    keys: Vec<SessionKeys>,
}

impl KeySet {
    fn new(p: &KeyParams) -> KeySet {
        KeySet {
            suite: p.suite(),
            keys: p
                .keys()
                .iter()
                .map(|m| SessionKeys::new(p.suite(), m))
                .collect(),
        }
    }

    fn mki_len(&self) -> usize {
        self.keys[0].mki.map_or(0, |m| m.len())
    }

    /// The key whose MKI is at `mki_at` in `pkt`, or the only key when there is no MKI.
    fn select(&self, pkt: &[u8], mki_at: usize) -> Option<&SessionKeys> {
        self.select_index(pkt, mki_at).map(|i| &self.keys[i])
    }

    /// Position in `keys` of [`Self::select`]'s key.
    fn select_index(&self, pkt: &[u8], mki_at: usize) -> Option<usize> {
        let ml = self.mki_len();
        if ml == 0 {
            return (!self.keys.is_empty()).then_some(0);
        }
        let m = pkt.get(mki_at..mki_at + ml)?;
        self.keys
            .iter()
            .position(|k| k.mki.is_some_and(|x| x.as_bytes() == m))
    }
}

/// Parsed fixed part of an RTP header.
struct RtpHeader {
    len: usize,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    pt: u8,
    marker: bool,
    padding: bool,
}

/// Checks the fixed part every RTP and RTCP packet shares: at least `min` bytes and version 2.
fn check_header(pkt: &[u8], min: usize) -> Result<()> {
    if pkt.len() < min {
        return Err(Error::TooShort {
            len: pkt.len(),
            min,
        });
    }
    let v = pkt[0] >> 6;
    if v != 2 {
        return Err(Error::BadVersion(v));
    }
    Ok(())
}

fn parse_rtp_header(pkt: &[u8]) -> Result<RtpHeader> {
    check_header(pkt, 12)?;
    let cc = usize::from(pkt[0] & 0x0f);
    let mut len = 12 + 4 * cc;
    if pkt[0] & 0x10 != 0 {
        if pkt.len() < len + 4 {
            return Err(Error::TooShort {
                len: pkt.len(),
                min: len + 4,
            });
        }
        let words = usize::from(u16::from_be_bytes([pkt[len + 2], pkt[len + 3]]));
        len += 4 + 4 * words;
    }
    if pkt.len() < len {
        return Err(Error::TooShort {
            len: pkt.len(),
            min: len,
        });
    }
    Ok(RtpHeader {
        len,
        ssrc: u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]),
        seq: u16::from_be_bytes([pkt[2], pkt[3]]),
        timestamp: u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]),
        pt: pkt[1] & 0x7f,
        marker: pkt[1] & 0x80 != 0,
        padding: pkt[0] & 0x20 != 0,
    })
}

/// Offsets of the parts of a protected SRTP packet for one key set.
struct RtpLayout {
    body_end: usize,
    mki_at: usize,
    tag_start: usize,
    enc_end: usize,
}

fn rtp_layout(set: &KeySet, len: usize, hlen: usize) -> Result<RtpLayout> {
    let ml = set.mki_len();
    let tl = set.suite.rtp_tag_len();
    let min = hlen + ml + tl;
    if len < min {
        return Err(Error::TooShort { len, min });
    }
    Ok(if set.suite.is_aead() {
        // header | ciphertext | tag | MKI
        RtpLayout {
            body_end: len - ml,
            mki_at: len - ml,
            tag_start: len - ml - tl,
            enc_end: len - ml - tl,
        }
    } else {
        // header | ciphertext | MKI | tag
        RtpLayout {
            body_end: len - ml - tl,
            mki_at: len - ml - tl,
            tag_start: len - tl,
            enc_end: len - ml - tl,
        }
    })
}

/// SRTP/SRTCP crypto context for ONE direction of one media stream (keys are per direction):
/// holds the current key set, an optional candidate from a re-key, and per-SSRC state.
pub struct SrtpContext {
    current: KeySet,
    candidate: Option<KeySet>,
    config: Config,
    rtp_rx: SsrcMap<RtpStream>,
    rtcp_rx: SsrcMap<Window>,
    rtp_tx: SsrcMap<RtpStream>,
    tx_roc_init: SsrcMap<u32>,
    rtcp_tx: SsrcMap<u32>,
}

impl fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpContext")
            .field("suite", &self.current.suite)
            .field("keys", &"<redacted>")
            .field("candidate", &self.candidate.as_ref().map(|c| c.suite))
            .field("config", &self.config)
            .field("rtp_streams", &self.rtp_rx.len())
            .field("rtcp_streams", &self.rtcp_rx.len())
            .finish()
    }
}

impl SrtpContext {
    /// Creates a context with the default [`Config`].
    pub fn new(params: KeyParams) -> SrtpContext {
        Self::with_config(params, Config::default())
    }

    /// Creates a context with explicit tunables.
    pub fn with_config(params: KeyParams, config: Config) -> SrtpContext {
        SrtpContext {
            current: KeySet::new(&params),
            candidate: None,
            config,
            rtp_rx: SsrcMap::default(),
            rtcp_rx: SsrcMap::default(),
            rtp_tx: SsrcMap::default(),
            tx_roc_init: SsrcMap::default(),
            rtcp_tx: SsrcMap::default(),
        }
    }

    /// Offers a new key (e.g. from a re-INVITE). It is tried when the current key fails and
    /// becomes the current key only once a packet authenticates with it.
    pub fn add_key(&mut self, params: KeyParams) {
        self.candidate = Some(KeySet::new(&params));
    }

    /// Suite of the current key.
    pub fn suite(&self) -> Suite {
        self.current.suite
    }

    /// Whether a candidate key is waiting to be confirmed.
    pub fn has_candidate(&self) -> bool {
        self.candidate.is_some()
    }

    /// Rollover counter of the highest accepted packet of `ssrc`, if any was accepted.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        self.rtp_rx.get(ssrc).map(|s| s.roc)
    }

    /// Sets the receive ROC of `ssrc` (e.g. learnt out of band); the next packet is estimated
    /// from it as if `seq` had been the highest sequence number.
    pub fn set_roc(&mut self, ssrc: u32, roc: u32, seq: u16) {
        let index = (u64::from(roc) << 16) | u64::from(seq);
        self.rtp_rx.insert(
            ssrc,
            RtpStream {
                roc,
                s_l: seq,
                window: Window {
                    highest: index,
                    bits: 0,
                },
            },
        );
    }

    /// Sets the ROC the sender side starts `ssrc` with (default 0), for [`Self::encrypt_rtp`].
    pub fn set_tx_roc(&mut self, ssrc: u32, roc: u32) {
        self.rtp_tx.remove(ssrc);
        self.tx_roc_init.insert(ssrc, roc);
    }

    /// Authenticates and decrypts an SRTP packet IN PLACE. The tag is verified (trying the
    /// estimated ROC, then ROC+1 and ROC−1, or a small range for a first packet; the current key,
    /// then the candidate) before any state changes; on failure the buffer is left untouched.
    pub fn decrypt_rtp(&mut self, pkt: &mut [u8]) -> Result<DecryptedRtp> {
        let h = parse_rtp_header(pkt)?;
        let state = self.rtp_rx.get(h.ssrc).copied();
        let cands = match state {
            Some(s) => RocCandidates::new(estimate_roc(s.roc, s.s_l, h.seq), 3),
            None => RocCandidates::new(
                i64::from(self.config.initial_roc),
                self.config.first_packet_roc_tries,
            ),
        };
        let mut found: Option<(u32, RtpLayout, bool)> = None;
        let mut mki_known = false;
        let mut first_err = None;
        'sets: for (is_cand, set) in std::iter::once((false, &self.current))
            .chain(self.candidate.as_ref().map(|c| (true, c)))
        {
            let lay = match rtp_layout(set, pkt.len(), h.len) {
                Ok(l) => l,
                Err(e) => {
                    first_err.get_or_insert(e);
                    continue;
                }
            };
            let Some(keys) = set.select(pkt, lay.mki_at) else {
                continue;
            };
            mki_known = true;
            for roc in cands {
                if keys
                    .rtp
                    .open_rtp(pkt, h.len, lay.body_end, lay.tag_start, h.ssrc, h.seq, roc)
                {
                    found = Some((roc, lay, is_cand));
                    break 'sets;
                }
            }
        }
        let Some((roc, lay, rekeyed)) = found else {
            if let Some(e) = first_err.filter(|_| !mki_known) {
                return Err(e);
            }
            return Err(if mki_known {
                Error::AuthFailed {
                    ssrc: h.ssrc,
                    seq: h.seq,
                }
            } else {
                Error::UnknownMki { ssrc: h.ssrc }
            });
        };
        self.accept_rtp(pkt, &h, state, roc, &lay, rekeyed)
    }

    /// State changes and result of an authenticated (and decrypted) SRTP packet.
    fn accept_rtp(
        &mut self,
        pkt: &[u8],
        h: &RtpHeader,
        state: Option<RtpStream>,
        roc: u32,
        lay: &RtpLayout,
        rekeyed: bool,
    ) -> Result<DecryptedRtp> {
        let index = (u64::from(roc) << 16) | u64::from(h.seq);
        // Authenticated: now state may change.
        if rekeyed {
            if let Some(c) = self.candidate.take() {
                self.current = c;
            }
        }
        let duplicate = match state.map(|s| s.window.check(index)) {
            None | Some(Ok(false)) => false,
            Some(Ok(true)) => {
                if self.config.replay_protection {
                    return Err(Error::Replayed {
                        ssrc: h.ssrc,
                        index,
                    });
                }
                true
            }
            Some(Err(())) => {
                if self.config.replay_protection {
                    return Err(Error::TooOld {
                        ssrc: h.ssrc,
                        index,
                    });
                }
                false
            }
        };
        if state.is_none() {
            self.rtp_rx.insert(
                h.ssrc,
                RtpStream {
                    roc,
                    s_l: h.seq,
                    window: Window {
                        highest: index,
                        bits: 0,
                    },
                },
            );
        }
        let st = self.rtp_rx.get_mut_or_default(h.ssrc);
        if index >= st.window.highest {
            st.roc = roc;
            st.s_l = h.seq;
        }
        st.window.mark(index);
        let mut end = lay.enc_end;
        if h.padding && end > h.len {
            let pad = usize::from(pkt[end - 1]);
            if pad >= 1 && pad <= end - h.len {
                end -= pad;
            }
        }
        Ok(DecryptedRtp {
            payload_range: h.len..end,
            packet_len: lay.enc_end,
            ssrc: h.ssrc,
            seq: h.seq,
            timestamp: h.timestamp,
            payload_type: h.pt,
            marker: h.marker,
            roc,
            index,
            duplicate,
            rekeyed,
        })
    }

    /// The most likely ROC of an SRTP packet with header `h`, and the per-SSRC state it was
    /// estimated from.
    fn first_roc(&self, h: &RtpHeader) -> Option<(u32, Option<RtpStream>)> {
        let state = self.rtp_rx.get(h.ssrc).copied();
        let mut cands = match state {
            Some(s) => RocCandidates::new(estimate_roc(s.roc, s.s_l, h.seq), 3),
            None => RocCandidates::new(
                i64::from(self.config.initial_roc),
                self.config.first_packet_roc_tries,
            ),
        };
        Some((cands.next()?, state))
    }

    /// Decrypts two SRTP packets IN PLACE, with exactly the results and state changes of
    /// `[self.decrypt_rtp(a), self.decrypt_rtp(b)]` (in that order), but faster for AES-CM
    /// suites: both HMAC-SHA1 tags are computed together, which lets the CPU overlap the two
    /// SHA-1 chains (see BENCHMARKS.md). Use it when two packets of the same context (e.g. the
    /// same stream) are at hand. Anything unusual (a candidate key waiting, GCM, malformed
    /// packets, a tag failing with the most likely ROC) falls back to [`Self::decrypt_rtp`].
    pub fn decrypt_rtp_pair(&mut self, a: &mut [u8], b: &mut [u8]) -> [Result<DecryptedRtp>; 2] {
        match self.pair_fast(a, b) {
            Some(r) => r,
            None => [self.decrypt_rtp(a), self.decrypt_rtp(b)],
        }
    }

    /// The fast path of [`Self::decrypt_rtp_pair`]; None (nothing changed) when it does not
    /// apply.
    fn pair_fast(&mut self, a: &mut [u8], b: &mut [u8]) -> Option<[Result<DecryptedRtp>; 2]> {
        if self.candidate.is_some() || !matches!(self.current.keys[0].rtp, Transform::Cm { .. }) {
            return None;
        }
        let set = &self.current;
        let ha = parse_rtp_header(a).ok()?;
        let hb = parse_rtp_header(b).ok()?;
        let la = rtp_layout(set, a.len(), ha.len).ok()?;
        let lb = rtp_layout(set, b.len(), hb.len).ok()?;
        let ia = set.select_index(a, la.mki_at)?;
        let ib = set.select_index(b, lb.mki_at)?;
        let (ka, kb) = (&set.keys[ia], &set.keys[ib]);
        let (roc_a, state_a) = self.first_roc(&ha)?;
        // b's ROC is guessed from the state before a; re-checked after a is accepted.
        let (roc_b, _) = self.first_roc(&hb)?;
        let ok = Transform::verify_rtp_pair(
            [&ka.rtp, &kb.rtp],
            [a, b],
            [la.body_end, lb.body_end],
            [la.tag_start, lb.tag_start],
            [roc_a, roc_b],
        )?;
        let ra = if ok[0] {
            let index = (u64::from(roc_a) << 16) | u64::from(ha.seq);
            self.current.keys[ia]
                .rtp
                .decrypt_cm_payload(a, ha.len, la.body_end, ha.ssrc, index);
            self.accept_rtp(a, &ha, state_a, roc_a, &la, false)
        } else {
            self.decrypt_rtp(a)
        };
        let rb = match self.first_roc(&hb) {
            Some((roc, state_b)) if ok[1] && roc == roc_b => {
                let index = (u64::from(roc_b) << 16) | u64::from(hb.seq);
                self.current.keys[ib].rtp.decrypt_cm_payload(
                    b,
                    hb.len,
                    lb.body_end,
                    hb.ssrc,
                    index,
                );
                self.accept_rtp(b, &hb, state_b, roc_b, &lb, false)
            }
            _ => self.decrypt_rtp(b),
        };
        Some([ra, rb])
    }

    /// Authenticates and decrypts an SRTCP packet IN PLACE (current key, then candidate).
    pub fn decrypt_rtcp(&mut self, pkt: &mut [u8]) -> Result<DecryptedRtcp> {
        check_header(pkt, 8)?;
        let ssrc = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]);
        let mut result = None;
        let mut mki_known = false;
        let mut first_err = None;
        let mut last_index = 0;
        for (is_cand, set) in std::iter::once((false, &self.current))
            .chain(self.candidate.as_ref().map(|c| (true, c)))
        {
            let ml = set.mki_len();
            let tl = set.suite.rtcp_tag_len();
            let len = pkt.len();
            let min = 8 + 4 + ml + tl;
            if len < min {
                first_err.get_or_insert(Error::TooShort { len, min });
                continue;
            }
            // AES-CM: ... | E+index | MKI | tag ; GCM: ... | tag | E+index | MKI
            let (trailer, mki_at, tag_start) = if set.suite.is_aead() {
                (len - ml - 4, len - ml, len - ml - 4 - tl)
            } else {
                (len - ml - tl - 4, len - ml - tl, len - tl)
            };
            let Some(keys) = set.select(pkt, mki_at) else {
                continue;
            };
            mki_known = true;
            let ew = u32::from_be_bytes([
                pkt[trailer],
                pkt[trailer + 1],
                pkt[trailer + 2],
                pkt[trailer + 3],
            ]);
            last_index = ew & 0x7fff_ffff;
            if let Some(plen) = keys.rtcp.open_rtcp(pkt, trailer, tag_start, ssrc) {
                result = Some((plen, ew, is_cand));
                break;
            }
        }
        let Some((packet_len, ew, rekeyed)) = result else {
            if let Some(e) = first_err.filter(|_| !mki_known) {
                return Err(e);
            }
            return Err(if mki_known {
                Error::RtcpAuthFailed {
                    ssrc,
                    index: last_index,
                }
            } else {
                Error::UnknownMki { ssrc }
            });
        };
        if rekeyed {
            if let Some(c) = self.candidate.take() {
                self.current = c;
            }
        }
        let index = ew & 0x7fff_ffff;
        let w = self.rtcp_rx.get_mut_or_default(ssrc);
        let seen_before = w.highest != 0 || w.bits != 0;
        let duplicate = match w.check(u64::from(index)) {
            Ok(d) => d && seen_before,
            Err(()) => {
                if self.config.replay_protection {
                    return Err(Error::TooOld {
                        ssrc,
                        index: u64::from(index),
                    });
                }
                false
            }
        };
        if duplicate && self.config.replay_protection {
            return Err(Error::Replayed {
                ssrc,
                index: u64::from(index),
            });
        }
        w.mark(u64::from(index));
        Ok(DecryptedRtcp {
            packet_len,
            ssrc,
            index,
            encrypted: ew & 0x8000_0000 != 0,
            duplicate,
            rekeyed,
        })
    }

    /// Encrypts a plain RTP packet in place and appends MKI and tag (the `Vec` grows by the
    /// trailer; reserve it to avoid reallocation). The ROC is tracked per SSRC from
    /// [`Self::set_tx_roc`] (default 0) across sequence wraps. Returns the packet index used.
    pub fn encrypt_rtp(&mut self, pkt: &mut Vec<u8>) -> Result<u64> {
        let h = parse_rtp_header(pkt)?;
        let known = self.rtp_tx.get(h.ssrc).copied();
        let roc = match known {
            Some(s) => estimate_roc(s.roc, s.s_l, h.seq).clamp(0, i64::from(u32::MAX)) as u32,
            None => self.tx_roc_init.get(h.ssrc).copied().unwrap_or(0),
        };
        let index = (u64::from(roc) << 16) | u64::from(h.seq);
        let st = self.rtp_tx.get_mut_or_default(h.ssrc);
        if known.is_none() || index >= st.window.highest {
            st.roc = roc;
            st.s_l = h.seq;
            st.window.highest = index;
        }
        self.encrypt_rtp_with_roc(pkt, roc)?;
        Ok(index)
    }

    /// Encrypts a plain RTP packet in place with an explicit ROC (no state is kept).
    pub fn encrypt_rtp_with_roc(&self, pkt: &mut Vec<u8>, roc: u32) -> Result<()> {
        let h = parse_rtp_header(pkt)?;
        let keys = &self.current.keys[0];
        keys.rtp
            .seal_rtp(pkt, h.len, h.ssrc, h.seq, roc, keys.mki.as_ref());
        Ok(())
    }

    /// Encrypts a plain compound RTCP packet in place with the next SRTCP index of its SSRC
    /// (1, 2, … as libsrtp does) and appends `E|index`, MKI and tag. Returns the index used.
    pub fn encrypt_rtcp(&mut self, pkt: &mut Vec<u8>) -> Result<u32> {
        if pkt.len() < 8 {
            return Err(Error::TooShort {
                len: pkt.len(),
                min: 8,
            });
        }
        let ssrc = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]);
        let next = self.rtcp_tx.get(ssrc).copied().unwrap_or(0) + 1;
        if next > 0x7fff_ffff {
            return Err(Error::IndexExhausted(ssrc));
        }
        self.encrypt_rtcp_with_index(pkt, next)?;
        self.rtcp_tx.insert(ssrc, next);
        Ok(next)
    }

    /// Encrypts a plain compound RTCP packet in place with an explicit 31-bit SRTCP index.
    pub fn encrypt_rtcp_with_index(&self, pkt: &mut Vec<u8>, index: u32) -> Result<()> {
        check_header(pkt, 8)?;
        if index > 0x7fff_ffff {
            return Err(Error::IndexExhausted(u32::from_be_bytes([
                pkt[4], pkt[5], pkt[6], pkt[7],
            ])));
        }
        let ssrc = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]);
        let keys = &self.current.keys[0];
        keys.rtcp.seal_rtcp(pkt, ssrc, index, keys.mki.as_ref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_estimate_follows_rfc3711_appendix_a() {
        // Just before a wrap, a small seq belongs to the next ROC.
        assert_eq!(estimate_roc(3, 65500, 10), 4);
        // Just after a wrap, a large seq belongs to the previous ROC.
        assert_eq!(estimate_roc(4, 10, 65500), 3);
        assert_eq!(estimate_roc(4, 1000, 1001), 4);
        assert_eq!(estimate_roc(0, 10, 65500), -1);
    }

    #[test]
    fn roc_candidates_are_ordered_and_bounded() {
        let list = |c: i64, n: u32| RocCandidates::new(c, n).collect::<Vec<_>>();
        assert_eq!(list(5, 3), [5, 6, 4]);
        assert_eq!(list(0, 4), [0, 1, 2, 3]);
        assert_eq!(list(-1, 3), [0, 1, 2]);
        assert_eq!(list(100, 0), [100]);
        assert_eq!(list(100, 99).len(), 16);
        assert_eq!(list(-1, 16), (0..16).collect::<Vec<_>>());
        let top = i64::from(u32::MAX);
        assert_eq!(list(top + 1, 3), [u32::MAX, u32::MAX - 1, u32::MAX - 2]);
        assert_eq!(list(top, 3), [u32::MAX, u32::MAX - 1, u32::MAX - 2]);
    }

    #[test]
    fn window_flags_duplicates_and_old() {
        let mut w = Window::default();
        w.mark(10);
        assert_eq!(w.check(10), Ok(true));
        assert_eq!(w.check(9), Ok(false));
        w.mark(9);
        assert_eq!(w.check(9), Ok(true));
        w.mark(500);
        assert_eq!(w.check(10), Err(()));
        assert_eq!(w.check(499), Ok(false));
    }
}
