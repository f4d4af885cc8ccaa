//! What the engine tells about a call: metadata from signaling, per-stream counters and the final status.

use serde::Serialize;

/// Which side of the call sent a stream. The caller is the party that sent the initial INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The party that sent the initial INVITE (channel 0).
    Caller,
    /// The party the INVITE went to (channel 1).
    Callee,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        }
    }

    /// Index 0 (caller) or 1 (callee): the stereo channel of this side's audio.
    pub fn index(self) -> usize {
        match self {
            Side::Caller => 0,
            Side::Callee => 1,
        }
    }

    /// `caller` or `callee`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Caller => "caller",
            Side::Callee => "callee",
        }
    }
}

/// A party of the call as named by From/To.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Display name, unquoted.
    pub display: Option<String>,
    /// URI (`sip:`, `sips:`, `tel:`).
    pub uri: String,
    /// E.164 number (`+...`) when the URI holds a phone number.
    pub number: Option<String>,
}

/// How a call ended up, for the catalog and the replay report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Still running.
    Recording,
    /// Ended normally with audio from every expected direction.
    Complete,
    /// Audio was recorded but something is missing (see the notes): a direction, an end, decryption of some packets.
    Partial,
    /// No media packet of the call was seen.
    NoMedia,
    /// Media was seen, but no stream had a codec the recorder can decode (decrypted RTP is kept).
    Undecodable,
    /// Media was seen but none of it could be decrypted (wrong or missing key).
    DecryptFailure,
    /// The call failed in signaling (4xx–6xx, CANCEL) and carried no media.
    Failed,
}

impl CallStatus {
    /// snake_case name as stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Recording => "recording",
            CallStatus::Complete => "complete",
            CallStatus::Partial => "partial",
            CallStatus::NoMedia => "no_media",
            CallStatus::Undecodable => "undecodable",
            CallStatus::DecryptFailure => "decrypt_failure",
            CallStatus::Failed => "failed",
        }
    }
}

/// A DTMF digit (RFC 4733 telephone-event) with its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DtmfRecord {
    /// Capture time of the event start (unix µs).
    pub at_us: i64,
    /// The key (`0`–`9`, `*`, `#`, `A`–`D`, or `?` for other events).
    pub digit: char,
    /// Duration in milliseconds.
    pub duration_ms: u32,
    /// Side that sent it.
    pub side: Side,
}

/// Everything signaling said about a call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallMeta {
    /// SIP Call-ID (attacker-controlled text: sanitise before using it in paths).
    pub call_id: String,
    /// `Ms-Conversation-ID`, linking the calls of one conversation.
    pub conversation_id: Option<String>,
    /// Caller (From of the initial INVITE; updated by transfers).
    pub from: Party,
    /// Callee (To of the initial INVITE; updated by transfers).
    pub to: Party,
    /// P-Asserted-Identity URIs (SIP and tel).
    pub asserted_identity: Vec<String>,
    /// `Privacy: id` (or header) was present: the asserted identity is private.
    pub privacy: bool,
    /// User-Agent / Server values seen, caller's first.
    pub user_agents: Vec<String>,
    /// Capture time of the initial INVITE (unix µs).
    pub started_at_us: i64,
    /// Capture time of the first 2xx to the INVITE.
    pub answered_at_us: Option<i64>,
    /// Capture time of the end (BYE, CANCEL, final failure, timeout, end of input).
    pub ended_at_us: Option<i64>,
    /// Why the call ended, in words (`BYE from caller`, `486 Busy Here`, `media timeout`, ...).
    pub end_reason: Option<String>,
    /// Last `ms-diagnostics` / `ms-diagnostics-public` value.
    pub diagnostics: Option<String>,
    /// `Priority: emergency` or a PIDF-LO body.
    pub emergency: bool,
    /// PIDF-LO location document of an emergency call.
    pub location: Option<String>,
    /// `Ms-Sensitivity`.
    pub sensitivity: Option<String>,
    /// `Ms-Target-Class`.
    pub target_class: Option<String>,
    /// Transfer history: `Referred-By` / `Refer-To` values and re-INVITE party changes, in order.
    pub transfers: Vec<String>,
    /// The policy's reason for recording.
    pub policy_reason: String,
}

/// Counters of one stream (one SSRC of one side).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StreamReport {
    /// Side that sent it.
    pub direction: Option<Side>,
    /// RTP SSRC.
    pub ssrc: u32,
    /// Codec name as negotiated (`PCMA`, `G722`, `opus`, `x-msrta`, `?` before the first packet decoded).
    pub codec: String,
    /// Whether the codec is decoded into the recording (false: kept as decrypted RTP only).
    pub decodable: bool,
    /// Distinct RTP packets received.
    pub packets: u64,
    /// Packets never received (sequence gaps).
    pub lost: u64,
    /// Copies of packets already received (e.g. both sides of a relay seen on the SPAN port).
    pub duplicates: u64,
    /// Packets that did not authenticate with any key of the side.
    pub decrypt_failures: u64,
    /// Capture time of the first packet (unix µs).
    pub first_at_us: i64,
    /// Capture time of the last packet (unix µs).
    pub last_at_us: i64,
    /// How packets reached the capture (`raw`, `ms-turn`, `channeldata`, `turn-indication`), comma-separated.
    pub transport: String,
}

/// The final account of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallReport {
    /// Signaling metadata.
    pub meta: CallMeta,
    /// Final status.
    pub status: CallStatus,
    /// Human-readable reasons behind the status (what is missing and why).
    pub notes: Vec<String>,
    /// Streams in order of their first packet.
    pub streams: Vec<StreamReport>,
    /// Telephone events.
    pub dtmf: Vec<DtmfRecord>,
    /// Audio length written, in milliseconds.
    pub audio_ms: u64,
    /// Output sample rate (0 when no audio was written).
    pub sample_rate: u32,
    /// Output channels.
    pub channels: u16,
}
