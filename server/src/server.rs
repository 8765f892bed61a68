//! Assembles the gRPC server: our services behind the auth layer, plus the
//! standard health and reflection services, with zstd/gzip compression.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use credit_desk_proto::pb::{
    self, admin_server::AdminServer, auth_server::AuthServer, complaint_server::ComplaintServer,
    consent_server::ConsentServer, identity_server::IdentityServer, intake_server::IntakeServer,
    objection_server::ObjectionServer, query_server::QueryServer,
    supervision_server::SupervisionServer,
};
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;

use crate::auth_layer::AuthLayer;
use crate::clock::SharedClock;
use crate::context::{Context, Ctx, Policy, SessionPolicy};
use crate::db::Db;
use crate::limits;
use crate::services::complaint::ComplaintService;
use crate::services::consent::ConsentService;
use crate::services::intake::IntakeService;
use crate::services::objection::ObjectionService;
use crate::services::query::QueryService;
use crate::services::supervision::SupervisionService;
use crate::services::{admin::AdminService, auth::AuthService, identity::IdentityService};

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

pub struct ServeOptions {
    pub db: Db,
    pub clock: SharedClock,
    pub sessions: SessionPolicy,
    pub policy: Policy,
    pub tls: Option<TlsFiles>,
    pub limits: ConnectionLimits,
    /// The SSH endpoint, when asked for.
    pub ssh: Option<crate::ssh::SshOptions>,
    /// Where Prometheus scrapes `/metrics`, when asked for.
    pub metrics: Option<TcpListener>,
}

/// The connection bounds an operator may want to change (tests shorten the
/// timeouts to see them act).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub per_address: usize,
    pub first_byte: std::time::Duration,
    pub silence: std::time::Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: limits::MAX_CONNECTIONS,
            per_address: limits::MAX_CONNECTIONS_PER_ADDRESS,
            first_byte: limits::FIRST_BYTE,
            silence: limits::SILENCE,
        }
    }
}

impl ServeOptions {
    /// Default policies, no TLS.
    pub fn new(db: Db, clock: SharedClock) -> ServeOptions {
        ServeOptions {
            db,
            clock,
            sessions: SessionPolicy::default(),
            policy: Policy::default(),
            tls: None,
            limits: ConnectionLimits::default(),
            ssh: None,
            metrics: None,
        }
    }
}

/// Accepts and sends zstd and gzip (the workstation asks for zstd, stock
/// tools may use gzip or nothing), with the message size limits.
macro_rules! configured {
    ($svc:expr) => {
        configured!($svc, limits::MAX_REQUEST_BYTES)
    };
    ($svc:expr, $max_request:expr) => {
        $svc.accept_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Zstd)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size($max_request)
            .max_encoding_message_size(limits::MAX_RESPONSE_BYTES)
    };
}

