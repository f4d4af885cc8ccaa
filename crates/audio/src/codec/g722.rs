//! G.722 sub-band ADPCM decoder (ITU-T G.722, 64/56/48 kbit/s), written from the recommendation's block
//! description: RTP `G722/8000` (RFC 3551 §4.5.2) carries 16 kHz audio on an 8 kHz RTP clock, one octet per
//! pair of 16 kHz samples.
//!
//! # Algorithm
//!
//! Each octet holds the higher sub-band code `IH` (2 most significant bits) and the lower sub-band code `IL`
//! (6 bits). In modes 2 (56 kbit/s) and 3 (48 kbit/s) the 1 or 2 least significant bits of `IL` carry auxiliary
//! data and are ignored. Per octet the decoder:
//!
//! 1. lower band: inverse-quantises `IL` with the 60/30/15-level table of the mode (INVQBL) and adds the band's
//!    prediction (RECONS, LIMIT) to get the 8 kHz lower sub-band sample; the 4-bit truncated code drives the
//!    adaptation (INVQAL, LOGSCL, SCALEL);
//! 2. higher band: the same with the 4-level quantiser (INVQAH, LOGSCH, SCALEH);
//! 3. each band's adaptive predictor (block 4 of the recommendation: two poles, six zeros, sign-sign
//!    adaptation with leakage and the stability limits of UPPOL1/UPPOL2) is updated with the quantised
//!    difference;
//! 4. the receive QMF (24 taps) turns the two 8 kHz sub-band samples into two 16 kHz output samples.
//!
//! Arithmetic follows the recommendation's integer blocks (arithmetic shifts, saturation to 16 bits) and its
//! reset state (DETL = 32, DETH = 8), with the output scaling of the common spandsp/libg722 lineage (QMF sum
//! shifted by 11, i.e. full-scale 16-bit PCM). `tests/codec_g722.rs` checks it bit-exact against libg722's
//! output in modes 1–3 and against `ezk-g722` (which starts from zero scale factors instead, so its first
//! ~250 ms differ slightly on a stream encoded from that state; bit-exact once both states are equalised).
//!
//! # Loss concealment
//!
//! G.722 has no built-in concealment (Appendix III/IV PLC are not implemented). [`Decoder::conceal`] fades the
//! last decoded sample linearly to zero over [`FADE_SAMPLES`] (2 ms) and then outputs silence; the ADPCM state
//! is kept (the next packet is decoded with it, as after a G.722 bit error: the backward adaptation
//! re-converges on its own, most of the mismatch gone within ~100 ms), and the first [`FADE_SAMPLES`] samples
//! decoded after a concealment are faded in linearly to hide the step between the silence and the signal.
//!
//! # Stereo (`G722/8000/2`, Lync payload type 117)
//!
//! RFC 3551 §4.1/§4.3 interleave the channels of sample-based codecs per sampling instant, and its Table 1
//! (§4.5) lists G722 as sample-based with 4 bits per (16 kHz) sample. The only stereo G.722 implementation
//! found, WebRTC (`modules/audio_coding/codecs/g722/audio_encoder_g722.cc`: "Each separate channel and the
//! interleaved stream encodes two samples per byte, most significant half first", and `audio_decoder_g722.cc`
//! `SplitStereoPacket`), applies exactly that: every payload octet holds one 4-bit half of the left channel's
//! codeword in its high nibble and the same half of the right channel's codeword in its low nibble, so the two
//! octets `2k, 2k+1` carry the left codeword `L = (b[2k] & 0xF0) | (b[2k+1] >> 4)` and the right codeword
//! `R = (b[2k] << 4) | (b[2k+1] & 0x0F)`. (Octet interleaving, `L R L R`, is *not* what RFC 3551 describes for
//! a 4-bit-per-sample codec, and no implementation doing it was found.) No Lync capture with PT 117 was
//! available to confirm this on the wire. Each channel keeps its own decoder state; the [`Decoder`] trait
//! outputs mono, so the channels are averaged.

use crate::codec::{DecodeError, Decoder};

/// Length in samples (16 kHz) of the fade-out after a loss and of the fade-in on resumption (2 ms).
pub const FADE_SAMPLES: usize = 32;

