//! The reference filter client: what a Front End filter does, in Rust (used by `recorder mirror`).
//!
//! It numbers messages, sends them with "reply wanted within N ms" when the caller holds them, reports replies
//! with their round-trip time, keeps every message until the recorder acknowledges it, and sends the
//! unacknowledged ones again (without asking for a reply: the call went on long ago) after a reconnect. Messages
//! the recorder refuses (NACK: its queue is full) are kept too and go again when the caller asks
//! ([`MirrorClient::resend_refused`], after a short pause).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::protocol::{self, FrameReader, Message, UnchangedReason, Verdict};
use crate::{tls, MirrorError};

/// How to reach and authenticate to the recorder.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `host:port` of the recorder's mirror server.
    pub to: String,
    /// Client certificate chain (PEM).
    pub cert: PathBuf,
    /// Client private key (PEM).
    pub key: PathBuf,
    /// CA certificate(s) the server's certificate must chain to (PEM).
    pub ca: PathBuf,
    /// Name checked against the server certificate; `None`: the host part of `to`.
    pub server_name: Option<String>,
    /// First message id; `None`: the current time in microseconds, so that ids stay unique across restarts.
    pub first_id: Option<u64>,
}

/// A message to send.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutMessage<'a> {
    /// The SIP message.
    pub bytes: &'a [u8],
    /// Its source address.
    pub src: Option<SocketAddr>,
    /// Its destination address.
    pub dst: Option<SocketAddr>,
    /// Its transport (6 TCP, 17 UDP).
    pub ip_proto: Option<u8>,
    /// When it was seen, microseconds since the epoch.
    pub at_us: Option<u64>,
    /// Ask for a reply within this many milliseconds (the filter holds the message meanwhile).
    pub reply_within_ms: Option<u32>,
}

/// What the recorder said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The reply to a message sent with a deadline.
    Reply {
        /// The message id.
        id: u64,
        /// The rewritten message, or `None`: forward the original.
        rewritten: Option<Vec<u8>>,
        /// Why the original is to be forwarded (when `rewritten` is `None`).
        unchanged: Option<UnchangedReason>,
        /// Time from the end of the send to the reply's arrival.
        rtt: Duration,
    },
    /// Ids acknowledged (they will not be resent).
    Acked(Vec<u64>),
    /// Ids the recorder could not take now (NACK): kept, to be sent again with
    /// [`MirrorClient::resend_refused`] after a pause.
    Refused(Vec<u64>),
    /// The connection ended (call [`MirrorClient::reconnect`]); the text says why.
    Disconnected(String),
}

#[derive(Debug, Default)]
struct State {
    /// Frames not yet acknowledged, by id (encoded without a reply request, ready to resend).
    unacked: BTreeMap<u64, Vec<u8>>,
    /// When each message waiting for a reply was sent.
    sent_at: HashMap<u64, Instant>,
    /// Ids refused by the recorder and not sent again yet.
    refused: std::collections::BTreeSet<u64>,
}

/// A connected filter client.
pub struct MirrorClient {
    options: ClientOptions,
    tls: Arc<rustls::ClientConfig>,
    next_id: u64,
    writer: Option<WriteHalf<TlsStream<TcpStream>>>,
    reader: Option<JoinHandle<()>>,
    state: Arc<Mutex<State>>,
    events: mpsc::UnboundedSender<ClientEvent>,
    out: Vec<u8>,
}

impl std::fmt::Debug for MirrorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorClient")
            .field("to", &self.options.to)
            .field("next_id", &self.next_id)
            .field("unacked", &self.unacked())
            .finish_non_exhaustive()
    }
}

impl Drop for MirrorClient {
    fn drop(&mut self) {
        if let Some(r) = self.reader.take() {
            r.abort();
        }
    }
}

fn host_of(to: &str) -> &str {
    match to.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => to,
    }
}

