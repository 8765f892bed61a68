//! Test harness: starts the real server on an ephemeral loopback port, on a
//! fresh SQLite file or a fresh PostgreSQL database, seeded with the demo
//! org tree and accounts, with a clock the test moves by hand.
//!
//! PostgreSQL tests need `DATABASE_URL` (a server where the user may create
//! databases); without it they print a visible SKIP line and pass.

pub mod desk;
pub mod fuzz;
pub mod link;
pub mod ssh_clerk;
pub mod tmux;

use std::sync::Arc;

use credit_desk_proto::pb::{admin_client::AdminClient, auth_client::AuthClient};
use credit_desk_server::clock::ManualClock;
use credit_desk_server::db::Db;
use credit_desk_server::demo;
use credit_desk_server::server::{Running, ServeOptions};
use sqlx::{Connection, Executor};
use tonic::transport::Channel;

pub use credit_desk_server::demo::DEMO_PASSWORD;

/// 2026-11-23 09:00 China time.
pub const T0: i64 = 1_795_395_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub running: Running,
    pub clock: Arc<ManualClock>,
    pub db: Db,
    pub channel: Channel,
    /// The SSH endpoint, when started with [`TestServer::start_with_ssh`].
    pub ssh: Option<SshEndpoint>,
    /// Where the server's Prometheus metrics are scraped.
    pub metrics: std::net::SocketAddr,
    cleanup: Cleanup,
}

pub struct SshEndpoint {
    pub addr: std::net::SocketAddr,
    pub host_key: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(admin_url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(admin_url).expect("DATABASE_URL is a URL");
    parsed.set_path(name);
    parsed.to_string()
}

/// Under CI the PostgreSQL half must run: a CI run can never pass by
/// skipping it.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl TestServer {
    /// Starts a server, or returns `None` (after printing why) when the
    /// backend is not available here.
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_inner(backend, false).await
    }

    /// The SQLite file the server runs on (none on PostgreSQL).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => Some(dir.path().join("test.db")),
            Cleanup::Postgres { .. } => None,
        }
    }

    /// The same, with the SSH endpoint on a loopback port of its own.
    pub async fn start_with_ssh(backend: Backend) -> Option<TestServer> {
        Self::start_inner(backend, true).await
    }

    async fn start_inner(backend: Backend, with_ssh: bool) -> Option<TestServer> {
        // Server logs go to the test's captured output, shown on failure.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                std::env::var("RUST_LOG").unwrap_or_else(|_| "credit_desk_server=info".into()),
            )
            .with_test_writer()
            .try_init();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, Cleanup::Sqlite(dir))
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("DATABASE_URL") else {
                    assert!(
                        !under_ci(),
                        "CI is set but DATABASE_URL is not: the PostgreSQL tests must run"
                    );
                    eprintln!("SKIP: PostgreSQL test skipped, DATABASE_URL is not set");
                    return None;
                };
                let name = format!("cd_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "DATABASE_URL is set but PostgreSQL is unusable ({e}); unset it to skip"
                        )
                    });
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                (
                    with_database(&admin_url, &name),
                    Cleanup::Postgres { admin_url, name },
                )
            }
        };
        credit_desk_server::vault::install_ephemeral();
        let db = Db::connect_and_migrate(&url)
            .await
            .expect("open test database");
        let clock = ManualClock::new(T0);
        demo::seed_if_empty(&db, T0).await.expect("seed demo data");
        let mut options = ServeOptions::new(db.clone(), clock.clone());
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the metrics endpoint");
        let metrics = metrics_listener.local_addr().expect("metrics address");
        options.metrics = Some(metrics_listener);
        let mut ssh = None;
        if with_ssh {
            let dir = tempfile::tempdir().expect("temp dir");
            let host_key = dir.path().join("ssh-host-key");
            let bound = credit_desk_server::ssh::SshOptions::bind(
                "127.0.0.1:0".parse().unwrap(),
                &host_key,
            )
            .await
            .expect("bind the SSH endpoint");
            ssh = Some(SshEndpoint {
                addr: bound.listener.local_addr().unwrap(),
                host_key,
                _dir: dir,
            });
            options.ssh = Some(bound);
        }
        let running = Running::start(options, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("start server");
        let channel = Channel::from_shared(running.url())
            .unwrap()
            .connect()
            .await
            .expect("connect to test server");
        Some(TestServer {
            running,
            clock,
            db,
            channel,
            ssh,
            metrics,
            cleanup,
        })
    }

    pub fn auth(&self) -> AuthClient<Channel> {
        AuthClient::new(self.channel.clone())
    }

    pub fn admin(&self) -> AdminClient<Channel> {
        AdminClient::new(self.channel.clone())
    }

    /// Stops the server and removes its database.
    pub async fn finish(self) {
        // Whatever the test did, no identity number, phone or address was
        // written in the clear.
        let census = credit_desk_server::db::sealed::census(
            &mut self.db.read().await.expect("a connection"),
        )
        .await
        .expect("the census of sealed values");
        assert!(
            census.iter().all(|(key, _)| key != "clear"),
            "personal data in the clear: {census:?}"
        );
        // ...and the queue's kept counts are what its tickets say.
        let counted = "SELECT org_unit_id, next_due, COUNT(*) FROM tickets
                        WHERE next_due IS NOT NULL GROUP BY org_unit_id, next_due
                        ORDER BY org_unit_id, next_due";
        let kept = "SELECT org_unit_id, due, n FROM queue_due ORDER BY org_unit_id, due";
        let read = async |sql: &'static str| -> Vec<(String, String, i64)> {
            sqlx::query_as(sql)
                .fetch_all(self.db.pool())
                .await
                .expect("queue counts")
        };
        assert_eq!(read(kept).await, read(counted).await, "kept queue counts");
        let counted = "SELECT l.department_id, l.reply_due, COUNT(*) FROM ticket_letters l
                         JOIN tickets t ON t.id = l.ticket_id
                        WHERE l.replied_at IS NULL AND t.next_due IS NOT NULL
                        GROUP BY l.department_id, l.reply_due
                        ORDER BY l.department_id, l.reply_due";
        let kept = "SELECT department_id, due, n FROM letter_due ORDER BY department_id, due";
        assert_eq!(read(kept).await, read(counted).await, "kept letter counts");
        self.running.stop().await.expect("server stopped cleanly");
        self.db.close().await;
        if let Cleanup::Postgres { admin_url, name } = self.cleanup
            && let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
        }
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL:
/// `both_backends!(name, async |srv: &TestServer| { ... });`
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            async fn run_on_backend(backend: $crate::Backend) {
                let Some(srv) = $crate::TestServer::start(backend).await else {
                    return;
                };
                let body = $body;
                body(&srv).await;
                srv.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run_on_backend($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run_on_backend($crate::Backend::Postgres).await;
            }
        }
    };
}

