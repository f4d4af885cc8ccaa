//! Sending to HOMER (`[homer]` of recorder.toml): every SIP message the recorder receives, and a quality report
//! per call at its end, as HEPv3 over UDP to a collector (heplify-server, HOMER, or any HEP capture server).
//!
//! - SIP: protocol type 1 with the message's original addresses, transport and time (the agent's HEP
//!   timestamp when it sent one, else the recorder's receive time), so HOMER shows the call as it happened.
//! - Call report: protocol type [`PROTO_REPORT`] (0x22, HOMER's "full report JSON", as RTP agents send),
//!   correlation id (chunk 0x11) = the Call-ID so HOMER attaches it to the call, payload a JSON object (see
//!   docs/mirror-protocol.md, "Sending to HOMER").
//!
//! Sending never blocks nor fails the caller: the socket is non-blocking; errors are counted and logged with a
//! rate limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rec_packet::hep::{self, Chunk, HepFields, PROTO_SIP};
use serde::Deserialize;

/// HEP protocol type of the per-call report (HOMER: 0x22, JSON quality report).
pub const PROTO_REPORT: u8 = 0x22;

/// `[homer]` of recorder.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HomerConfig {
    /// `host:port` of the HEP collector (UDP); empty: nothing is sent.
    pub collector: String,
    /// Capture agent id written into every packet (chunk 0x0c).
    pub capture_id: u32,
    /// Authentication key of the collector (chunk 0x0e); empty: none sent.
    pub password: String,
}

impl Default for HomerConfig {
    fn default() -> Self {
        HomerConfig {
            collector: String::new(),
            capture_id: 2001,
            password: String::new(),
        }
    }
}

/// One SIP message to send.
#[derive(Debug, Clone, Copy)]
pub struct SipToSend<'a> {
    /// Time of the message (agent timestamp, else receive time), unix µs.
    pub at_us: i64,
    /// Source address and port.
    pub src: Option<SocketAddr>,
    /// Destination address and port.
    pub dst: Option<SocketAddr>,
    /// IP protocol of the transport (17 UDP when unknown).
    pub ip_proto: Option<u8>,
    /// The message.
    pub bytes: &'a [u8],
}

