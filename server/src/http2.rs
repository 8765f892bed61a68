//! The HTTP/2 server under the gRPC services: accepts connections (TLS
//! when configured), serves each with hyper, and stops gracefully.
//!
//! tonic's own server loop would do, but it cannot turn off hyper's `date`
//! header: a fresh date on every answer costs a township line about 25
//! bytes a call (HPACK indexes a value only until the second changes), and
//! no gRPC client reads it (grpc-go's server sends none either).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::{Stream, StreamExt};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tonic::body::Body;
use tonic::transport::server::Connected;
use tower::{Service, ServiceExt as _};

use crate::limits;

/// The TLS side of a listener: the certificate chain and key from PEM
/// files, offering HTTP/2 only.
pub fn tls_acceptor(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("reading the certificate chain (PEM)")?;
    anyhow::ensure!(
        !certs.is_empty(),
        "the certificate file holds no certificate"
    );
    let key = PrivateKeyDer::from_pem_slice(key_pem).context("reading the private key (PEM)")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and the key do not go together")?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// How long a stop waits for the calls under way before it gives up on
/// them (systemd's own stop timeout is 90 s).
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Serves `service` on every connection `incoming` yields until `shutdown`
/// resolves; then stops accepting (the listener is closed at once), lets
/// the calls under way finish for up to [`STOP_GRACE`], and returns. With
/// TLS, a handshake must end within the given time.
pub async fn serve<I, IO, S>(
    incoming: I,
    tls: Option<(TlsAcceptor, Duration)>,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    I: Stream<Item = io::Result<IO>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let (stop, stopping) = watch::channel(false);
    let mut incoming = Box::pin(incoming);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let io = tokio::select! {
            () = &mut shutdown => break,
            next = incoming.next() => match next {
                Some(Ok(io)) => io,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "accepting a connection");
                    continue;
                }
                None => break,
            },
        };
        let stopping = stopping.clone();
        let (service, tls) = (service.clone(), tls.clone());
        tokio::spawn(async move {
            // The peer's address goes with every request (logins are
            // limited by it), as tonic's own server does it.
            let info = io.connect_info();
            let service = service.map_request(move |mut req: http::Request<Body>| {
                req.extensions_mut().insert(info.clone());
                req
            });
            let result = match tls {
                // A stalled handshake gives its place back in time.
                Some((tls, within)) => match tokio::time::timeout(within, tls.accept(io)).await {
                    Ok(Ok(io)) => connection(io, service, stopping).await,
                    Ok(Err(e)) => Err(e.into()),
                    Err(_) => Err("the TLS handshake took too long".into()),
                },
                None => connection(io, service, stopping).await,
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    // Closing the listener now: a client connecting meanwhile is refused
    // at once rather than left waiting in the backlog.
    drop(incoming);
    drop(stopping);
    let _ = stop.send(true);
    // Every connection holds a receiver until it has closed.
    if tokio::time::timeout(STOP_GRACE, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = stop.receiver_count(),
            "calls still running after the stop's grace time are dropped"
        );
    }
    Ok(())
}

/// One connection, served until it closes; asked to stop, it finishes the
/// calls under way and refuses new ones.
async fn connection<IO, S>(
    io: IO,
    service: S,
    mut stopping: watch::Receiver<bool>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(
        service.map_request(|req: http::Request<hyper::body::Incoming>| req.map(Body::new)),
    );
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .auto_date_header(false)
        .max_concurrent_streams(limits::MAX_STREAMS)
        .initial_stream_window_size(limits::STREAM_WINDOW)
        .initial_connection_window_size(limits::CONNECTION_WINDOW)
        .max_header_list_size(limits::MAX_HEADER_LIST)
        // What an answer may queue beyond the peer's window, per stream: a
        // client that never reads pins this much, not hyper's 400 KiB.
        .max_send_buf_size(64 * 1024)
        .keep_alive_interval(limits::KEEPALIVE)
        .keep_alive_timeout(limits::KEEPALIVE_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = &mut conn => return result.map_err(Into::into),
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    conn.await.map_err(Into::into)
}

/// Ends a call that runs longer than `limit` with DEADLINE_EXCEEDED (a
/// client's own deadline ends it sooner: its reset drops the call).
pub fn time_limited<S>(
    service: S,
    limit: Duration,
) -> impl Service<
    http::Request<Body>,
    Response = http::Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<http::Response<Body>, Infallible>> + Send,
> + Clone
+ Send
+ 'static
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    tower::service_fn(move |req: http::Request<Body>| {
        let call = service.clone().oneshot(req);
        async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_) => Ok(tonic::Status::deadline_exceeded("the call ran too long").into_http()),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call past the server's limit ends with DEADLINE_EXCEEDED, not a
    /// hang or a dropped connection.
    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_limit_is_ended_with_deadline_exceeded() {
        let slow = tower::service_fn(|_: http::Request<Body>| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, Infallible>(http::Response::new(Body::empty()))
        });
        let limited = time_limited(slow, Duration::from_secs(1));
        let answer = limited
            .oneshot(http::Request::new(Body::empty()))
            .await
            .unwrap();
        let status = tonic::Status::from_header_map(answer.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);

        let quick = tower::service_fn(|_: http::Request<Body>| async {
            Ok::<_, Infallible>(http::Response::new(Body::empty()))
        });
        let answer = time_limited(quick, Duration::from_secs(1))
            .oneshot(http::Request::new(Body::empty()))
            .await
            .unwrap();
        assert!(tonic::Status::from_header_map(answer.headers()).is_none());
    }

    /// A certificate and key that are not PEM are refused with a reason.
    #[test]
    fn a_broken_certificate_is_refused_with_a_reason() {
        let err = tls_acceptor(b"not a certificate", b"not a key")
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("certificate"), "{err:#}");
    }
}