/// Sets a session's bearer token on every request of a client.
#[derive(Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub type Authed = tonic::service::interceptor::InterceptedService<Channel, Bearer>;

/// A logged-in operator: typed clients that carry the session's token.
pub struct Session {
    pub token: String,
    channel: Channel,
}

macro_rules! session_clients {
    ($($name:ident => $client:ident),* $(,)?) => {
        impl Session {
            $(
                pub fn $name(&self) -> $client<Authed> {
                    $client::with_interceptor(self.channel.clone(), self.bearer())
                }
            )*
        }
    };
}

use credit_desk_proto::pb::{
    complaint_client::ComplaintClient, consent_client::ConsentClient, intake_client::IntakeClient,
    objection_client::ObjectionClient, supervision_client::SupervisionClient,
};

session_clients! {
    auth => AuthClient,
    admin => AdminClient,
    identity => IdentityClient,
    consent => ConsentClient,
    query => QueryClient,
    objection => ObjectionClient,
    intake => IntakeClient,
    supervision => SupervisionClient,
    complaint => ComplaintClient,
}

impl Session {
    /// The whole deadline queue as this operator sees it.
    pub async fn queue(&self) -> credit_desk_proto::pb::ListQueueResponse {
        self.objection()
            .list_queue(credit_desk_proto::pb::ListQueueRequest::default())
            .await
            .expect("the queue")
            .into_inner()
    }

    fn bearer(&self) -> Bearer {
        Bearer(
            format!("Bearer {}", self.token)
                .parse()
                .expect("token is ASCII"),
        )
    }
}

