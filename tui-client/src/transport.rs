//! The gRPC channel under every call, shaped for slow links: made eagerly
//! once (TCP, TLS and the HTTP/2 preface while the clerk types, with no
//! request spent on it), and sending each request's one message with the
//! end of its stream in the same frame.

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

    /// A streamed body keeps every frame, in order.
    #[tokio::test]
    async fn a_streamed_body_is_passed_through_whole() {
        let body = EndsWithItsData::new(stream_of(vec![b"a", b"b", b"c"]));
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(&all[..], b"abc");
    }
}
