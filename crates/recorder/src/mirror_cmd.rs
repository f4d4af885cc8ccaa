//! `recorder mirror`: the reference Front End filter client.
//!
//! Reads SIP messages from captures (pcap/pcapng, SIP over UDP or TCP, or HEPv3 over UDP; daemon journals are
//! such captures) or Front End trace logs, sends them to a recorder over the mirror protocol
//! (`docs/mirror-protocol.md`), asking for a reply for every message with SDP, prints each reply (what the
//! rewrite changed) with its round-trip time, reconnects and resends what was not acknowledged when the
//! connection drops, sends again (after [`RESEND_PAUSE`]) what the recorder refused because it was full, and ends
//! with a summary.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rec_mirror::protocol::UnchangedReason;
use rec_mirror::{ClientEvent, ClientOptions, MirrorClient, OutMessage};
use rec_packet::capture::OfflineCapture;
use rec_packet::defrag::{DefragConfig, Defragmenter};
use rec_packet::tcp::{StreamKey, TcpConfig, TcpEvent, TcpReassembler};
use rec_packet::{decode_frame, decode_transport, Transport};
use rec_sip::StreamFramer;

/// How long refused messages (NACK: the recorder's queue was full) wait before they are sent again.
const RESEND_PAUSE: Duration = Duration::from_millis(50);

/// How long the client keeps sending while the recorder acknowledges nothing (it refuses everything or is
/// silent) before it gives up, reports what was not acknowledged and exits with status 1.
const STALL_LIMIT: Duration = Duration::from_secs(30);

/// Arguments of `recorder mirror`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recorder's mirror server.
    #[arg(long, value_name = "HOST:PORT")]
    to: String,
    /// Client (filter) certificate chain, PEM.
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// Client private key, PEM.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// CA certificate(s) the recorder's certificate must chain to, PEM.
    #[arg(long, value_name = "FILE")]
    ca: PathBuf,
    /// Name to check in the recorder's certificate (default: the host of --to).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// "Reply wanted within" deadline sent with every message carrying SDP, milliseconds.
    #[arg(long, value_name = "N", default_value_t = 100)]
    deadline_ms: u32,
    /// Messages per second (default: one after the other, each waiting for its reply).
    #[arg(long, value_name = "MSGS_PER_S")]
    rate: Option<f64>,
    /// Print only the summary, not every reply.
    #[arg(long)]
    quiet: bool,
    /// Captures (pcap/pcapng, daemon journals) or Front End trace logs.
    #[arg(value_name = "CAPTURE|JOURNAL|TRACE-LOG", required = true)]
    inputs: Vec<PathBuf>,
}

/// One SIP message read from the inputs.
struct Sip {
    at_us: u64,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    ip_proto: Option<u8>,
    bytes: Vec<u8>,
}

fn looks_like_sip(b: &[u8]) -> bool {
    rec_sip::Message::parse_first(b).is_ok()
}

fn has_sdp(b: &[u8]) -> bool {
    rec_sip::Message::parse(b).is_ok_and(|m| {
        m.bodies().iter().any(|p| {
            p.content_type.as_ref().is_some_and(|t| {
                t.type_.eq_ignore_ascii_case("application") && t.subtype.eq_ignore_ascii_case("sdp")
            })
        })
    })
}

/// The capture reader's state: TCP reassembly, SIP framing per TCP stream, IP defragmentation.
struct CaptureState {
    tcp: TcpReassembler,
    framers: HashMap<StreamKey, StreamFramer>,
}

