//! A stream with two deadlines, so that a peer can hold a connection only while it makes progress:
//!
//! - *idle*: a read that waits longer than this without a byte moving in either direction fails;
//! - *write stall*: a write (or flush) that cannot make progress for this long fails — a peer that never
//!   reads its replies (or downloads at a trickle) is closed instead of holding the server's buffers.
//!
//! The failure is an [`std::io::ErrorKind::TimedOut`] error; [`GuardedStream::expiry`] tells the owner which
//! deadline fired (for counters and the audit log).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Which deadline closed a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Nothing moved for the idle time.
    Idle,
    /// A write made no progress for the write-stall time.
    WriteStalled,
}

/// Shared view of whether (and which) deadline fired, readable after the stream was moved away.
#[derive(Debug, Clone, Default)]
pub struct Expiry(Arc<AtomicU8>);

impl Expiry {
    /// The deadline that fired, if one did.
    pub fn get(&self) -> Option<Expired> {
        match self.0.load(Ordering::Acquire) {
            1 => Some(Expired::Idle),
            2 => Some(Expired::WriteStalled),
            _ => None,
        }
    }

    fn set(&self, e: Expired) {
        let v = match e {
            Expired::Idle => 1,
            Expired::WriteStalled => 2,
        };
        let _ = self
            .0
            .compare_exchange(0, v, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// The deadlines of a [`GuardedStream`]; `None` disables one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadlines {
    /// See the module documentation.
    pub idle: Option<Duration>,
    /// See the module documentation.
    pub write_stall: Option<Duration>,
}

/// `S` with [`Deadlines`] (must be polled inside a tokio runtime with timers enabled).
#[derive(Debug)]
pub struct GuardedStream<S> {
    inner: S,
    deadlines: Deadlines,
    idle: Pin<Box<Sleep>>,
    /// Armed while a write is pending.
    stall: Option<Pin<Box<Sleep>>>,
    expiry: Expiry,
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

impl<S> GuardedStream<S> {
    /// Wraps `inner`; the idle clock starts now.
    pub fn new(inner: S, deadlines: Deadlines) -> GuardedStream<S> {
        let first = deadlines
            .idle
            .map_or_else(far_future, |d| Instant::now() + d);
        GuardedStream {
            inner,
            deadlines,
            idle: Box::pin(tokio::time::sleep_until(first)),
            stall: None,
            expiry: Expiry::default(),
        }
    }

    /// Which deadline fired (shared handle).
    pub fn expiry(&self) -> Expiry {
        self.expiry.clone()
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn progressed(&mut self) {
        if let Some(d) = self.deadlines.idle {
            self.idle.as_mut().reset(Instant::now() + d);
        }
    }

    fn expire(&self, e: Expired) -> io::Error {
        self.expiry.set(e);
        io::Error::new(
            io::ErrorKind::TimedOut,
            match e {
                Expired::Idle => "connection idle for too long",
                Expired::WriteStalled => "peer does not read: write stalled for too long",
            },
        )
    }

    /// After a pending write: arms the stall clock, and fails when it has run out.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(d) = self.deadlines.write_stall else {
            return Poll::Pending;
        };
        let sleep = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(self.expire(Expired::WriteStalled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

use std::future::Future;

impl<S: AsyncRead + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.progressed();
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                if this.deadlines.idle.is_some() && this.idle.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(this.expire(Expired::Idle)));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, data) {
            Poll::Ready(r) => {
                this.stall = None;
                if matches!(r, Ok(n) if n > 0) {
                    this.progressed();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_stall(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                this.stall = None;
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_stall(cx).map(Err),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => this.poll_stall(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.stall = None;
                if matches!(r, Ok(n) if n > 0) {
                    this.progressed();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_stall(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn idle_read_times_out_and_progress_resets_the_clock() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut g = GuardedStream::new(
            a,
            Deadlines {
                idle: Some(Duration::from_secs(10)),
                write_stall: None,
            },
        );
        let expiry = g.expiry();
        tokio::time::sleep(Duration::from_secs(8)).await;
        b.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(g.read(&mut buf).await.unwrap(), 1);
        // 8 s later: still within 10 s of the last byte
        tokio::time::sleep(Duration::from_secs(8)).await;
        b.write_all(b"y").await.unwrap();
        assert_eq!(g.read(&mut buf).await.unwrap(), 1);
        assert_eq!(expiry.get(), None);
        let e = g.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(expiry.get(), Some(Expired::Idle));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_peer_that_does_not_read_stalls_the_write_and_fails_it() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut g = GuardedStream::new(
            a,
            Deadlines {
                idle: None,
                write_stall: Some(Duration::from_secs(5)),
            },
        );
        let expiry = g.expiry();
        // fits in the pipe
        g.write_all(&[1u8; 1024]).await.unwrap();
        // the peer reads a little: progress, no failure
        let mut buf = [0u8; 512];
        b.read_exact(&mut buf).await.unwrap();
        g.write_all(&[2u8; 512]).await.unwrap();
        // now it never reads again
        let e = g.write_all(&[3u8; 4096]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(expiry.get(), Some(Expired::WriteStalled));
    }
}