/// Encodes a HEPv3 packet of protocol type `proto_type` into `out` (cleared first).
fn encode(
    cfg: &HomerConfig,
    proto_type: u8,
    m: &SipToSend<'_>,
    correlation_id: Option<&[u8]>,
    out: &mut Vec<u8>,
) -> Result<(), hep::HepError> {
    let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let (mut src, mut dst) = (m.src.unwrap_or(any), m.dst.unwrap_or(any));
    if src.is_ipv4() != dst.is_ipv4() {
        // HEP addresses share one family: keep the ports
        src = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), src.port());
        dst = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), dst.port());
    }
    let at = u64::try_from(m.at_us).unwrap_or(0);
    let fields = HepFields {
        ip_proto: Some(m.ip_proto.unwrap_or(17)),
        src_ip: Some(src.ip()),
        dst_ip: Some(dst.ip()),
        src_port: Some(src.port()),
        dst_port: Some(dst.port()),
        ts_sec: Some(u32::try_from(at / 1_000_000).unwrap_or(u32::MAX)),
        ts_usec: Some((at % 1_000_000) as u32),
        proto_type: Some(proto_type),
        capture_id: Some(cfg.capture_id),
        auth_key: (!cfg.password.is_empty()).then_some(cfg.password.as_bytes()),
        correlation_id,
        payload: Some(m.bytes),
        ..HepFields::default()
    };
    out.clear();
    hep::encode(&fields, &[] as &[Chunk<'_>], out)
}

/// The HEPv3 packet of one SIP message (pure; what [`HomerSender::send_sip`] sends).
pub fn encode_sip(
    cfg: &HomerConfig,
    m: &SipToSend<'_>,
    out: &mut Vec<u8>,
) -> Result<(), hep::HepError> {
    encode(cfg, PROTO_SIP, m, None, out)
}

/// The HEPv3 packet of one call report (pure; what [`HomerSender::send_report`] sends).
pub fn encode_report(
    cfg: &HomerConfig,
    at_us: i64,
    call_id: &str,
    json: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), hep::HepError> {
    let m = SipToSend {
        at_us,
        src: None,
        dst: None,
        ip_proto: Some(17),
        bytes: json,
    };
    encode(cfg, PROTO_REPORT, &m, Some(call_id.as_bytes()), out)
}

/// Counters of the HOMER output.
#[derive(Debug, Default)]
pub struct HomerStats {
    /// Packets sent.
    pub sent: AtomicU64,
    /// Packets that could not be encoded or sent.
    pub errors: AtomicU64,
}

/// The HOMER output: a non-blocking UDP socket "connected" to the collector.
#[derive(Debug)]
pub struct HomerSender {
    cfg: HomerConfig,
    socket: UdpSocket,
    collector: SocketAddr,
    /// What was sent and what failed.
    pub stats: HomerStats,
    last_error_log: Mutex<Option<Instant>>,
}

impl HomerSender {
    /// Resolves the collector and opens the socket; `Ok(None)` when `collector` is empty.
    pub fn open(cfg: &HomerConfig) -> Result<Option<HomerSender>, String> {
        let target = cfg.collector.trim();
        if target.is_empty() {
            return Ok(None);
        }
        let collector = target
            .to_socket_addrs()
            .map_err(|e| format!("[homer] collector {target:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("[homer] collector {target:?}: no address"))?;
        let bind = if collector.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let socket = UdpSocket::bind(bind)
            .and_then(|s| s.set_nonblocking(true).map(|_| s))
            .map_err(|e| format!("[homer] socket for {collector}: {e}"))?;
        Ok(Some(HomerSender {
            cfg: cfg.clone(),
            socket,
            collector,
            stats: HomerStats::default(),
            last_error_log: Mutex::new(None),
        }))
    }

    /// The collector's address.
    pub fn collector(&self) -> SocketAddr {
        self.collector
    }

    fn send(&self, what: &str, r: Result<(), hep::HepError>, buf: &[u8]) {
        let r = r.map_err(|e| e.to_string()).and_then(|_| {
            self.socket
                .send_to(buf, self.collector)
                .map_err(|e| e.to_string())
        });
        match r {
            Ok(_) => {
                self.stats.sent.fetch_add(1, Relaxed);
            }
            Err(e) => {
                self.stats.errors.fetch_add(1, Relaxed);
                let mut last = self
                    .last_error_log
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    *last = Some(Instant::now());
                    tracing::warn!(collector = %self.collector, "HOMER: {what} not sent: {e} (further errors for 10 s only counted)");
                }
            }
        }
    }

    /// Sends one SIP message.
    pub fn send_sip(&self, m: &SipToSend<'_>) {
        let mut buf = Vec::with_capacity(m.bytes.len() + 128);
        let r = encode_sip(&self.cfg, m, &mut buf);
        self.send("SIP message", r, &buf);
    }

    /// Sends one call report (`json`, correlated by `call_id`).
    pub fn send_report(&self, at_us: i64, call_id: &str, json: &[u8]) {
        let mut buf = Vec::with_capacity(json.len() + 128 + call_id.len());
        let r = encode_report(&self.cfg, at_us, call_id, json, &mut buf);
        self.send("call report", r, &buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rec_packet::hep::HepPacket;

    #[test]
    fn sip_and_reports_decode_back_with_their_fields() {
        let cfg = HomerConfig {
            collector: "127.0.0.1:9".into(),
            capture_id: 77,
            password: "s3cret".into(),
        };
        let mut out = Vec::new();
        let m = SipToSend {
            at_us: 1_764_000_000_250_000,
            src: Some("192.0.2.1:5061".parse().unwrap()),
            dst: Some("192.0.2.2:5061".parse().unwrap()),
            ip_proto: Some(6),
            bytes: b"BYE sip:a@b SIP/2.0\r\n\r\n",
        };
        encode_sip(&cfg, &m, &mut out).unwrap();
        let (p, used) = HepPacket::decode(&out).unwrap();
        assert_eq!(used, out.len());
        let f = p.fields;
        assert_eq!(f.proto_type, Some(PROTO_SIP));
        assert_eq!(f.ip_proto, Some(6));
        assert_eq!(f.src(), m.src);
        assert_eq!(f.dst(), m.dst);
        assert_eq!(f.timestamp_micros(), Some(1_764_000_000_250_000));
        assert_eq!(f.capture_id, Some(77));
        assert_eq!(f.auth_key, Some(&b"s3cret"[..]));
        assert_eq!(f.payload, Some(m.bytes));

        encode_report(&cfg, 5_000_000, "call-1@x", br#"{"a":1}"#, &mut out).unwrap();
        let (p, _) = HepPacket::decode(&out).unwrap();
        assert_eq!(p.fields.proto_type, Some(PROTO_REPORT));
        assert_eq!(p.fields.correlation_id, Some(&b"call-1@x"[..]));
        assert_eq!(p.fields.payload, Some(&br#"{"a":1}"#[..]));
        assert_eq!(p.fields.ts_sec, Some(5));
    }
}
