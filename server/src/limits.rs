//! What one client may hold of the server, set deliberately rather than left
//! at library defaults: connections, streams per connection, flow-control
//! windows, message sizes, header size, and how long a silent connection
//! lives. Clients that open streams and never read their answers were able
//! to pin gigabytes; with these bounds what they pin is at most
//! connections × streams × the largest answer.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Open connections at once; past it new ones are closed on accept. A county
/// has a few hundred terminals; each keeps one connection.
pub const MAX_CONNECTIONS: usize = 1024;
/// Open connections from one address: a township's terminals behind one
/// router fit many times over, and one address alone cannot take every
/// place.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 128;
/// Streams in flight on one connection (the workstation uses one or two).
pub const MAX_STREAMS: u32 = 32;
/// How much a client may send ahead per stream and per connection.
pub const STREAM_WINDOW: u32 = 256 * 1024;
pub const CONNECTION_WINDOW: u32 = 1024 * 1024;
pub const MAX_HEADER_LIST: u32 = 16 * 1024;
/// A request message, except department files (see intake).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The request size limit of a method (by its path).
pub fn max_request_bytes(path: &str) -> usize {
    match path.starts_with("/creditdesk.v1.Intake/") {
        true => crate::intake::MAX_FILE_BYTES + 64 * 1024,
        false => MAX_REQUEST_BYTES,
    }
}

/// An answer; the largest (a report, a case file) are far smaller.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// A new connection must open its session within this long: the HTTP/2
/// preface (and a TLS handshake before it). A byte now and then does not
/// stretch it.
pub const FIRST_BYTE: Duration = Duration::from_secs(10);
/// The HTTP/2 client preface's length: what a client sends first.
pub const PREFACE_BYTES: u64 = 24;
/// A connection that sends nothing for this long is closed; live clients
/// answer the server's pings well within it.
pub const SILENCE: Duration = Duration::from_secs(5 * 60);
/// The server pings a quiet client this often and drops it if the answer
/// takes longer than the timeout.
pub const KEEPALIVE: Duration = Duration::from_secs(120);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// No call may run longer (an import of the largest file takes well under).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A TCP connection that holds one of the server's connection places (and
/// one of its address's) and closes itself when its peer does not open a
/// session in time or stays silent.
pub struct Guarded {
    inner: TcpStream,
    silence: Duration,
    deadline: Pin<Box<Sleep>>,
    /// Bytes read so far, up to the preface's length: until then the
    /// deadline is the one set at accept.
    opened: u64,
    _place: OwnedSemaphorePermit,
    _address_place: Option<AddressPlace>,
}

/// Open connections per peer address.
type PerAddress = Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>;

/// One of an address's places, given back on drop.
struct AddressPlace {
    counts: PerAddress,
    ip: std::net::IpAddr,
}

impl AddressPlace {
    fn take(counts: &PerAddress, ip: std::net::IpAddr, max: usize) -> Option<AddressPlace> {
        let mut map = counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressPlace {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for AddressPlace {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl Guarded {
    /// Takes a place for `stream`, or `None` (the caller drops the stream)
    /// when all are taken.
    pub fn admit(
        stream: TcpStream,
        places: &Arc<Semaphore>,
        first_byte: Duration,
        silence: Duration,
    ) -> Option<Guarded> {
        let place = places.clone().try_acquire_owned().ok()?;
        Some(Guarded {
            inner: stream,
            silence,
            deadline: Box::pin(tokio::time::sleep(first_byte)),
            opened: 0,
            _place: place,
            _address_place: None,
        })
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = (buf.filled().len() - before) as u64;
                self.opened = (self.opened + read).min(PREFACE_BYTES);
                // Only an opened session earns the longer silence time.
                if read > 0 && self.opened >= PREFACE_BYTES {
                    let next = Instant::now() + self.silence;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    match self.opened >= PREFACE_BYTES {
                        true => "the peer stayed silent",
                        false => "the peer did not open a session in time",
                    },
                ))),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl Connected for Guarded {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

/// Accepts connections for as long as the listener lives, each guarded;
/// connections past the limit are closed at once.
pub fn incoming(
    listener: tokio::net::TcpListener,
    max_connections: usize,
    per_address: usize,
    first_byte: Duration,
    silence: Duration,
) -> impl futures::Stream<Item = io::Result<Guarded>> {
    let places = Arc::new(Semaphore::new(max_connections));
    let counts = PerAddress::default();
    futures::stream::unfold(listener, move |listener| {
        let (places, counts) = (places.clone(), counts.clone());
        async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    // A failed accept (e.g. out of descriptors) is not the
                    // end of the server; wait a moment and go on.
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Without NODELAY each small response waits for the peer's
                // delayed ACK (~40 ms per round trip on Linux).
                let _ = stream.set_nodelay(true);
                let Some(address_place) = AddressPlace::take(&counts, peer.ip(), per_address)
                else {
                    tracing::debug!(%peer, per_address, "connection refused: the address is at its limit");
                    continue;
                };
                match Guarded::admit(stream, &places, first_byte, silence) {
                    Some(mut guarded) => {
                        guarded._address_place = Some(address_place);
                        return Some((Ok(guarded), listener));
                    }
                    None => tracing::warn!(max_connections, "connection refused: at the limit"),
                }
            }
        }
    })
}