impl TestServer {
    /// Logs a demo account (or one added with the demo password) in.
    pub async fn session(&self, username: &str) -> Session {
        let token = login(self, username, DEMO_PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("login {username}: {e:?}"));
        Session {
            token,
            channel: self.channel.clone(),
        }
    }
}

/// Wraps a message in a request carrying a bearer token.
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("token is ASCII"),
    );
    req
}

/// The `ErrorInfo` reason of a failed call.
pub fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_else(|| format!("<no ErrorInfo: {status:?}>"))
}

/// Logs in and returns the session token.
pub async fn login(
    srv: &TestServer,
    username: &str,
    password: &str,
) -> Result<String, tonic::Status> {
    let resp = srv
        .auth()
        .login(credit_desk_proto::pb::LoginRequest {
            username: username.into(),
            password: password.into(),
            terminal: "test".into(),
        })
        .await?;
    Ok(resp.into_inner().session_token)
}

// Shared by the query and objection tests: demo data with court records,
// a verified demo person, a self-query.

use credit_desk_proto::pb::{
    self as pbq, VerificationMethod, identity_client::IdentityClient, query_client::QueryClient,
    run_query_request::Basis,
};
use credit_desk_server::db::org_units;
use credit_desk_server::demo::DEMO_PEOPLE;
use credit_desk_server::intake::{self, Job};

pub use credit_desk_server::demo::COURT_EXAMPLE as COURT;

pub fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The fields a validation error names.
pub fn violations(e: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    e.get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Adds an operator with the demo password and no pending change.
pub async fn add_operator(srv: &TestServer, username: &str, role: pbq::Role, unit_code: &str) {
    credit_desk_server::setup::add_operator(
        &srv.db,
        credit_desk_server::setup::OperatorSpec {
            username,
            display_name: username,
            role,
            unit_code,
            password: DEMO_PASSWORD,
            must_change_password: false,
        },
        T0,
    )
    .await
    .unwrap();
}

pub async fn unit(srv: &TestServer, code: &str) -> String {
    let mut conn = srv.db.read().await.unwrap();
    org_units::get_by_code(&mut conn, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Imports the court fixture plus one negative record that ended in 2019
/// (older than five years), all about demo person 1 (李建国) and others.
pub async fn load_records(srv: &TestServer) {
    let dept = {
        let mut conn = srv.db.read().await.unwrap();
        org_units::get_by_code(&mut conn, "D-COURT")
            .await
            .unwrap()
            .unwrap()
    };
    let old = "当事人证件号码,当事人名称,案号,类别,立案日期,结案日期,执行状态
441284196508120010,李建国,(2016)粤1284民初1号,判决执行,2016-01-05,2019-06-30,已履行
";
    for (name, bytes) in [("court.xlsx", COURT), ("old.csv", old.as_bytes())] {
        let job = Job {
            department: &dept,
            file_name: name,
            bytes,
            operator_id: None,
            dry_run: false,
            period: None,
            lang: credit_desk_proto::Lang::Zh,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            now_ms: T0,
            cancel: None,
        };
        intake::run(&srv.db, job, |_, _| {}).await.unwrap();
    }
}

/// Verifies demo person `i`; returns (subject id, verification id).
pub async fn verify(srv: &TestServer, token: &str, i: usize) -> (String, String) {
    let (number, name, ..) = DEMO_PEOPLE[i];
    let req = pbq::VerifyRequest {
        request_id: rid(),
        identifier: number.into(),
        name: name.into(),
        method: VerificationMethod::IdCardInspected as i32,
        ..Default::default()
    };
    let resp = IdentityClient::new(srv.channel.clone())
        .verify(authed(req, token))
        .await
        .unwrap()
        .into_inner();
    (resp.subject.unwrap().id, resp.verification.unwrap().id)
}

pub fn self_query(subject: &str, verification: &str) -> pbq::RunQueryRequest {
    pbq::RunQueryRequest {
        request_id: rid(),
        subject_id: subject.into(),
        basis: Some(Basis::SelfBasis(pbq::SelfBasis {
            verification_id: verification.into(),
        })),
        ..Default::default()
    }
}

pub async fn run(
    srv: &TestServer,
    token: &str,
    req: pbq::RunQueryRequest,
) -> pbq::RunQueryResponse {
    QueryClient::new(srv.channel.clone())
        .run_query(authed(req, token))
        .await
        .unwrap()
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