/// Operating mode of ITU-T G.722 (bits of the octet used for the lower sub-band).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Mode 1, 64 kbit/s: 6-bit lower-band code (what RTP `G722` carries).
    #[default]
    Mode1,
    /// Mode 2, 56 kbit/s of audio: 5-bit lower-band code, the last bit is auxiliary data.
    Mode2,
    /// Mode 3, 48 kbit/s of audio: 4-bit lower-band code, the last two bits are auxiliary data.
    Mode3,
}

// ---- Tables of the recommendation (G.722 §3 and §4) ----

/// Lower band, 6-bit inverse quantiser output levels (INVQBL, mode 1), indexed by `IL`.
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// Lower band, 5-bit inverse quantiser (mode 2), indexed by `IL >> 1`.
const QM5: [i32; 32] = [
    -280, -280, -23352, -17560, -14120, -11664, -9752, -8184, -6864, -5712, -4696, -3784, -2960,
    -2208, -1520, -880, 23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712, 4696, 3784, 2960, 2208,
    1520, 880, 280, -280,
];
/// Lower band, 4-bit inverse quantiser (mode 3 output and INVQAL of every mode), indexed by `IL >> 2`.
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
/// Higher band, 2-bit inverse quantiser (INVQAH), indexed by `IH`.
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
/// Lower band: 4-bit code → magnitude class for the log scale factor update (RIL in LOGSCL).
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/// Lower band log scale factor multipliers (WL).
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/// Higher band: 2-bit code → magnitude class (LOGSCH).
const RH2: [usize; 4] = [2, 1, 2, 1];
/// Higher band log scale factor multipliers (WH).
const WH: [i32; 3] = [0, -214, 798];
/// Inverse log table of SCALEL / SCALEH (ILB): 2^(i/32) scaled by 2048.
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// QMF coefficients h0..h11 (the 24-tap filter is symmetric: h(23-i) = h(i)).
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

