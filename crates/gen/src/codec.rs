//! Audio codecs of the generated streams and their 20 ms frame encoders.

use std::sync::Arc;

use audiopus::{coder::Encoder, Application, Channels, SampleRate};

use crate::rng::Rng;
use crate::signal::{source_sample, Direction, SIGNAL_PERIOD_SECS};

/// Packet duration of every generated stream, in milliseconds.
pub const PTIME_MS: u32 = 20;

/// The codec of a generated call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Codec {
    /// G.711 A-law, PT 8 (the default).
    Pcma,
    /// G.711 µ-law, PT 0.
    Pcmu,
    /// G.722 at 64 kbit/s, PT 9 (`G722/8000`: 16 kHz audio on an 8 kHz RTP clock).
    G722,
    /// Opus, dynamic PT [`OPUS_PT`], `opus/48000/2`, mono 20 ms frames.
    Opus,
    /// `x-msrta/16000`, PT 114, random payload: an undecodable (proprietary) codec.
    XMsrta,
}

/// The dynamic payload type used for Opus.
pub const OPUS_PT: u8 = 107;
/// The payload type of RFC 4733 telephone events.
pub const DTMF_PT: u8 = 101;

impl Codec {
    /// Parses `pcma`, `pcmu`, `g722`, `opus`, `x-msrta` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Codec> {
        match name.to_ascii_lowercase().as_str() {
            "pcma" => Some(Codec::Pcma),
            "pcmu" => Some(Codec::Pcmu),
            "g722" => Some(Codec::G722),
            "opus" => Some(Codec::Opus),
            "x-msrta" | "msrta" | "rtaudio" => Some(Codec::XMsrta),
            _ => None,
        }
    }

    /// RTP payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcma => 8,
            Codec::Pcmu => 0,
            Codec::G722 => 9,
            Codec::Opus => OPUS_PT,
            Codec::XMsrta => 114,
        }
    }

    /// Encoding name as in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcma => "PCMA",
            Codec::Pcmu => "PCMU",
            Codec::G722 => "G722",
            Codec::Opus => "opus",
            Codec::XMsrta => "x-msrta",
        }
    }

    /// RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Pcma | Codec::Pcmu | Codec::G722 => 8000,
            Codec::Opus => 48000,
            Codec::XMsrta => 16000,
        }
    }

    /// Channel count announced in `a=rtpmap` (Opus is always `/2`, the content is mono).
    pub fn channels(self) -> u16 {
        match self {
            Codec::Opus => 2,
            _ => 1,
        }
    }

    /// Sample rate of the encoded source signal (16 kHz for G.722, the clock rate otherwise).
    pub fn sample_rate(self) -> u32 {
        match self {
            Codec::G722 => 16000,
            _ => self.clock_rate(),
        }
    }

    /// RTP timestamp increment per 20 ms packet.
    pub fn ts_per_packet(self) -> u32 {
        self.clock_rate() / (1000 / PTIME_MS)
    }

    /// Source samples per 20 ms packet.
    pub fn samples_per_packet(self) -> usize {
        (self.sample_rate() / (1000 / PTIME_MS)) as usize
    }

    /// The `a=rtpmap` value (`8 PCMA/8000`, `107 opus/48000/2`).
    pub fn rtpmap(self) -> String {
        if self.channels() > 1 {
            format!(
                "{} {}/{}/{}",
                self.payload_type(),
                self.encoding_name(),
                self.clock_rate(),
                self.channels()
            )
        } else {
            format!(
                "{} {}/{}",
                self.payload_type(),
                self.encoding_name(),
                self.clock_rate()
            )
        }
    }
}

/// One period of the source signal of both directions, pre-encoded where the codec is stateless.
/// Shared by every call of a generator.
#[derive(Debug)]
pub(crate) struct SignalTables {
    /// Per direction: G.711 bytes (one period) for G.711, PCM for Opus, empty otherwise.
    g711: [Vec<u8>; 2],
    pcm: [Vec<i16>; 2],
}