impl MirrorClient {
    /// Loads the certificates and connects; events (replies, acknowledgements, disconnection) arrive on the
    /// returned receiver.
    pub async fn connect(
        options: ClientOptions,
    ) -> Result<(MirrorClient, mpsc::UnboundedReceiver<ClientEvent>), MirrorError> {
        let certs = tls::load_certs(&options.cert)?;
        let key = tls::load_key(&options.key)?;
        let ca = tls::load_certs(&options.ca)?;
        let tls = tls::client_config(certs, key, &ca)?;
        let (events, rx) = mpsc::unbounded_channel();
        let next_id = options.first_id.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_micros() as u64)
        });
        let mut client = MirrorClient {
            options,
            tls,
            next_id: next_id.max(1),
            writer: None,
            reader: None,
            state: Arc::default(),
            events,
            out: Vec::with_capacity(8192),
        };
        client.open().await?;
        Ok((client, rx))
    }

    async fn open(&mut self) -> Result<(), MirrorError> {
        if let Some(r) = self.reader.take() {
            r.abort();
        }
        self.writer = None;
        let to = self.options.to.clone();
        let tcp = TcpStream::connect(&to)
            .await
            .map_err(|e| MirrorError::Io(format!("connect {to}"), e))?;
        let _ = tcp.set_nodelay(true);
        let name = self
            .options
            .server_name
            .clone()
            .unwrap_or_else(|| host_of(&to).to_owned());
        let name = ServerName::try_from(name)
            .map_err(|e| MirrorError::Config(format!("server name: {e}")))?;
        let stream = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| MirrorError::Io(format!("TLS handshake with {to}"), e))?;
        let (read, write) = tokio::io::split(stream);
        self.writer = Some(write);
        self.reader = Some(tokio::spawn(read_loop(
            read,
            self.state.clone(),
            self.events.clone(),
        )));
        Ok(())
    }

    /// Connects again (to [`ClientOptions::to`], which [`MirrorClient::set_target`] may have changed) and sends
    /// every unacknowledged message again, oldest first, without reply requests; returns how many.
    pub async fn reconnect(&mut self) -> Result<usize, MirrorError> {
        self.open().await?;
        let frames: Vec<Vec<u8>> = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.sent_at.clear();
            st.refused.clear();
            st.unacked.values().cloned().collect()
        };
        self.out.clear();
        for f in &frames {
            self.out.extend_from_slice(f);
        }
        self.flush().await?;
        Ok(frames.len())
    }

    /// Sends again, oldest first and without reply requests, every message the recorder refused (NACK) since the
    /// last call; returns how many. Call it after a pause (the recorder refused them because it was full).
    pub async fn resend_refused(&mut self) -> Result<usize, MirrorError> {
        let frames: Vec<Vec<u8>> = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let ids = std::mem::take(&mut st.refused);
            ids.iter()
                .filter_map(|id| st.unacked.get(id).cloned())
                .collect()
        };
        self.out.clear();
        for f in &frames {
            self.out.extend_from_slice(f);
        }
        if !frames.is_empty() {
            self.flush().await?;
        }
        Ok(frames.len())
    }

    /// Messages refused by the recorder and waiting for [`MirrorClient::resend_refused`].
    pub fn refused(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .refused
            .len()
    }

    /// Changes the recorder address used by the next [`MirrorClient::reconnect`].
    pub fn set_target(&mut self, to: String) {
        self.options.to = to;
    }

    /// Sends one message; returns its id. On error the message is kept and goes again after a reconnect.
    pub async fn send(&mut self, m: &OutMessage<'_>) -> Result<u64, MirrorError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = Message {
            id: Some(id),
            reply_within_ms: None,
            src: m.src,
            dst: m.dst,
            ip_proto: m.ip_proto,
            at_us: m.at_us,
            payload: m.bytes,
        };
        let mut stored = Vec::with_capacity(m.bytes.len() + 64);
        protocol::encode_message(&msg, &mut stored)
            .map_err(|e| MirrorError::Protocol(e.to_string()))?;
        self.out.clear();
        if m.reply_within_ms.is_some() {
            msg.reply_within_ms = m.reply_within_ms;
            protocol::encode_message(&msg, &mut self.out)
                .map_err(|e| MirrorError::Protocol(e.to_string()))?;
        } else {
            self.out.extend_from_slice(&stored);
        }
        {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.unacked.insert(id, stored);
            if m.reply_within_ms.is_some() {
                st.sent_at.insert(id, Instant::now());
            }
        }
        self.flush().await?;
        Ok(id)
    }

    async fn flush(&mut self) -> Result<(), MirrorError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| MirrorError::Protocol("not connected".into()))?;
        let r = async {
            w.write_all(&self.out).await?;
            w.flush().await
        }
        .await;
        self.out.clear();
        r.map_err(|e| {
            self.writer = None;
            MirrorError::Io("mirror send".into(), e)
        })
    }

    /// Messages sent and not acknowledged yet.
    pub fn unacked(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unacked
            .len()
    }

    /// Closes the connection (unacknowledged messages stay counted).
    pub async fn close(&mut self) {
        if let Some(mut w) = self.writer.take() {
            let _ = w.shutdown().await;
        }
        if let Some(r) = self.reader.take() {
            r.abort();
        }
    }
}

async fn read_loop(
    mut read: ReadHalf<TlsStream<TcpStream>>,
    state: Arc<Mutex<State>>,
    events: mpsc::UnboundedSender<ClientEvent>,
) {
    let mut reader = FrameReader::new();
    let why = loop {
        let n = match read.read(reader.buffer()).await {
            Ok(0) => break "closed by the recorder".to_owned(),
            Err(e) => break e.to_string(),
            Ok(n) => n,
        };
        let now = Instant::now();
        reader.filled(n);
        let mut failed = None;
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    failed = Some(format!("bad frame from the recorder: {e}"));
                    break;
                }
            };
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(reply) = frame.reply {
                let rtt = st
                    .sent_at
                    .remove(&reply.id)
                    .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                let (rewritten, unchanged) = match reply.verdict {
                    Verdict::Rewritten(b) => (Some(b.to_vec()), None),
                    Verdict::Unchanged(r) => (None, Some(r)),
                };
                let _ = events.send(ClientEvent::Reply {
                    id: reply.id,
                    rewritten,
                    unchanged,
                    rtt,
                });
            }
            if let Some(ack) = frame.ack {
                let ids: Vec<u64> = ack.ids().collect();
                for id in &ids {
                    st.unacked.remove(id);
                    st.refused.remove(id);
                }
                let _ = events.send(ClientEvent::Acked(ids));
            }
            if let Some(nack) = frame.nack {
                let ids: Vec<u64> = nack
                    .ids()
                    .filter(|id| st.unacked.contains_key(id))
                    .collect();
                st.refused.extend(ids.iter().copied());
                let _ = events.send(ClientEvent::Refused(ids));
            }
        }
        if let Some(why) = failed {
            break why;
        }
    };
    let _ = events.send(ClientEvent::Disconnected(why));
}
