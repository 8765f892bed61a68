//! The gRPC channel under every call, shaped for slow links: made eagerly
//! once (TCP, TLS and the HTTP/2 preface while the clerk types, with no
//! request spent on it), sending each request's one message with the end
//! of its stream in the same frame, and sending a small message as it is
//! when compressing it saved nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::{Frame, SizeHint};
use tonic::Status;
use tonic::body::Body;
use tonic::transport::Channel;

/// What the service clients send through.
pub type Transport =
    tower::util::MapRequest<Channel, fn(http::Request<Body>) -> http::Request<Body>>;

type Connecting =
    Pin<Box<dyn Future<Output = Result<Channel, tonic::transport::Error>> + Send + 'static>>;

/// One channel, connected at most once at a time: by [`Link::connect_early`]
/// or by the first call, whichever comes first; a later call waits for the
/// same connection instead of opening another. A failed attempt leaves it
/// unconnected, so the next call tries again.
#[derive(Clone)]
pub struct Link {
    channel: Arc<tokio::sync::OnceCell<Transport>>,
    connect: Arc<dyn Fn() -> Connecting + Send + Sync>,
}

impl Link {
    pub fn new<F, Fut>(connect: F) -> Link
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Channel, tonic::transport::Error>> + Send + 'static,
    {
        Link {
            channel: Arc::new(tokio::sync::OnceCell::new()),
            connect: Arc::new(move || Box::pin(connect()) as Connecting),
        }
    }

    /// The connected channel (connecting now if nothing has yet).
    pub async fn transport(&self) -> Result<Transport, Status> {
        self.channel
            .get_or_try_init(|| async {
                let channel = (self.connect)().await?;
                let one_frame: fn(http::Request<Body>) -> http::Request<Body> =
                    |req| req.map(|body| Body::new(EndsWithItsData::new(body)));
                Ok(tower::ServiceExt::map_request(channel, one_frame))
            })
            .await
            .cloned()
            .map_err(|e: tonic::transport::Error| {
                let why = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
                let mut status = Status::unavailable(why);
                status.set_source(Arc::new(e));
                status
            })
    }

    /// Connects in the background, so the clerk's first request (the
    /// login) does not wait for the connection.
    pub fn connect_early(&self) {
        let link = self.clone();
        tokio::spawn(async move {
            if let Err(status) = link.transport().await {
                tracing::debug!(%status, "early connection");
            }
        });
    }
}

/// A request body that tells HTTP/2 it has ended as soon as it has: after
/// a data frame it looks whether the body is already at its end, so the
/// frame goes with END_STREAM instead of an empty frame after it (9 bytes
/// a call on a township line). Streamed bodies pass through unchanged.
struct EndsWithItsData {
    inner: Body,
    /// A frame read while looking ahead, given out next.
    ahead: Option<Result<Frame<bytes::Bytes>, Status>>,
    ended: bool,
}

impl EndsWithItsData {
    fn new(inner: Body) -> Self {
        EndsWithItsData {
            inner,
            ahead: None,
            ended: false,
        }
    }
}

impl http_body::Body for EndsWithItsData {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Some(frame) = self.ahead.take() {
            return Poll::Ready(Some(frame));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.ended = true;
                return Poll::Ready(None);
            }
            Poll::Ready(Some(frame)) => frame,
            Poll::Pending => return Poll::Pending,
        };
        let frame = frame.map(|f| f.map_data(uncompressed_if_no_smaller));
        if frame.as_ref().is_ok_and(Frame::is_data) {
            // Look ahead once: a unary request's body ends right here.
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(None) => self.ended = true,
                Poll::Ready(Some(next)) => self.ahead = Some(next),
                Poll::Pending => {}
            }
        }
        Poll::Ready(Some(frame))
    }

    fn is_end_stream(&self) -> bool {
        self.ahead.is_none() && (self.ended || self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        match self.ahead {
            Some(_) => SizeHint::default(),
            None => self.inner.size_hint(),
        }
    }
}

/// Compressed messages at most this long are looked at again (bounded
/// work; a longer one has always gained from compression).
const RECONSIDER_BYTES: usize = 256;

/// A gRPC message (`flag, length, bytes`) that zstd made no smaller, as it
/// was: a compressed frame's own header costs 9 bytes, more than a short
/// request (an empty one, a login, a verification) gains. The `grpc-encoding`
/// header may stay: each message says by its flag whether it is compressed.
fn uncompressed_if_no_smaller(data: bytes::Bytes) -> bytes::Bytes {
    let [1, a, b, c, d, ref compressed @ ..] = data[..] else {
        return data;
    };
    if u32::from_be_bytes([a, b, c, d]) as usize != compressed.len()
        || compressed.len() > RECONSIDER_BYTES
    {
        return data;
    }
    // Never more than the compressed length: anything longer is kept as is.
    let Ok(raw) = zstd::bulk::decompress(compressed, compressed.len()) else {
        return data;
    };
    let mut plain = Vec::with_capacity(5 + raw.len());
    plain.push(0);
    plain.extend_from_slice(&(raw.len() as u32).to_be_bytes());
    plain.extend_from_slice(&raw);
    bytes::Bytes::from(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    fn stream_of(items: Vec<&'static [u8]>) -> Body {
        let frames = futures::stream::iter(
            items
                .into_iter()
                .map(|b| Ok::<_, Status>(Frame::data(bytes::Bytes::from_static(b)))),
        );
        Body::new(http_body_util::StreamBody::new(frames))
    }

    /// The one message of a unary call carries the end of the stream.
    #[tokio::test]
    async fn a_single_message_ends_the_body_with_its_frame() {
        let mut body = EndsWithItsData::new(stream_of(vec![b"hello"]));
        assert!(!body.is_end_stream());
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), &b"hello"[..]);
        assert!(body.is_end_stream(), "known ended after its only frame");
        assert!(body.frame().await.is_none());
    }

    fn framed(flag: u8, bytes: &[u8]) -> bytes::Bytes {
        let mut out = vec![flag];
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
        out.into()
    }

    /// An empty or short message goes as it is; one that compression made
    /// smaller stays compressed; anything not a whole message is untouched.
    #[test]
    fn compression_is_kept_only_where_it_saved_bytes() {
        let empty = framed(1, &zstd::bulk::compress(b"", 3).unwrap());
        assert_eq!(uncompressed_if_no_smaller(empty), framed(0, b""));
        let short = b"\n\x07counter\x12\x08demo2026";
        let squeezed = framed(1, &zstd::bulk::compress(short, 3).unwrap());
        assert_eq!(uncompressed_if_no_smaller(squeezed), framed(0, short));

        let repetitive = "李建国".repeat(40);
        let compressed = framed(1, &zstd::bulk::compress(repetitive.as_bytes(), 3).unwrap());
        assert_eq!(uncompressed_if_no_smaller(compressed.clone()), compressed);

        let plain = framed(0, b"already plain");
        assert_eq!(uncompressed_if_no_smaller(plain.clone()), plain);
        let torn = bytes::Bytes::from_static(&[1, 0, 0, 0, 9, 1, 2]);
        assert_eq!(uncompressed_if_no_smaller(torn.clone()), torn);
        let garbage = framed(1, b"not zstd at all");
        assert_eq!(uncompressed_if_no_smaller(garbage.clone()), garbage);
    }

    /// A streamed body keeps every frame, in order.
    #[tokio::test]
    async fn a_streamed_body_is_passed_through_whole() {
        let body = EndsWithItsData::new(stream_of(vec![b"a", b"b", b"c"]));
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(&all[..], b"abc");
    }
}
