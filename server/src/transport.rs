//! In-process connections to the gRPC services: the SSH endpoint's sessions
//! reach the same services, behind the same auth layer, over in-memory
//! pipes (no socket, no TLS), served beside the TCP listener.

use std::io;

use futures::{Stream, StreamExt};
use tokio::io::DuplexStream;
use tokio::sync::mpsc;

/// Bytes an in-process pipe buffers each way (HTTP/2 flow control bounds
/// what is in flight anyway).
const PIPE_BYTES: usize = 64 * 1024;

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

/// The server's side of in-process connections, as an incoming stream for
/// tonic, and the dialer that opens them. (An in-process connection has no
/// address: nothing is rate-limited by it; the SSH endpoint limits its
/// logins by the SSH client's address.)
pub fn local() -> (
    impl Stream<Item = io::Result<DuplexStream>> + Send + 'static,
    LocalDialer,
) {
    let (accept, accepted) = mpsc::channel::<DuplexStream>(16);
    let incoming = tokio_stream::wrappers::ReceiverStream::new(accepted).map(Ok);
    (incoming, LocalDialer { accept })
}
