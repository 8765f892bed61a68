//! Prometheus metrics (`serve --metrics-listen ADDR`, off unless asked):
//! every RPC counted and timed by method and outcome (recorded by the auth
//! layer, which sees every call, refused ones too), and at each scrape the
//! database pool, live sessions, locked accounts and the deadline queue.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::db::Db;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Rpc {
    method: String,
    outcome: String,
}

type Timings = Family<Rpc, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Login {
    /// password or key (an SSH public key).
    way: &'static str,
    outcome: &'static str,
}

struct Metrics {
    registry: Registry,
    calls: Family<Rpc, Counter>,
    seconds: Timings,
    logins: Family<Login, Counter>,
    lockouts: Counter,
    pool_open: Gauge,
    pool_idle: Gauge,
    sessions: Gauge,
    locked: Gauge,
    open_tickets: Gauge,
    overdue_tickets: Gauge,
}

fn latency_buckets() -> Histogram {
    // 1 ms … 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("creditdesk");
        let calls = Family::<Rpc, Counter>::default();
        let seconds: Timings = Family::new_with_constructor(latency_buckets);
        registry.register("rpc", "RPCs answered, by method and outcome", calls.clone());
        registry.register(
            "rpc_seconds",
            "Time to answer an RPC, by method and outcome",
            seconds.clone(),
        );
        let logins = Family::<Login, Counter>::default();
        registry.register(
            "logins",
            "Login attempts (gRPC and SSH), by way and outcome",
            logins.clone(),
        );
        let lockouts = Counter::default();
        registry.register(
            "lockouts",
            "Accounts locked by failed logins",
            lockouts.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        Metrics {
            pool_open: gauge(
                &mut registry,
                "db_pool_connections",
                "Open database connections",
            ),
            pool_idle: gauge(&mut registry, "db_pool_idle", "Idle database connections"),
            sessions: gauge(
                &mut registry,
                "sessions_live",
                "Sessions not ended or expired",
            ),
            locked: gauge(
                &mut registry,
                "operators_locked",
                "Accounts locked after failed logins",
            ),
            open_tickets: gauge(
                &mut registry,
                "tickets_open",
                "Objection tickets not closed",
            ),
            overdue_tickets: gauge(
                &mut registry,
                "tickets_overdue",
                "Open tickets past a deadline",
            ),
            registry,
            calls,
            seconds,
            logins,
            lockouts,
        }
    })
}

/// Records one answered RPC. `method` is a known gRPC path (unknown ones
/// are counted as one, so a client cannot grow the label set).
pub fn observe(method: &str, known: bool, outcome: &str, seconds: f64) {
    let labels = Rpc {
        method: if known { method } else { "unknown" }.to_string(),
        outcome: outcome.to_string(),
    };
    let m = metrics();
    m.calls.get_or_create(&labels).inc();
    m.seconds.get_or_create(&labels).observe(seconds);
}

/// Records one login attempt's outcome.
pub fn login(way: &'static str, outcome: &'static str) {
    metrics()
        .logins
        .get_or_create(&Login { way, outcome })
        .inc();
}

/// Records an account locked by failed logins.
pub fn lockout() {
    metrics().lockouts.inc();
}

/// The text exposition, with the gauges read now.
pub async fn render(db: &Db, now_ms: i64) -> anyhow::Result<String> {
    let m = metrics();
    m.pool_open.set(i64::from(db.pool().size()));
    m.pool_idle.set(db.pool().num_idle() as i64);
    let today = crate::clock::local_date(now_ms).to_string();
    let mut conn = db.read().await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now_ms)
    .fetch_one(&mut *conn)
    .await?;
    let locked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operators WHERE locked_until > $1")
        .bind(now_ms)
        .fetch_one(&mut *conn)
        .await?;
    // The queue's kept counts (migration 0022), not a scan of the tickets.
    let (open, overdue): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN due < $1 THEN n ELSE 0 END), 0) AS BIGINT)
           FROM queue_due",
    )
    .bind(today)
    .fetch_one(&mut *conn)
    .await?;
    m.sessions.set(live);
    m.locked.set(locked);
    m.open_tickets.set(open);
    m.overdue_tickets.set(overdue);
    let mut out = String::new();
    encode(&mut out, &m.registry)?;
    Ok(out)
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    db: Db,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/metrics",
        get(async move || match render(&db, clock.now_ms()).await {
            Ok(text) => (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                text,
            ),
            Err(e) => {
                tracing::warn!(error = %e, "metrics");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    String::from("database unavailable\n"),
                )
            }
        }),
    );
    tracing::info!(addr = %listener.local_addr()?, "metrics");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        observe("/made.Up/Method1", false, "Unimplemented", 0.01);
        observe("/made.Up/Method2", false, "Unimplemented", 0.01);
        let mut out = String::new();
        encode(&mut out, &metrics().registry).unwrap();
        assert!(!out.contains("made.Up"), "{out}");
        assert!(
            out.contains(r#"creditdesk_rpc_total{method="unknown",outcome="Unimplemented"} 2"#),
            "{out}"
        );
    }
}