impl CaptureState {
    /// Takes the SIP out of one UDP datagram or TCP segment.
    fn transport(&mut self, at_us: u64, t: Transport<'_>, out: &mut Vec<Sip>) {
        match t {
            Transport::Udp(u) if u.payload.starts_with(b"HEP3") => {
                // HEP from a capture agent in the capture: the SIP it carries, with its original addresses
                if let Ok((p, _)) = rec_packet::hep::HepPacket::decode(u.payload) {
                    if let (Some(rec_packet::hep::PROTO_SIP), Some(bytes)) =
                        (p.fields.proto_type, p.fields.payload)
                    {
                        out.push(Sip {
                            at_us: p.fields.timestamp_micros().unwrap_or(at_us),
                            src: p.fields.src(),
                            dst: p.fields.dst(),
                            ip_proto: p.fields.ip_proto,
                            bytes: bytes.to_vec(),
                        });
                    }
                }
            }
            Transport::Udp(u) if looks_like_sip(u.payload) => out.push(Sip {
                at_us,
                src: Some(u.src),
                dst: Some(u.dst),
                ip_proto: Some(17),
                bytes: u.payload.to_vec(),
            }),
            Transport::Tcp(seg) => {
                let framers = &mut self.framers;
                self.tcp.push(at_us, &seg, |ev| match ev {
                    TcpEvent::Data { stream, bytes } => {
                        let framer = framers
                            .entry(stream)
                            .or_insert_with(|| StreamFramer::new(256 << 10));
                        framer.push(bytes);
                        while let Some(r) = framer.next_frame() {
                            if let Ok(msg) = r {
                                out.push(Sip {
                                    at_us,
                                    src: Some(stream.src),
                                    dst: Some(stream.dst),
                                    ip_proto: Some(6),
                                    bytes: msg.to_vec(),
                                });
                            }
                        }
                    }
                    TcpEvent::Gap { stream, .. } | TcpEvent::Closed { stream, .. } => {
                        framers.remove(&stream);
                    }
                })
            }
            _ => {}
        }
    }
}

fn read_capture(path: &Path, out: &mut Vec<Sip>) -> Result<(), String> {
    let mut cap = OfflineCapture::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut state = CaptureState {
        tcp: TcpReassembler::new(TcpConfig::default()),
        framers: HashMap::new(),
    };
    let mut defrag = Defragmenter::new(DefragConfig::default());
    loop {
        let frame = match cap.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                eprintln!(
                    "warning: {}: {e}; the rest of the file is skipped",
                    path.display()
                );
                break;
            }
        };
        let at_us = frame.at_micros;
        let Ok(decoded) = decode_frame(frame.link, frame.data) else {
            continue;
        };
        match decoded.transport {
            Transport::Fragment(frag) => {
                if let Some(whole) = defrag.push(at_us, &frag) {
                    let k = whole.key;
                    if let Ok(t) = decode_transport(k.src, k.dst, k.protocol, whole.payload) {
                        state.transport(at_us, t, out);
                    }
                }
            }
            t => state.transport(at_us, t, out),
        }
    }
    Ok(())
}

fn read_input(path: &Path, out: &mut Vec<Sip>) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if crate::replay::is_capture(&bytes) {
        return read_capture(path, out);
    }
    let before = out.len();
    for r in rec_sip::trace_log::Reader::new(&bytes).flatten() {
        out.push(Sip {
            at_us: u64::try_from(r.time.unix_micros()).unwrap_or(0),
            src: None,
            dst: None,
            ip_proto: None,
            bytes: r.message,
        });
    }
    if out.len() == before {
        return Err(format!(
            "{}: neither a pcap/pcapng capture nor a Front End trace log with readable records",
            path.display()
        ));
    }
    Ok(())
}

fn describe(b: &[u8]) -> String {
    match rec_sip::Message::parse_first(b) {
        Ok((m, _)) => {
            let what = match (m.method(), m.status_code(), m.cseq()) {
                (Some(method), _, _) => method.to_owned(),
                (None, Some(code), Some((_, method))) => format!("{code} ({method})"),
                (None, Some(code), None) => code.to_string(),
                _ => "?".to_owned(),
            };
            format!("{what} Call-ID {}", m.call_id().unwrap_or("-"))
        }
        Err(_) => "not SIP".to_owned(),
    }
}

