//! What the gRPC server accepts connections from: the TCP listener, and
//! in-memory pipes opened inside this process (the SSH endpoint's sessions
//! reach the same services, behind the same auth layer, with no socket).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::limits::Guarded;

/// Bytes an in-process pipe buffers each way (HTTP/2 flow control bounds
/// what is in flight anyway).
const PIPE_BYTES: usize = 64 * 1024;

/// One accepted connection.
pub enum Conn {
    Tcp(Guarded),
    Local(DuplexStream),
}

/// Opens in-process connections to the gRPC server.
#[derive(Clone)]
pub struct LocalDialer {
    accept: mpsc::Sender<DuplexStream>,
}

impl LocalDialer {
    pub async fn dial(&self) -> io::Result<DuplexStream> {
        let (near, far) = tokio::io::duplex(PIPE_BYTES);
        self.accept
            .send(far)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::ConnectionRefused, "server stopped"))?;
        Ok(near)
    }
}

/// The TCP connections and the in-process ones, as one stream for tonic,
/// and the dialer for the latter.
pub fn incoming(
    tcp: impl Stream<Item = io::Result<Guarded>> + Send + 'static,
) -> (impl Stream<Item = io::Result<Conn>> + Send, LocalDialer) {
    let (accept, accepted) = mpsc::channel::<DuplexStream>(16);
    let local = tokio_stream::wrappers::ReceiverStream::new(accepted).map(|d| Ok(Conn::Local(d)));
    let tcp = tcp.map(|r| r.map(Conn::Tcp));
    (
        futures::stream::select(Box::pin(tcp), local),
        LocalDialer { accept },
    )
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Local(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Local(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_flush(cx),
            Conn::Local(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Local(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    /// An in-process connection has no address: nothing is rate-limited by
    /// it (the SSH endpoint limits its logins by the SSH client's address).
    fn connect_info(&self) -> TcpConnectInfo {
        match self {
            Conn::Tcp(s) => s.connect_info(),
            Conn::Local(_) => TcpConnectInfo {
                local_addr: None,
                remote_addr: None,
            },
        }
    }
}