/// Saturates to the 16-bit range, as the recommendation's limiters do.
#[inline]
fn sat16(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// State of one sub-band: log scale factor, quantiser scale and the adaptive pole-zero predictor.
#[derive(Debug, Clone, Copy, Default)]
struct Band {
    /// Log scale factor (NBL / NBH).
    nb: i32,
    /// Quantiser scale factor (DETL / DETH).
    det: i32,
    /// Signal estimate (SL / SH) = pole part + zero part.
    s: i32,
    /// Zero-section part of the estimate (SZL / SZH).
    sz: i32,
    /// Pole coefficients a1, a2.
    a: [i32; 2],
    /// Zero coefficients b1..b6.
    b: [i32; 6],
    /// Past quantised differences d(n-1)..d(n-6).
    d: [i32; 6],
    /// Past partially reconstructed signals p(n-1), p(n-2) (PARREC: zero part + difference).
    p: [i32; 2],
    /// Past reconstructed signals r(n-1), r(n-2) (RECONS: estimate + difference).
    r: [i32; 2],
}

impl Band {
    /// The initial state of the recommendation's reset: everything zero except the minimum scale factor.
    /// (DETL = 32 and DETH = 8 at reset equal SCALEL/SCALEH of NB = 0.)
    fn reset(high: bool) -> Self {
        Self {
            det: Self::scale(0, high),
            ..Self::default()
        }
    }

    /// SCALEL / SCALEH: the quantiser scale from the log scale factor.
    #[inline]
    fn scale(nb: i32, high: bool) -> i32 {
        let base = if high { 10 } else { 8 };
        let mantissa = ILB[((nb >> 6) & 31) as usize];
        let shift = base - (nb >> 11);
        let v = if shift >= 0 {
            mantissa >> shift
        } else {
            mantissa << -shift
        };
        v << 2
    }

    /// LOGSCL / LOGSCH (leaky log scale factor update) followed by SCALEL / SCALEH.
    #[inline]
    fn adapt_scale(&mut self, w: i32, high: bool) {
        let limit = if high { 22528 } else { 18432 };
        self.nb = (((self.nb * 127) >> 7) + w).clamp(0, limit);
        self.det = Self::scale(self.nb, high);
    }

    /// Block 4: updates the predictor with the quantised difference `d` and computes the next estimate.
    #[inline]
    fn predict(&mut self, d: i32) {
        // RECONS and PARREC
        let r0 = sat16(self.s + d);
        let p0 = sat16(self.sz + d);
        let (neg0, neg1, neg2) = (p0 < 0, self.p[0] < 0, self.p[1] < 0);
        let [a1, a2] = self.a;

        // UPPOL2: a2 += sign-sign term with the gradient term f(a1), leakage 1 - 2^-7, limit ±0.375 (12288).
        let f = sat16(a1 << 2);
        let f = if neg0 == neg1 { -f } else { f }.min(32767);
        let new_a2 = ((f >> 7) + if neg0 == neg2 { 128 } else { -128 } + ((a2 * 32512) >> 15))
            .clamp(-12288, 12288);

        // UPPOL1: a1 with leakage 1 - 2^-8, limited to ±(1 - 2^-4 - a2) for stability.
        let new_a1 = sat16(if neg0 == neg1 { 192 } else { -192 } + ((a1 * 32640) >> 15));
        let lim = sat16(15360 - new_a2);
        let new_a1 = new_a1.clamp(-lim, lim);

        // UPZERO: b_i += ±2^-7 by the sign agreement of d(n) and d(n-i) (no step when d(n) = 0), leakage 2^-8.
        let step = if d == 0 { 0 } else { 128 };
        let neg_d = d < 0;
        for (b, &dpast) in self.b.iter_mut().zip(&self.d) {
            let g = if (dpast < 0) == neg_d { step } else { -step };
            *b = sat16(g + ((*b * 32640) >> 15));
        }

        // DELAYA
        self.d.copy_within(0..5, 1);
        self.d[0] = d;
        self.r = [r0, self.r[0]];
        self.p = [p0, self.p[0]];
        self.a = [new_a1, new_a2];

        // FILTEP: pole section on the reconstructed signal.
        let sp = sat16(
            ((self.a[0] * sat16(self.r[0] * 2)) >> 15) + ((self.a[1] * sat16(self.r[1] * 2)) >> 15),
        );
        // FILTEZ: zero section on the quantised differences.
        let sz: i32 = self
            .b
            .iter()
            .zip(&self.d)
            .map(|(&b, &d)| (b * sat16(d * 2)) >> 15)
            .sum();
        self.sz = sat16(sz);
        // PREDIC
        self.s = sat16(sp + self.sz);
    }
}

/// State of one G.722 channel: the two sub-band ADPCM decoders and the receive QMF history.
#[derive(Debug, Clone)]
pub struct G722Channel {
    mode: Mode,
    low: Band,
    high: Band,
    /// QMF history: (rl + rh, rl - rh) pairs, oldest first.
    qmf: [i32; 24],
}

impl G722Channel {
    /// A channel decoder in its reset state.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            low: Band::reset(false),
            high: Band::reset(true),
            qmf: [0; 24],
        }
    }

    /// Decodes one octet into two 16 kHz samples (the earlier one first).
    #[inline]
    pub fn decode_octet(&mut self, code: u8) -> [i16; 2] {
        let il = usize::from(code & 0x3F);
        let ih = usize::from(code >> 6);
        let il4 = il >> 2;

        // Lower band: INVQBL + RECONS + LIMIT for the output, INVQAL for the adaptation.
        let q = match self.mode {
            Mode::Mode1 => QM6[il],
            Mode::Mode2 => QM5[il >> 1],
            Mode::Mode3 => QM4[il4],
        };
        let low = &mut self.low;
        let rl = (low.s + ((low.det * q) >> 15)).clamp(-16384, 16383);
        let dlt = (low.det * QM4[il4]) >> 15;
        low.adapt_scale(WL[RL42[il4]], false);
        low.predict(dlt);

        // Higher band: INVQAH + RECONS + LIMIT, LOGSCH / SCALEH.
        let high = &mut self.high;
        let dh = (high.det * QM2[ih]) >> 15;
        let rh = (high.s + dh).clamp(-16384, 16383);
        high.adapt_scale(WH[RH2[ih]], true);
        high.predict(dh);

        // Receive QMF: push (rl + rh, rl - rh) and run the two polyphase branches.
        self.qmf.copy_within(2.., 0);
        self.qmf[22] = rl + rh;
        self.qmf[23] = rl - rh;
        let (mut odd, mut even) = (0i32, 0i32);
        for i in 0..12 {
            even += self.qmf[2 * i] * QMF[i];
            odd += self.qmf[2 * i + 1] * QMF[11 - i];
        }
        [sat16(odd >> 11) as i16, sat16(even >> 11) as i16]
    }
}