/// The lines that differ between the original and the rewritten message.
fn changed_lines(original: &[u8], rewritten: &[u8]) -> Vec<String> {
    let a: Vec<&[u8]> = original.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = rewritten.split(|&b| b == b'\n').collect();
    if a.len() != b.len() {
        return vec![format!("({} lines became {} lines)", a.len(), b.len())];
    }
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| {
            format!(
                "- {}\n      + {}",
                String::from_utf8_lossy(x).trim_end(),
                String::from_utf8_lossy(y).trim_end()
            )
        })
        .collect()
}

#[derive(Default)]
struct Summary {
    sent: u64,
    wanted: u64,
    rewritten: u64,
    unchanged: BTreeMap<String, u64>,
    no_reply: u64,
    reconnects: u64,
    resent: u64,
    refused: u64,
    rtts: Vec<Duration>,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// Runs `recorder mirror`.
pub fn run(args: Args) -> ExitCode {
    let mut messages = Vec::new();
    for path in &args.inputs {
        if let Err(e) = read_input(path, &mut messages) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    messages.sort_by_key(|m| m.at_us);
    if messages.is_empty() {
        eprintln!("error: no SIP message found in the inputs");
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(mirror(args, messages))
}

async fn reconnect(client: &mut MirrorClient, summary: &mut Summary) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..10u32 {
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt.min(5)))).await;
        match client.reconnect().await {
            Ok(n) => {
                summary.reconnects += 1;
                summary.resent += n as u64;
                eprintln!("reconnected; {n} unacknowledged message(s) sent again");
                return Ok(());
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("cannot reconnect: {last}"))
}

async fn mirror(args: Args, messages: Vec<Sip>) -> ExitCode {
    let options = ClientOptions {
        to: args.to.clone(),
        cert: args.cert.clone(),
        key: args.key.clone(),
        ca: args.ca.clone(),
        server_name: args.server_name.clone(),
        first_id: None,
    };
    let (mut client, mut events) = match MirrorClient::connect(options).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut interval = args.rate.filter(|r| *r > 0.0).map(|r| {
        let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        i
    });
    let reply_timeout = Duration::from_millis(u64::from(args.deadline_ms).max(500) * 10);
    let mut outstanding: HashMap<u64, (usize, Instant)> = HashMap::new();
    let mut summary = Summary::default();
    let mut next = 0;
    let mut sweep = tokio::time::interval(Duration::from_millis(10));
    let mut resend_at: Option<Instant> = None;
    let started = Instant::now();
    let mut last_ack = Instant::now();
    while next < messages.len() || !outstanding.is_empty() {
        if last_ack.elapsed() > STALL_LIMIT {
            eprintln!("error: the recorder acknowledged nothing for {STALL_LIMIT:?}; giving up");
            break;
        }
        let can_send = next < messages.len() && (interval.is_some() || outstanding.is_empty());
        tokio::select! {
            _ = async { if let Some(i) = interval.as_mut() { i.tick().await; } }, if can_send => {
                let m = &messages[next];
                let want = has_sdp(&m.bytes);
                let out = OutMessage {
                    bytes: &m.bytes,
                    src: m.src,
                    dst: m.dst,
                    ip_proto: m.ip_proto,
                    at_us: Some(m.at_us),
                    reply_within_ms: want.then_some(args.deadline_ms),
                };
                match client.send(&out).await {
                    Ok(id) => {
                        if want {
                            outstanding.insert(id, (next, Instant::now()));
                            summary.wanted += 1;
                        }
                    }
                    Err(e) => {
                        eprintln!("send failed: {e}");
                        if let Err(e) = reconnect(&mut client, &mut summary).await {
                            eprintln!("error: {e}");
                            break;
                        }
                    }
                }
                summary.sent += 1;
                next += 1;
            }
            ev = events.recv() => match ev {
                Some(ClientEvent::Reply { id, rewritten, unchanged, rtt }) => {
                    let Some((index, _)) = outstanding.remove(&id) else { continue };
                    summary.rtts.push(rtt);
                    let original = &messages[index].bytes;
                    match (&rewritten, unchanged) {
                        (Some(bytes), _) => {
                            summary.rewritten += 1;
                            if !args.quiet {
                                println!("#{id} {}: rewritten in {rtt:?}", describe(original));
                                for line in changed_lines(original, bytes) {
                                    println!("    {line}");
                                }
                            }
                        }
                        (None, reason) => {
                            let reason = reason.unwrap_or(UnchangedReason::Other(0)).to_string();
                            if !args.quiet {
                                println!("#{id} {}: unchanged ({reason}) in {rtt:?}", describe(original));
                            }
                            *summary.unchanged.entry(reason).or_default() += 1;
                        }
                    }
                }
                Some(ClientEvent::Acked(_)) => last_ack = Instant::now(),
                Some(ClientEvent::Refused(ids)) => {
                    summary.refused += ids.len() as u64;
                    resend_at.get_or_insert_with(|| Instant::now() + RESEND_PAUSE);
                }
                Some(ClientEvent::Disconnected(why)) => {
                    eprintln!("connection lost: {why}");
                    // replies to what was in flight will not come: the filter forwarded the originals
                    summary.no_reply += outstanding.len() as u64;
                    outstanding.clear();
                    if let Err(e) = reconnect(&mut client, &mut summary).await {
                        eprintln!("error: {e}");
                        break;
                    }
                }
                None => break,
            },
            _ = sweep.tick() => {
                if resend_at.is_some_and(|t| Instant::now() >= t) {
                    resend_at = None;
                    if let Err(e) = client.resend_refused().await {
                        eprintln!("resend failed: {e}");
                    }
                }
                let before = outstanding.len();
                outstanding.retain(|_, (_, sent)| sent.elapsed() < reply_timeout);
                summary.no_reply += (before - outstanding.len()) as u64;
            }
        }
    }
    let sending = started.elapsed();
    // wait for the last acknowledgements (as long as the recorder answers within 5 s), sending refused messages
    // again after a pause
    while client.unacked() > 0 {
        if last_ack.elapsed() > STALL_LIMIT {
            eprintln!("error: the recorder acknowledged nothing for {STALL_LIMIT:?}; giving up");
            break;
        }
        let pause = if client.refused() > 0 {
            RESEND_PAUSE
        } else {
            Duration::from_secs(5)
        };
        match tokio::time::timeout(pause, events.recv()).await {
            Err(_) if client.refused() > 0 => {
                if let Err(e) = client.resend_refused().await {
                    eprintln!("resend failed: {e}");
                }
            }
            Err(_) => break,
            Ok(Some(ClientEvent::Refused(ids))) => summary.refused += ids.len() as u64,
            Ok(Some(ClientEvent::Acked(_))) => last_ack = Instant::now(),
            Ok(Some(ClientEvent::Disconnected(_)) | None) => {
                if reconnect(&mut client, &mut summary).await.is_err() {
                    break;
                }
            }
            Ok(_) => {}
        }
    }
    let unacked = client.unacked();
    client.close().await;

    summary.rtts.sort();
    let s = &summary;
    println!(
        "sent {} message(s) in {:.2} s, {} wanting a reply: {} rewritten, {} unchanged{}, {} without reply",
        s.sent,
        sending.as_secs_f64(),
        s.wanted,
        s.rewritten,
        s.unchanged.values().sum::<u64>(),
        if s.unchanged.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                s.unchanged
                    .iter()
                    .map(|(k, v)| format!("{v} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        s.no_reply
    );
    if !s.rtts.is_empty() {
        println!(
            "round trip: p50 {:?}, p99 {:?}, max {:?} ({} replies)",
            percentile(&s.rtts, 0.50),
            percentile(&s.rtts, 0.99),
            s.rtts[s.rtts.len() - 1],
            s.rtts.len()
        );
    }
    println!(
        "acknowledged: {} of {}; reconnects: {}, resent: {}; refused (recorder full, sent again): {}",
        s.sent.saturating_sub(unacked as u64),
        s.sent,
        s.reconnects,
        s.resent,
        s.refused
    );
    if unacked == 0 && s.no_reply == 0 && next == messages.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