/// How often a server refreshes the planner's statistics (SQLite).
const STATISTICS_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// How often a server looks for the logs' monthly partitions to make
/// (PostgreSQL; a look when none is due is a few catalogue reads).
const PARTITIONS_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Serves on `listener` until `shutdown` resolves, then lets running calls
/// finish.
pub async fn serve(
    options: ServeOptions,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let ctx: Ctx = Arc::new(Context {
        db: options.db,
        clock: options.clock,
        sessions: options.sessions,
        policy: options.policy,
        hasher: crate::password::Hasher::per_core(),
        logins: Default::default(),
    });
    // Imports a stopped server left behind are rolled back or folded in,
    // in short steps and off the start-up path.
    let (db, now) = (ctx.db.clone(), ctx.now_ms());
    tokio::spawn(async move {
        if let Err(e) = crate::db::imports::recover(&db, now).await {
            tracing::error!(error = %e, "recovering unfinished imports");
        }
    });
    // The planner's statistics, kept fresh as tables grow: at start, then
    // every few hours, beside the calls being served.
    let db = ctx.db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(STATISTICS_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = db.refresh_statistics().await {
                tracing::warn!(error = %e, "refreshing planner statistics");
            }
        }
    });

    // The logs' monthly partitions (PostgreSQL): at start, then hourly.
    let shared = ctx.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PARTITIONS_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = crate::db::partitions::ensure(&shared.db, shared.now_ms()).await {
                tracing::warn!(error = %e, "making the logs' monthly partitions");
            }
        }
    });

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AuthServer<AuthService>>()
        .await;
    health_reporter
        .set_serving::<AdminServer<AdminService>>()
        .await;
    health_reporter
        .set_serving::<IdentityServer<IdentityService>>()
        .await;
    health_reporter
        .set_serving::<IntakeServer<IntakeService>>()
        .await;
    health_reporter
        .set_serving::<ConsentServer<ConsentService>>()
        .await;
    health_reporter
        .set_serving::<QueryServer<QueryService>>()
        .await;
    health_reporter
        .set_serving::<ObjectionServer<ObjectionService>>()
        .await;
    health_reporter
        .set_serving::<SupervisionServer<SupervisionService>>()
        .await;
    health_reporter
        .set_serving::<ComplaintServer<ComplaintService>>()
        .await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let tls = match &options.tls {
        Some(tls) => {
            let cert = std::fs::read(&tls.cert)
                .with_context(|| format!("--tls-cert {}", tls.cert.display()))?;
            let key = std::fs::read(&tls.key)
                .with_context(|| format!("--tls-key {}", tls.key.display()))?;
            Some(crate::http2::tls_acceptor(&cert, &key).context("--tls-cert/--tls-key")?)
        }
        None => None,
    };

    // The same services behind the same auth layer, for the TCP listener
    // (with TLS when configured) and for in-process connections (without).
    let routes = tonic::service::Routes::new(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(configured!(AuthServer::new(AuthService::new(ctx.clone()))))
        .add_service(configured!(AdminServer::new(AdminService::new(
            ctx.clone()
        ))))
        .add_service(configured!(IdentityServer::new(IdentityService::new(
            ctx.clone()
        ))))
        .add_service(configured!(ConsentServer::new(ConsentService::new(
            ctx.clone()
        ))))
        .add_service(configured!(QueryServer::new(QueryService::new(
            ctx.clone()
        ))))
        .add_service(configured!(ObjectionServer::new(ObjectionService::new(
            ctx.clone()
        ))))
        .add_service(configured!(SupervisionServer::new(
            SupervisionService::new(ctx.clone())
        )))
        .add_service(configured!(ComplaintServer::new(ComplaintService::new(
            ctx.clone()
        ))))
        // Department files arrive in one message.
        .add_service(configured!(
            IntakeServer::new(IntakeService::new(ctx.clone())),
            limits::max_request_bytes("/creditdesk.v1.Intake/")
        ))
        .prepare();
    let service = crate::http2::time_limited(
        tower::Layer::layer(&AuthLayer::new(ctx.clone()), routes),
        limits::CALL_TIMEOUT,
    );

    let shutdown = futures::FutureExt::shared(shutdown);
    if let Some(listener) = options.metrics {
        let (db, clock, stop) = (ctx.db.clone(), ctx.clock.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::metrics::serve(listener, db, clock, stop).await {
                tracing::error!(error = %e, "metrics endpoint");
            }
        });
    }
    let (ssh, local) = match options.ssh {
        Some(ssh) => {
            let (local, dialer) = crate::transport::local();
            let endpoint =
                crate::ssh::Endpoint::start(ctx.clone(), dialer, ssh, shutdown.clone()).await?;
            let serving = crate::http2::serve(local, None, service.clone(), shutdown.clone());
            (Some(endpoint), Some(serving))
        }
        None => (None, None),
    };
    tracing::info!(%addr, tls = options.tls.is_some(), "serving");
    let tcp = crate::http2::serve(
        limits::incoming(
            listener,
            options.limits.max_connections,
            options.limits.per_address,
            options.limits.first_byte,
            options.limits.silence,
        ),
        tls.map(|tls| (tls, options.limits.first_byte)),
        service,
        shutdown,
    );
    match local {
        Some(local) => {
            tokio::try_join!(tcp, local)?;
        }
        None => tcp.await?,
    }
    if let Some(ssh) = ssh {
        ssh.stopped().await;
    }
    ctx.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now and returns a future that
/// resolves on either. Call it before binding: a signal that arrives
/// between bind and the first poll of a lazily installed handler would
/// otherwise kill the process without a graceful stop.
pub fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        {
            let (mut int, mut term) = signals;
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received");
    })
}

/// A server running in the background on a loopback port: the workstation's
/// demo mode and the integration tests use it.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(options: ServeOptions, listen: SocketAddr) -> anyhow::Result<Running> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(options, listener, async {
            let _ = stopped.await;
        }));
        Ok(Running {
            addr,
            stop: Some(stop),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets running calls finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await?
    }
}