/// Decoder of G.722 payloads (mono, or nibble-interleaved stereo averaged to mono) producing 16 kHz PCM.
///
/// No allocation after construction; one instance per stream.
#[derive(Debug, Clone)]
pub struct G722Decoder {
    ch: [G722Channel; 2],
    stereo: bool,
    /// Last sample written (start of the fade-out on loss).
    last: i16,
    /// Samples of fade-in still to apply after a concealment (0 = none).
    fade_in: usize,
}

impl G722Decoder {
    /// A 64 kbit/s (mode 1) decoder for `channels` (2 = stereo downmixed to mono, anything else = mono).
    pub fn new(channels: u16) -> Self {
        Self::with_mode(channels, Mode::Mode1)
    }

    /// A decoder for `channels` in the given G.722 `mode`.
    pub fn with_mode(channels: u16, mode: Mode) -> Self {
        Self {
            ch: [G722Channel::new(mode), G722Channel::new(mode)],
            stereo: channels == 2,
            last: 0,
            fade_in: 0,
        }
    }

    /// Applies the pending fade-in to `out` (freshly decoded samples).
    fn apply_fade_in(&mut self, out: &mut [i16]) {
        for s in out.iter_mut() {
            if self.fade_in == 0 {
                break;
            }
            let gain = (FADE_SAMPLES - self.fade_in) as i32;
            *s = ((i32::from(*s) * gain) / FADE_SAMPLES as i32) as i16;
            self.fade_in -= 1;
        }
    }
}

impl Decoder for G722Decoder {
    fn name(&self) -> &'static str {
        "G722"
    }
    fn sample_rate(&self) -> u32 {
        16000
    }
    fn rtp_clock_rate(&self) -> u32 {
        8000
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, DecodeError> {
        if self.stereo && !payload.len().is_multiple_of(2) {
            return Err(DecodeError::Malformed {
                codec: "G722",
                len: payload.len(),
            });
        }
        // mono: 2 samples per octet; stereo: 2 octets per 2 (mono-mixed) samples
        let needed = if self.stereo {
            payload.len()
        } else {
            payload.len() * 2
        };
        if out.len() < needed {
            return Err(DecodeError::BufferTooSmall {
                codec: "G722",
                needed,
                capacity: out.len(),
            });
        }
        let out = &mut out[..needed];
        if self.stereo {
            let [left, right] = &mut self.ch;
            for (pair, o) in payload.chunks_exact(2).zip(out.chunks_exact_mut(2)) {
                let (b0, b1) = (pair[0], pair[1]);
                let l = left.decode_octet((b0 & 0xF0) | (b1 >> 4));
                let r = right.decode_octet((b0 << 4) | (b1 & 0x0F));
                o[0] = ((i32::from(l[0]) + i32::from(r[0])) >> 1) as i16;
                o[1] = ((i32::from(l[1]) + i32::from(r[1])) >> 1) as i16;
            }
        } else {
            let ch = &mut self.ch[0];
            for (&b, o) in payload.iter().zip(out.chunks_exact_mut(2)) {
                o.copy_from_slice(&ch.decode_octet(b));
            }
        }
        self.apply_fade_in(out);
        if let Some(&s) = out.last() {
            self.last = s;
        }
        Ok(needed)
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let n = samples.min(out.len());
        let start = i32::from(self.last);
        for (i, o) in out[..n].iter_mut().enumerate() {
            *o = if i < FADE_SAMPLES {
                (start * (FADE_SAMPLES - 1 - i) as i32 / FADE_SAMPLES as i32) as i16
            } else {
                0
            };
        }
        if n > 0 {
            self.last = if n >= FADE_SAMPLES { 0 } else { out[n - 1] };
            self.fade_in = FADE_SAMPLES;
        }
        n
    }
}
