//! In-place SRTP / SRTCP for a passive call recorder (Lync / Skype for Business).
//!
//! * [`KeyParams::parse_sdes`] parses SDES (RFC 4568) key parameters: `inline:KEY||SALT` in base64
//!   (padded or not), optional lifetime (`2^31`) and MKI (`1:1` = value 1 in one byte), several
//!   keys separated by `;`.
//! * [`SrtpContext`] holds the session keys of ONE direction (RFC 3711 key derivation, KDR 0) and
//!   decrypts SRTP ([`SrtpContext::decrypt_rtp`]) and SRTCP ([`SrtpContext::decrypt_rtcp`]) in the
//!   caller's buffer without allocating, for AES_CM_128/256 with HMAC-SHA1-80/32 (RFC 3711, 6188)
//!   and AEAD_AES_128/256_GCM (RFC 7714), with or without MKI.
//! * [`SrtpContext::decrypt_rtp_pair`] decrypts two packets with exactly the effect of two
//!   `decrypt_rtp` calls, computing both HMAC-SHA1 tags together: one SHA-1 chain (SHA-NI) is
//!   latency-bound and the CPU overlaps two, so a packet costs ~20 % less (BENCHMARKS.md).
//! * HMAC-SHA1 runs on `sha1::compress` (SHA-NI when present) from pre-computed ipad/opad
//!   states; AES (AES-NI when present) uses pre-expanded keys.
//! * The rollover counter is estimated per SSRC (RFC 3711 §3.3.1); when the tag fails, ROC±1
//!   (or a small range for the first packet of an SSRC, for mid-call joins) are tried. The tag is
//!   always verified before any state changes, so a wrong key yields errors, never garbage.
//! * A re-key ([`SrtpContext::add_key`]) is adopted only when a packet authenticates with it.
//! * Duplicates are reported ([`DecryptedRtp::duplicate`]); replay rejection is optional.
//! * Key material is zeroized on drop where the crypto crates allow it and never shown in `Debug`
//!   output or errors.
//!
//! Packet layouts (as libsrtp): AES-CM SRTP `header | payload | MKI | tag`, SRTCP
//! `header | payload | E+index | MKI | tag`; GCM SRTP `header | payload | tag | MKI`, SRTCP
//! `header | payload | tag | E+index | MKI`. The MKI is never covered by the tag.
//!
//! Encryption ([`SrtpContext::encrypt_rtp`], [`SrtpContext::encrypt_rtcp`]) exists for the
//! test-call generator and round-trip tests.

mod context;
mod error;
mod hmac_sha1;
mod params;
mod session;

pub use context::{Config, DecryptedRtcp, DecryptedRtp, SrtpContext};
pub use error::{Error, Result};
pub use params::{KeyParams, MasterKey, Mki, Suite, MAX_MKI_LEN};