impl SignalTables {
    pub(crate) fn new(codec: Codec) -> SignalTables {
        let rate = codec.sample_rate();
        let period = (rate * SIGNAL_PERIOD_SECS) as u64;
        let pcm =
            |d: Direction| -> Vec<i16> { (0..period).map(|i| source_sample(d, rate, i)).collect() };
        match codec {
            Codec::Pcma | Codec::Pcmu => {
                let enc = |d: Direction| -> Vec<u8> {
                    pcm(d)
                        .into_iter()
                        .map(|s| {
                            if codec == Codec::Pcma {
                                rec_audio::codec::g711::linear_to_alaw(s)
                            } else {
                                rec_audio::codec::g711::linear_to_ulaw(s)
                            }
                        })
                        .collect()
                };
                SignalTables {
                    g711: [
                        enc(Direction::CallerToCallee),
                        enc(Direction::CalleeToCaller),
                    ],
                    pcm: [Vec::new(), Vec::new()],
                }
            }
            Codec::Opus | Codec::G722 => SignalTables {
                g711: [Vec::new(), Vec::new()],
                pcm: [
                    pcm(Direction::CallerToCallee),
                    pcm(Direction::CalleeToCaller),
                ],
            },
            Codec::XMsrta => SignalTables {
                g711: [Vec::new(), Vec::new()],
                pcm: [Vec::new(), Vec::new()],
            },
        }
    }
}

/// Encodes the 20 ms slots of one direction's stream.
pub(crate) enum FrameEncoder {
    G711 {
        tables: Arc<SignalTables>,
        dir: usize,
        n: usize,
    },
    Opus {
        tables: Arc<SignalTables>,
        dir: usize,
        n: usize,
        enc: Box<Encoder>,
    },
    G722 {
        tables: Arc<SignalTables>,
        dir: usize,
        n: usize,
        enc: Box<ezk_g722::libg722::encoder::Encoder>,
    },
    Random(Rng),
}

impl std::fmt::Debug for FrameEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrameEncoder")
    }
}

impl FrameEncoder {
    pub(crate) fn new(
        codec: Codec,
        tables: Arc<SignalTables>,
        dir: Direction,
        rng: Rng,
    ) -> FrameEncoder {
        let n = codec.samples_per_packet();
        match codec {
            Codec::Pcma | Codec::Pcmu => FrameEncoder::G711 {
                tables,
                dir: dir.index(),
                n,
            },
            Codec::Opus => {
                let enc = Encoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)
                    .expect("libopus encoder for 48 kHz mono");
                FrameEncoder::Opus {
                    tables,
                    dir: dir.index(),
                    n,
                    enc: Box::new(enc),
                }
            }
            Codec::G722 => FrameEncoder::G722 {
                tables,
                dir: dir.index(),
                n,
                enc: Box::new(ezk_g722::libg722::encoder::Encoder::new(
                    ezk_g722::libg722::Bitrate::Mode1_64000,
                    false,
                    false,
                )),
            },
            Codec::XMsrta => FrameEncoder::Random(rng),
        }
    }

    /// Appends the payload of slot `k` to `out`.
    pub(crate) fn encode(&mut self, k: u64, out: &mut Vec<u8>) {
        match self {
            FrameEncoder::G711 { tables, dir, n } => {
                let t = &tables.g711[*dir];
                let start = (k as usize * *n) % t.len();
                out.extend_from_slice(&t[start..start + *n]);
            }
            FrameEncoder::Opus {
                tables,
                dir,
                n,
                enc,
            } => {
                let t = &tables.pcm[*dir];
                let start = (k as usize * *n) % t.len();
                let mut buf = [0u8; 1275];
                let len = enc.encode(&t[start..start + *n], &mut buf).unwrap_or(0);
                out.extend_from_slice(&buf[..len]);
            }
            FrameEncoder::G722 {
                tables,
                dir,
                n,
                enc,
            } => {
                let t = &tables.pcm[*dir];
                let start = (k as usize * *n) % t.len();
                out.extend_from_slice(&enc.encode(&t[start..start + *n]));
            }
            FrameEncoder::Random(rng) => {
                // RTAudio at ~29 kbit/s: about 72 bytes per 20 ms.
                let len = 60 + rng.below(24) as usize;
                let at = out.len();
                out.resize(at + len, 0);
                rng.fill(&mut out[at..]);
            }
        }
    }
}
