//! The one IO module of this crate: a thin shell around libpcap (the `pcap` crate) that reads pcap
//! and pcapng files ([`OfflineCapture`]) or an interface ([`LiveCapture`]) and yields `(capture time in µs, link type, frame bytes)` without allocating per
//! packet (the frame borrows libpcap's buffer until the next call). All decoding lives in the pure
//! modules ([`crate::link`] and after); nothing there depends on this one.

use std::path::Path;

use crate::link::LinkType;

/// Why a capture could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// libpcap refused to open the file (missing, unreadable, not a pcap/pcapng file) or the
    /// interface (unknown, no permission).
    #[error("cannot open capture {path}: {source}")]
    Open {
        /// The path or interface name given.
        path: String,
        /// libpcap's error.
        source: pcap::Error,
    },
    /// The capture's link type is not one [`crate::link::decode_frame`] understands.
    #[error("capture {path}: unsupported link type {dlt} ({name})")]
    UnsupportedLinkType {
        /// The path given.
        path: String,
        /// libpcap's `DLT_*` number.
        dlt: i32,
        /// libpcap's name for it.
        name: String,
    },
    /// The BPF filter did not compile.
    #[error("bad BPF filter {filter:?}: {source}")]
    Filter {
        /// The filter expression.
        filter: String,
        /// libpcap's error.
        source: pcap::Error,
    },
    /// Reading a packet failed (file truncated in a record header, I/O error).
    #[error("reading capture: {0}")]
    Read(pcap::Error),
}

/// One captured frame, borrowed from the reader until its next call.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture time in microseconds since the Unix epoch (times before 1970 read as 0).
    pub at_micros: u64,
    /// Link type of the capture.
    pub link: LinkType,
    /// The captured bytes (possibly cut by the snap length; see `orig_len`).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
}

/// Reads frames from a pcap or pcapng file in order.
pub struct OfflineCapture {
    inner: pcap::Capture<pcap::Offline>,
    link: LinkType,
}

impl std::fmt::Debug for OfflineCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineCapture")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl OfflineCapture {
    /// Opens a pcap or pcapng file (microsecond timestamps) and checks its link type is supported.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let p = path.as_ref();
        let inner = pcap::Capture::from_file(p).map_err(|source| CaptureError::Open {
            path: p.display().to_string(),
            source,
        })?;
        let link = supported_link(&inner, || p.display().to_string())?;
        Ok(OfflineCapture { inner, link })
    }

    /// Keeps only the frames a BPF filter expression (tcpdump syntax) accepts.
    pub fn set_filter(&mut self, filter: &str) -> Result<(), CaptureError> {
        compile_filter(&mut self.inner, filter)
    }

    /// The capture's link type.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The next frame, `Ok(None)` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        let link = self.link;
        match self.inner.next_packet() {
            Ok(p) => Ok(Some(frame(p, link))),
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(CaptureError::Read(e)),
        }
    }
}

/// The capture's link type, when [`crate::link::decode_frame`] understands it; `source` names the file or
/// interface in the error.
fn supported_link<T: pcap::Activated + ?Sized>(
    capture: &pcap::Capture<T>,
    source: impl FnOnce() -> String,
) -> Result<LinkType, CaptureError> {
    let dlt = capture.get_datalink();
    LinkType::from_dlt(dlt.0).ok_or_else(|| CaptureError::UnsupportedLinkType {
        path: source(),
        dlt: dlt.0,
        name: dlt.get_name().unwrap_or_default(),
    })
}

/// Installs a BPF filter (tcpdump syntax, optimised) on an open capture.
fn compile_filter<T: pcap::Activated + ?Sized>(
    capture: &mut pcap::Capture<T>,
    filter: &str,
) -> Result<(), CaptureError> {
    capture
        .filter(filter, true)
        .map_err(|source| CaptureError::Filter {
            filter: filter.to_owned(),
            source,
        })
}

fn frame(p: pcap::Packet<'_>, link: LinkType) -> Frame<'_> {
    let sec = u64::try_from(p.header.ts.tv_sec).unwrap_or(0);
    let usec = u64::try_from(p.header.ts.tv_usec).unwrap_or(0);
    Frame {
        at_micros: sec.saturating_mul(1_000_000).saturating_add(usec),
        link,
        data: p.data,
        orig_len: p.header.len,
    }
}

/// Settings of a [`LiveCapture`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOptions {
    /// Bytes kept of each frame.
    pub snaplen: i32,
    /// Put the interface in promiscuous mode (a SPAN port needs it).
    pub promisc: bool,
    /// Kernel ring buffer size in bytes (absorbs bursts while the reader is busy).
    pub buffer_bytes: i32,
    /// Longest wait of [`LiveCapture::next_frame`] before it returns `Ok(None)`, in ms.
    pub timeout_ms: i32,
}

impl Default for LiveOptions {
    /// 65535-byte snap length, promiscuous, 32 MiB buffer, 100 ms read timeout.
    fn default() -> Self {
        LiveOptions {
            snaplen: 65_535,
            promisc: true,
            buffer_bytes: 32 << 20,
            timeout_ms: 100,
        }
    }
}

/// Kernel counters of a live capture (libpcap `pcap_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveStats {
    /// Frames received by the filter.
    pub received: u32,
    /// Frames dropped because the buffer was full (the reader was too slow).
    pub dropped: u32,
    /// Frames dropped by the interface or its driver.
    pub if_dropped: u32,
}

/// Reads frames from a network interface (immediate mode: each frame as soon as it arrives; non-blocking).
pub struct LiveCapture {
    inner: pcap::Capture<pcap::Active>,
    link: LinkType,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens an interface by name (needs CAP_NET_RAW or root) and checks its link type.
    pub fn open(device: &str, opts: LiveOptions) -> Result<Self, CaptureError> {
        let err = |source| CaptureError::Open {
            path: device.to_owned(),
            source,
        };
        let inner = pcap::Capture::from_device(device)
            .map_err(err)?
            .snaplen(opts.snaplen)
            .promisc(opts.promisc)
            .buffer_size(opts.buffer_bytes)
            .timeout(opts.timeout_ms)
            .immediate_mode(true)
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(err)?;
        let link = supported_link(&inner, || device.to_owned())?;
        Ok(LiveCapture { inner, link })
    }

    /// Keeps only the frames a BPF filter expression (tcpdump syntax) accepts.
    pub fn set_filter(&mut self, filter: &str) -> Result<(), CaptureError> {
        compile_filter(&mut self.inner, filter)
    }

    /// The interface's link type.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The next frame, or `Ok(None)` at once when none is waiting: the capture is non-blocking, because
    /// libpcap's read timeout does not bound the wait in immediate mode on Linux (a reader would sleep until
    /// the next frame, however long). The caller decides how to wait (e.g. a millisecond's sleep).
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        let link = self.link;
        match self.inner.next_packet() {
            Ok(p) => Ok(Some(frame(p, link))),
            Err(pcap::Error::TimeoutExpired) => Ok(None),
            Err(e) => Err(CaptureError::Read(e)),
        }
    }

    /// Kernel receive and drop counters.
    pub fn stats(&mut self) -> Result<LiveStats, CaptureError> {
        let s = self.inner.stats().map_err(CaptureError::Read)?;
        Ok(LiveStats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}
