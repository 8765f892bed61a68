//! The link to the server: one lazily connected gRPC channel over a TCP
//! connector that counts the bytes on the wire, and one enum per call so the
//! app can hand requests to background tasks without knowing tonic.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use credit_desk_proto::pb::{
    self, admin_client::AdminClient, auth_client::AuthClient, complaint_client::ComplaintClient,
    consent_client::ConsentClient, identity_client::IdentityClient, intake_client::IntakeClient,
    objection_client::ObjectionClient, query_client::QueryClient,
    supervision_client::SupervisionClient,
};
use credit_desk_proto::validate::{IMPORT_FILE_MAX_BYTES, field};
use credit_desk_proto::{LANG_METADATA_KEY, Lang};

/// The largest calendar file the workstation sends (the server's limit).
const CALENDAR_FILE_MAX_BYTES: usize = 256 * 1024;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Uri};

use crate::transport::{Link, Transport};
use tonic::{Code, Request, Status};

/// Bytes sent and received on the wire (below TLS) this session.
#[derive(Debug, Default)]
pub struct Meter {
    pub sent: AtomicU64,
    pub received: AtomicU64,
}

impl Meter {
    pub fn totals(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
}

/// A stream that adds what passes through it to a [`Meter`].
pub struct Counting<S> {
    inner: S,
    meter: Arc<Meter>,
    /// Counted as the far end sees it (the SSH endpoint's socket: what the
    /// clerk sent is what this side reads).
    mirrored: bool,
}

impl<S> Counting<S> {
    pub fn new(inner: S, meter: Arc<Meter>) -> Counting<S> {
        Counting {
            inner,
            meter,
            mirrored: false,
        }
    }

    /// Counts for the peer: reads are its sends, writes its receipts.
    pub fn mirrored(inner: S, meter: Arc<Meter>) -> Counting<S> {
        Counting {
            inner,
            meter,
            mirrored: true,
        }
    }

    fn count(&self, read: bool, n: usize) {
        let counter = match read != self.mirrored {
            true => &self.meter.received,
            false => &self.meter.sent,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.count(true, buf.filled().len() - before);
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.count(false, *n);
        }
        poll
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One request to the server.
#[derive(Debug, Clone)]
pub enum Call {
    Login(pb::LoginRequest),
    Logout,
    ChangePassword(pb::ChangePasswordRequest),
    Home,
    ListOrgUnits,
    CreateOrgUnit(pb::CreateOrgUnitRequest),
    ListOperators(pb::ListOperatorsRequest),
    CreateOperator(pb::CreateOperatorRequest),
    SetOperatorEnabled(pb::SetOperatorEnabledRequest),
    UpdateOperator(pb::UpdateOperatorRequest),
    UpdateOrgUnit(pb::UpdateOrgUnitRequest),
    /// The center's settings.
    ListSettings,
    ChangeSetting(pb::ChangeSettingRequest),
    /// Brings a retired purpose back, by its code.
    RestorePurpose(String),
    ResetPassword(pb::ResetPasswordRequest),
    /// An operator's SSH keys, by operator id.
    ListSshKeys(String),
    AddSshKey(pb::AddSshKeyRequest),
    RemoveSshKey(pb::RemoveSshKeyRequest),
    Verify(pb::VerifyRequest),
    ListImports,
    AcceptConflict(pb::AcceptConflictRequest),
    RunQuery(pb::RunQueryRequest),
    /// Purposes, grantees and categories; retired purposes too when asked.
    /// `known_version`: the version held, to be told it is still current.
    ListPurposes {
        include_retired: bool,
        known_version: String,
    },
    AddPurpose(pb::AddPurposeRequest),
    RetirePurpose(String),
    AddExplanation(pb::AddExplanationRequest),
    CaptureConsent(pb::CaptureConsentRequest),
    /// Live consents for a subject, by identity number.
    FindConsents(String),
    /// All consents of a subject, by subject id.
    ListConsents(String),
    WithdrawConsent(pb::WithdrawConsentRequest),
    /// The years of the working-day calendar, and one year's days (0: none).
    GetCalendar(i32),
    /// Reads a calendar CSV on this workstation and asks for a preview of
    /// importing it.
    PreviewCalendarFile(std::path::PathBuf),
    /// A calendar change: previewed, or (`confirm`) applied.
    ChangeCalendar(pb::ChangeCalendarRequest),
    FileObjection(pb::FileObjectionRequest),
    GetTicket(String),
    ActOnTicket(pb::ActOnTicketRequest),
    AddStatement(pb::AddStatementRequest),
    ListQueue(pb::ListQueueRequest),
    SearchQueryLog(pb::SearchQueryLogRequest),
    /// Complaints: "" the open ones, "all" the last year's too.
    ListComplaints(String),
    FileComplaint(pb::FileComplaintRequest),
    AssignComplaint(pb::AssignComplaintRequest),
    AnswerComplaint(pb::AnswerComplaintRequest),
    /// A finished day's review, by its date.
    GetDayReview(String),
    ConcludeAlert(pb::ConcludeAlertRequest),
    SignOffDay(String),
    /// A finished month's security statistics, by its `YYYY-MM`.
    GetMonthReport(String),
    RegisterSubject(pb::RegisterSubjectRequest),
    /// The registry by name or whole number.
    ListSubjects(pb::ListSubjectsRequest),
    /// A subject's card, by its id.
    GetSubject(String),
    CreateHousehold(pb::CreateHouseholdRequest),
    ChangeHousehold(pb::ChangeHouseholdRequest),
    FindTickets(pb::FindTicketsRequest),
    UnlockOperator(String),
    /// The caller's own verifications and queries today.
    MyDay,
    /// An issued report by its number (补打).
    GetIssuedReport(String),
    SignOffMonth(pb::SignOffMonthRequest),
    /// Saves a month's statistics as .xlsx into the working folder.
    ExportMonthReport(String),
    /// Exports the attempts matching a filter as .xlsx into the working
    /// folder of this workstation.
    ExportQueryLog(pb::QueryLogFilter),
    /// Writes a printable document to a file on this workstation.
    SaveText {
        path: std::path::PathBuf,
        text: String,
    },
    /// Reads the file at `path` on this workstation and uploads it.
    ImportFile {
        request_id: String,
        department_id: String,
        path: std::path::PathBuf,
        dry_run: bool,
        /// The delivery period; empty: proposed from the file's dates.
        period: String,
    },
}

impl Call {
    /// Whether the call only reads: nothing on the server changes, so the
    /// menu's counters stay true.
    pub fn only_reads(&self) -> bool {
        matches!(
            self,
            Call::Home
                | Call::ListOrgUnits
                | Call::ListOperators(_)
                | Call::ListSshKeys(_)
                | Call::ListImports
                | Call::ListPurposes { .. }
                | Call::FindConsents(_)
                | Call::ListConsents(_)
                | Call::GetCalendar(_)
                | Call::PreviewCalendarFile(_)
                | Call::GetTicket(_)
                | Call::ListQueue(_)
                | Call::SearchQueryLog(_)
                | Call::ListComplaints(_)
                | Call::GetDayReview(_)
                | Call::GetMonthReport(_)
                | Call::GetIssuedReport(_)
                | Call::FindTickets(_)
                | Call::ListSubjects(_)
                | Call::GetSubject(_)
                | Call::MyDay
                | Call::ListSettings
                | Call::ExportMonthReport(_)
                | Call::ExportQueryLog(_)
                | Call::SaveText { .. }
        )
    }
}

/// The server's answer to a [`Call`].
#[derive(Debug, Clone)]
pub enum Answer {
    Login(pb::LoginResponse),
    LoggedOut,
    Home(pb::Home),
    OrgUnits(Vec<pb::OrgUnit>),
    OrgUnitCreated(pb::OrgUnit),
    OrgUnitUpdated(pb::OrgUnit),
    Settings(Vec<pb::Setting>),
    SettingChanged(Vec<pb::Setting>),
    Operators(pb::ListOperatorsResponse),
    OperatorCreated(pb::Operator),
    OperatorUpdated(pb::Operator),
    PasswordReset(pb::Operator),
    /// An operator's SSH keys (after a list, an add or a removal).
    SshKeys(Vec<pb::SshKey>),
    Verified(pb::VerifyResponse),
    Imports(pb::ListImportsResponse),
    Imported(pb::ImportSummary),
    ConflictAccepted(pb::AcceptConflictResponse),
    Queried(pb::RunQueryResponse),
    Purposes(pb::ListPurposesResponse),
    PurposeSaved(pb::Purpose),
    ExplanationAdded {
        record_id: String,
        explanation: pb::Explanation,
    },
    ConsentCaptured(pb::ConsentRecord),
    Consents(Vec<pb::ConsentRecord>),
    Saved(std::path::PathBuf),
    Calendar(pb::CalendarResponse),
    /// A calendar change previewed or applied, with the request that asked
    /// (confirming a preview sends it again).
    CalendarChanged(Box<(pb::ChangeCalendarRequest, pb::ChangeCalendarResponse)>),
    Ticket(Box<pb::Ticket>),
    StatementAdded {
        record_id: String,
        statement: pb::Explanation,
    },
    Queue(pb::ListQueueResponse),
    QueryLog(pb::SearchQueryLogResponse),
    DayReview(pb::DayReview),
    MonthReport(pb::MonthReport),
    Registered(pb::RegisterSubjectResponse),
    Subjects(pb::ListSubjectsResponse),
    SubjectCard(Box<pb::GetSubjectResponse>),
    IssuedReport(Box<pb::Report>),
    FoundTickets(pb::FindTicketsResponse),
    MyDay(pb::MyDayResponse),
    Unlocked(pb::Operator),
    Complaints(Vec<pb::ComplaintRecord>),
    Complaint(pb::ComplaintRecord),
}

#[derive(Clone)]
pub struct Client {
    link: Link,
    lang: Lang,
    pub meter: Arc<Meter>,
    pub server: String,
}

impl Client {
    /// Prepares a channel; nothing connects until the first call (or
    /// [`Client::connect_early`]), and a dropped connection is
    /// re-established by the next one.
    pub fn new(server: &str, lang: Lang, ca_pem: Option<Vec<u8>>) -> anyhow::Result<Client> {
        let mut endpoint = Endpoint::from_shared(server.to_string())
            .map_err(|e| anyhow::anyhow!("--server {server}: {e}"))?
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            // A township link that dies mid-call is noticed within ~20 s
            // (a ping unanswered for 10 s after at most 10 s); an idle link
            // is never pinged from here (the server's rare pings reap dead
            // connections on its side).
            // Answers are small: HTTP/2's own 64 KiB connection window
            // needs no WINDOW_UPDATE at the start (13 bytes a connection).
            .initial_connection_window_size(65_535)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(false);
        if server.starts_with("https://") {
            let mut tls = ClientTlsConfig::new();
            if let Some(pem) = ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        let meter = Arc::new(Meter::default());
        let m = meter.clone();
        let connector = tower::service_fn(move |uri: Uri| {
            let meter = m.clone();
            async move {
                let host = uri
                    .host()
                    .unwrap_or("127.0.0.1")
                    .trim_matches(['[', ']'])
                    .to_string();
                let port = uri
                    .port_u16()
                    .unwrap_or(if uri.scheme_str() == Some("https") {
                        443
                    } else {
                        80
                    });
                let tcp = TcpStream::connect((host.as_str(), port)).await?;
                tcp.set_nodelay(true)?;
                Ok::<_, std::io::Error>(TokioIo::new(Counting::new(tcp, meter)))
            }
        });
        Ok(Client {
            link: Link::new(move || {
                let (endpoint, connector) = (endpoint.clone(), connector.clone());
                async move { endpoint.connect_with_connector(connector).await }
            }),
            lang,
            meter,
            server: server.to_string(),
        })
    }

    /// A client whose connections are made by `dial` inside this process
    /// (the SSH endpoint's sessions reach the services this way, with no
    /// socket and no TLS). `label` names the link on the status bar.
    pub fn in_process<F, Fut, IO>(label: &str, lang: Lang, dial: F) -> Client
    where
        F: Fn() -> Fut + Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = std::io::Result<IO>> + Send + 'static,
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let endpoint =
            Endpoint::from_static("http://in-process.invalid").timeout(Duration::from_secs(30));
        let connector = tower::service_fn(move |_: Uri| {
            let dial = dial.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(dial().await?)) }
        });
        Client {
            link: Link::new(move || {
                let (endpoint, connector) = (endpoint.clone(), connector.clone());
                async move { endpoint.connect_with_connector(connector).await }
            }),
            lang,
            meter: Arc::new(Meter::default()),
            server: label.to_string(),
        }
    }

    fn complaint(ch: &Transport) -> ComplaintClient<Transport> {
        ComplaintClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
    }

    fn identity(ch: &Transport) -> IdentityClient<Transport> {
        IdentityClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
    }

    fn supervision(ch: &Transport) -> SupervisionClient<Transport> {
        SupervisionClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(8 * 1024 * 1024)
    }

    fn consent(ch: &Transport) -> ConsentClient<Transport> {
        ConsentClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
    }

    /// Opens the connection now, in the background (TCP, TLS, HTTP/2: a
    /// round trip or more on a township line), so the clerk's first real
    /// request — the login — does not wait for it.
    pub fn connect_early(&self) {
        self.link.connect_early();
    }

    fn query(ch: &Transport) -> QueryClient<Transport> {
        QueryClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
    }

    fn objection(ch: &Transport) -> ObjectionClient<Transport> {
        ObjectionClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
    }

    fn intake(ch: &Transport) -> IntakeClient<Transport> {
        IntakeClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_encoding_message_size(64 * 1024 * 1024)
    }

    fn request<T>(&self, token: Option<&str>, message: T) -> Request<T> {
        let mut req = Request::new(message);
        // The server answers in the default language unless told otherwise.
        if self.lang != Lang::default()
            && let Ok(v) = self.lang.tag().parse()
        {
            req.metadata_mut().insert(LANG_METADATA_KEY, v);
        }
        if let Some(token) = token
            && let Ok(v) = token.parse()
        {
            req.metadata_mut()
                .insert(credit_desk_proto::SESSION_METADATA_KEY, v);
        }
        req
    }

    /// Sends one call. `progress(done, total)` hears about streamed
    /// progress (imports); other calls never call it.
    pub async fn call(
        &self,
        token: Option<&str>,
        call: Call,
        progress: &(dyn Fn(u32, u32) + Send + Sync),
    ) -> Result<Answer, Status> {
        let ch = self.link.transport().await?;
        let mut auth = AuthClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd);
        let mut admin = AdminClient::new(ch.clone())
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd);
        // A macro, not a closure: each call has its own message type.
        macro_rules! r {
            ($m:expr) => {
                self.request(token, $m)
            };
        }
        Ok(match call {
            Call::Login(m) => Answer::Login(auth.login(r!(m)).await?.into_inner()),
            Call::Logout => {
                auth.logout(r!(pb::LogoutRequest {})).await?;
                Answer::LoggedOut
            }
            Call::ChangePassword(m) => Answer::Home(
                auth.change_password(r!(m))
                    .await?
                    .into_inner()
                    .home
                    .unwrap_or_default(),
            ),
            Call::Home => Answer::Home(
                auth.home(r!(pb::HomeRequest {}))
                    .await?
                    .into_inner()
                    .home
                    .unwrap_or_default(),
            ),
            Call::ListOrgUnits => Answer::OrgUnits(
                admin
                    .list_org_units(r!(pb::ListOrgUnitsRequest {}))
                    .await?
                    .into_inner()
                    .org_units,
            ),
            Call::CreateOrgUnit(m) => Answer::OrgUnitCreated(
                admin
                    .create_org_unit(r!(m))
                    .await?
                    .into_inner()
                    .org_unit
                    .unwrap_or_default(),
            ),
            Call::ListOperators(m) => {
                Answer::Operators(admin.list_operators(r!(m)).await?.into_inner())
            }
            Call::CreateOperator(m) => Answer::OperatorCreated(
                admin
                    .create_operator(r!(m))
                    .await?
                    .into_inner()
                    .operator
                    .unwrap_or_default(),
            ),
            Call::SetOperatorEnabled(m) => Answer::OperatorUpdated(
                admin
                    .set_operator_enabled(r!(m))
                    .await?
                    .into_inner()
                    .operator
                    .unwrap_or_default(),
            ),
            Call::UpdateOperator(m) => Answer::OperatorUpdated(
                admin
                    .update_operator(r!(m))
                    .await?
                    .into_inner()
                    .operator
                    .unwrap_or_default(),
            ),
            Call::UpdateOrgUnit(m) => Answer::OrgUnitUpdated(
                admin
                    .update_org_unit(r!(m))
                    .await?
                    .into_inner()
                    .org_unit
                    .unwrap_or_default(),
            ),
            Call::ListSettings => Answer::Settings(
                admin
                    .list_settings(r!(pb::ListSettingsRequest {}))
                    .await?
                    .into_inner()
                    .settings,
            ),
            Call::ChangeSetting(m) => {
                Answer::SettingChanged(admin.change_setting(r!(m)).await?.into_inner().settings)
            }
            Call::ListSshKeys(operator_id) => Answer::SshKeys(
                admin
                    .list_ssh_keys(r!(pb::ListSshKeysRequest { operator_id }))
                    .await?
                    .into_inner()
                    .keys,
            ),
            Call::AddSshKey(m) => {
                Answer::SshKeys(admin.add_ssh_key(r!(m)).await?.into_inner().keys)
            }
            Call::RemoveSshKey(m) => {
                Answer::SshKeys(admin.remove_ssh_key(r!(m)).await?.into_inner().keys)
            }
            Call::Verify(m) => {
                Answer::Verified(Self::identity(&ch).verify(r!(m)).await?.into_inner())
            }
            Call::RunQuery(m) => {
                Answer::Queried(Self::query(&ch).run_query(r!(m)).await?.into_inner())
            }
            Call::AddExplanation(m) => {
                let record_id = m.record_id.clone();
                Answer::ExplanationAdded {
                    record_id,
                    explanation: Self::query(&ch)
                        .add_explanation(r!(m))
                        .await?
                        .into_inner()
                        .explanation
                        .unwrap_or_default(),
                }
            }
            Call::ListPurposes {
                include_retired,
                known_version,
            } => Answer::Purposes(
                Self::consent(&ch)
                    .list_purposes(r!(pb::ListPurposesRequest {
                        include_retired,
                        known_version
                    }))
                    .await?
                    .into_inner(),
            ),
            Call::AddPurpose(m) => Answer::PurposeSaved(
                Self::consent(&ch)
                    .add_purpose(r!(m))
                    .await?
                    .into_inner()
                    .purpose
                    .unwrap_or_default(),
            ),
            Call::RestorePurpose(code) => Answer::PurposeSaved(
                Self::consent(&ch)
                    .restore_purpose(r!(pb::RetirePurposeRequest { code }))
                    .await?
                    .into_inner()
                    .purpose
                    .unwrap_or_default(),
            ),
            Call::RetirePurpose(code) => Answer::PurposeSaved(
                Self::consent(&ch)
                    .retire_purpose(r!(pb::RetirePurposeRequest { code }))
                    .await?
                    .into_inner()
                    .purpose
                    .unwrap_or_default(),
            ),
            Call::CaptureConsent(m) => Answer::ConsentCaptured(
                Self::consent(&ch)
                    .capture_consent(r!(m))
                    .await?
                    .into_inner()
                    .consent
                    .unwrap_or_default(),
            ),
            Call::FindConsents(identifier) => Answer::Consents(
                Self::consent(&ch)
                    .find_consents(r!(pb::FindConsentsRequest { identifier }))
                    .await?
                    .into_inner()
                    .consents,
            ),
            Call::ListConsents(subject_id) => Answer::Consents(
                Self::consent(&ch)
                    .list_consents(r!(pb::ListConsentsRequest { subject_id }))
                    .await?
                    .into_inner()
                    .consents,
            ),
            Call::WithdrawConsent(m) => Answer::ConsentCaptured(
                Self::consent(&ch)
                    .withdraw_consent(r!(m))
                    .await?
                    .into_inner()
                    .consent
                    .unwrap_or_default(),
            ),
            Call::GetCalendar(year) => Answer::Calendar(
                Self::objection(&ch)
                    .get_calendar(r!(pb::GetCalendarRequest { year }))
                    .await?
                    .into_inner(),
            ),
            Call::PreviewCalendarFile(path) => {
                let bytes = read_local_file(&path, self.lang, CALENDAR_FILE_MAX_BYTES).await?;
                let csv = String::from_utf8(bytes).map_err(|_| {
                    file_refusal(
                        self.lang,
                        "文件不是 UTF-8 编码的文本（请另存为 UTF-8 CSV）".into(),
                        "the file is not UTF-8 text (save it as UTF-8 CSV)".into(),
                    )
                })?;
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let req = pb::ChangeCalendarRequest {
                    change: Some(pb::change_calendar_request::Change::File(
                        pb::CalendarFile { file_name, csv },
                    )),
                    confirm: false,
                };
                let resp = Self::objection(&ch)
                    .change_calendar(r!(req.clone()))
                    .await?;
                Answer::CalendarChanged(Box::new((req, resp.into_inner())))
            }
            Call::ChangeCalendar(req) => {
                let resp = Self::objection(&ch)
                    .change_calendar(r!(req.clone()))
                    .await?;
                Answer::CalendarChanged(Box::new((req, resp.into_inner())))
            }
            Call::FileObjection(m) => Answer::Ticket(Box::new(
                Self::objection(&ch)
                    .file_objection(r!(m))
                    .await?
                    .into_inner()
                    .ticket
                    .unwrap_or_default(),
            )),
            Call::GetTicket(ticket_id) => Answer::Ticket(Box::new(
                Self::objection(&ch)
                    .get_ticket(r!(pb::GetTicketRequest { ticket_id }))
                    .await?
                    .into_inner()
                    .ticket
                    .unwrap_or_default(),
            )),
            Call::ActOnTicket(m) => Answer::Ticket(Box::new(
                Self::objection(&ch)
                    .act_on_ticket(r!(m))
                    .await?
                    .into_inner()
                    .ticket
                    .unwrap_or_default(),
            )),
            Call::AddStatement(m) => {
                let record_id = m.record_id.clone();
                let statement = Self::objection(&ch)
                    .add_statement(r!(m))
                    .await?
                    .into_inner()
                    .statement
                    .unwrap_or_default();
                Answer::StatementAdded {
                    record_id,
                    statement,
                }
            }
            Call::ListQueue(m) => {
                Answer::Queue(Self::objection(&ch).list_queue(r!(m)).await?.into_inner())
            }
            Call::SearchQueryLog(m) => Answer::QueryLog(
                Self::supervision(&ch)
                    .search_query_log(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::GetDayReview(day) => Answer::DayReview(
                Self::supervision(&ch)
                    .get_day_review(r!(pb::GetDayReviewRequest { day }))
                    .await?
                    .into_inner(),
            ),
            Call::ConcludeAlert(m) => Answer::DayReview(
                Self::supervision(&ch)
                    .conclude_alert(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::SignOffDay(day) => Answer::DayReview(
                Self::supervision(&ch)
                    .sign_off_day(r!(pb::SignOffDayRequest { day }))
                    .await?
                    .into_inner(),
            ),
            Call::UnlockOperator(operator_id) => Answer::Unlocked(
                admin
                    .unlock_operator(r!(pb::UnlockOperatorRequest { operator_id }))
                    .await?
                    .into_inner()
                    .operator
                    .unwrap_or_default(),
            ),
            Call::MyDay => Answer::MyDay(
                Self::query(&ch)
                    .my_day(r!(pb::MyDayRequest {}))
                    .await?
                    .into_inner(),
            ),
            Call::FindTickets(m) => {
                Answer::FoundTickets(Self::objection(&ch).find_tickets(r!(m)).await?.into_inner())
            }
            Call::GetIssuedReport(report_no) => Answer::IssuedReport(Box::new(
                Self::query(&ch)
                    .get_issued_report(r!(pb::GetIssuedReportRequest { report_no }))
                    .await?
                    .into_inner(),
            )),
            Call::ListSubjects(m) => {
                Answer::Subjects(Self::identity(&ch).list_subjects(r!(m)).await?.into_inner())
            }
            Call::GetSubject(subject_id) => {
                let m = pb::GetSubjectRequest { subject_id };
                Answer::SubjectCard(Box::new(
                    Self::identity(&ch).get_subject(r!(m)).await?.into_inner(),
                ))
            }
            Call::CreateHousehold(m) => Answer::SubjectCard(Box::new(
                Self::identity(&ch)
                    .create_household(r!(m))
                    .await?
                    .into_inner(),
            )),
            Call::ChangeHousehold(m) => Answer::SubjectCard(Box::new(
                Self::identity(&ch)
                    .change_household(r!(m))
                    .await?
                    .into_inner(),
            )),
            Call::RegisterSubject(m) => Answer::Registered(
                Self::identity(&ch)
                    .register_subject(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::GetMonthReport(month) => Answer::MonthReport(
                Self::supervision(&ch)
                    .get_month_report(r!(pb::GetMonthReportRequest { month }))
                    .await?
                    .into_inner(),
            ),
            Call::SignOffMonth(m) => Answer::MonthReport(
                Self::supervision(&ch)
                    .sign_off_month(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::ExportMonthReport(month) => {
                let export = Self::supervision(&ch)
                    .export_month_report(r!(pb::GetMonthReportRequest { month }))
                    .await?
                    .into_inner();
                Answer::Saved(save_export(export).await?)
            }
            Call::ListComplaints(state) => Answer::Complaints(
                Self::complaint(&ch)
                    .list_complaints(r!(pb::ListComplaintsRequest { state }))
                    .await?
                    .into_inner()
                    .complaints,
            ),
            Call::FileComplaint(m) => Answer::Complaint(
                Self::complaint(&ch)
                    .file_complaint(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::AssignComplaint(m) => Answer::Complaint(
                Self::complaint(&ch)
                    .assign_complaint(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::AnswerComplaint(m) => Answer::Complaint(
                Self::complaint(&ch)
                    .answer_complaint(r!(m))
                    .await?
                    .into_inner(),
            ),
            Call::ExportQueryLog(m) => {
                let export = Self::supervision(&ch)
                    .export_query_log(r!(m))
                    .await?
                    .into_inner();
                Answer::Saved(save_export(export).await?)
            }
            Call::SaveText { path, text } => {
                let target = print_document(&path, &text)
                    .await
                    .map_err(Status::failed_precondition)?;
                Answer::Saved(target)
            }
            Call::AcceptConflict(m) => Answer::ConflictAccepted(
                Self::intake(&ch).accept_conflict(r!(m)).await?.into_inner(),
            ),
            Call::ListImports => Answer::Imports(
                Self::intake(&ch)
                    .list_imports(r!(pb::ListImportsRequest {}))
                    .await?
                    .into_inner(),
            ),
            Call::ImportFile {
                request_id,
                department_id,
                path,
                dry_run,
                period,
            } => {
                let content = read_local_file(&path, self.lang, IMPORT_FILE_MAX_BYTES).await?;
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let req = pb::ImportFileRequest {
                    request_id,
                    department_id,
                    file_name,
                    content,
                    dry_run,
                    period,
                };
                let mut stream = Self::intake(&ch).import_file(r!(req)).await?.into_inner();
                loop {
                    match stream.message().await? {
                        Some(pb::ImportProgress {
                            summary: Some(s), ..
                        }) => break Answer::Imported(s),
                        Some(p) => progress(p.rows_done, p.rows_total),
                        None => return Err(Status::unavailable("the import stream ended early")),
                    }
                }
            }
            Call::ResetPassword(m) => Answer::PasswordReset(
                admin
                    .reset_password(r!(m))
                    .await?
                    .into_inner()
                    .operator
                    .unwrap_or_default(),
            ),
        })
    }
}

/// Environment variable naming the command a printout is handed to (on
/// its standard input), e.g. `lp -d counter1`. Without it, printouts are
/// written to a file in the current directory.
pub const PRINT_COMMAND_ENV: &str = "CREDIT_DESK_PRINT_COMMAND";

/// Hands a document to the print command, or writes it to `path`; returns
/// where it went, for the message.
/// Writes a file the server named into this folder, next to earlier ones:
/// only the name's last part is used (it cannot leave the folder), and an
/// existing file is never overwritten (`name-2.xlsx`, `name-3.xlsx` …).
/// A workbook from the server, saved under its own name in the folder the
/// workstation was started in.
async fn save_export(export: pb::ExportQueryLogResponse) -> Result<std::path::PathBuf, Status> {
    save_new(&export.file_name, &export.xlsx)
        .await
        .map_err(Status::failed_precondition)
}

async fn save_new(name: &str, bytes: &[u8]) -> Result<std::path::PathBuf, String> {
    use tokio::io::AsyncWriteExt;
    let name = std::path::Path::new(name);
    let stem = name
        .file_stem()
        .map_or_else(|| "export".into(), |s| s.to_string_lossy().into_owned());
    let ext = name
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    for n in 1..=999 {
        let path = std::path::PathBuf::from(match n {
            1 => format!("{stem}{ext}"),
            n => format!("{stem}-{n}{ext}"),
        });
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await;
        match file {
            Ok(mut f) => {
                // tokio writes in the background: done only once flushed.
                let written = async {
                    f.write_all(bytes).await?;
                    f.flush().await
                };
                written
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Err(format!("{stem}{ext}: too many files of that name here"))
}

async fn print_document(path: &std::path::Path, text: &str) -> Result<std::path::PathBuf, String> {
    print_to(std::env::var(PRINT_COMMAND_ENV).ok(), path, text).await
}

async fn print_to(
    command: Option<String>,
    path: &std::path::Path,
    text: &str,
) -> Result<std::path::PathBuf, String> {
    use tokio::io::AsyncWriteExt;
    let Some(command) = command else {
        tokio::fs::write(path, text)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(path.to_path_buf());
    };
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{command}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("{command}: {e}"))?;
    }
    let status = child.wait().await.map_err(|e| format!("{command}: {e}"))?;
    if !status.success() {
        return Err(format!("{command}: {status}"));
    }
    Ok(std::path::PathBuf::from(format!("| {command}")))
}

/// Whether a failure is the link's (retry it) rather than the server's
/// answer (show it).
pub fn is_link_failure(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded => true,
        // A connection that broke mid-call ("transport error", an HTTP/2
        // reset) comes from this side's transport, not from the server: the
        // server's own answers never carry a source error.
        Code::Unknown | Code::Internal | Code::Cancelled => {
            std::error::Error::source(status).is_some()
        }
        _ => false,
    }
}

/// A refusal for the form's file field, in the clerk's language.
fn file_refusal(lang: Lang, zh: String, en: String) -> Status {
    use tonic_types::StatusExt;
    let message = lang.pick(zh, en);
    let details = tonic_types::ErrorDetails::with_bad_request_violation(field::FILE, &message);
    Status::with_error_details(tonic::Code::InvalidArgument, message, details)
}

/// The file a clerk named (at most `max` bytes), or a refusal for the
/// form's file field in the clerk's language (not the system's "os error 2").
async fn read_local_file(
    path: &std::path::Path,
    lang: Lang,
    max: usize,
) -> Result<Vec<u8>, Status> {
    use std::io::ErrorKind;
    let refuse = |zh: String, en: String| file_refusal(lang, zh, en);
    let shown = path.display();
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => {
                refuse(format!("找不到文件 {shown}"), format!("no file {shown}"))
            }
            ErrorKind::PermissionDenied => refuse(
                format!("无权读取文件 {shown}"),
                format!("not allowed to read {shown}"),
            ),
            _ => refuse(
                format!("无法读取文件 {shown}"),
                format!("cannot read {shown}"),
            ),
        })?;
    if meta.is_dir() {
        return Err(refuse(
            format!("{shown} 是文件夹，请填写文件路径"),
            format!("{shown} is a folder; give a file's path"),
        ));
    }
    if meta.len() > max as u64 {
        let kib = max >> 10;
        return Err(refuse(
            format!("文件超过上限 {kib} KiB"),
            format!("the file is larger than {kib} KiB"),
        ));
    }
    tokio::fs::read(path).await.map_err(|_| {
        refuse(
            format!("无法读取文件 {shown}"),
            format!("cannot read {shown}"),
        )
    })
}

/// Wait before retry number `attempt` (1-based): 1, 2, 4, 8, then 15 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs((1u64 << attempt.saturating_sub(1).min(4)).min(15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_is_the_link_not_the_server() {
        assert!(is_link_failure(&Status::unavailable("down")));
        // The server's own answers are shown, not retried.
        assert!(!is_link_failure(&Status::unknown("the server said so")));
        assert!(!is_link_failure(&Status::invalid_argument("bad")));
        // A transport error mid-call (it carries its cause) is retried.
        let cut: Box<dyn std::error::Error + Send + Sync> = "connection reset".into();
        let status = Status::from_error(cut);
        assert_eq!(status.code(), Code::Unknown);
        assert!(is_link_failure(&status));
    }

    #[test]
    fn backoff_grows_and_caps() {
        let secs: Vec<u64> = (1..=7).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 15, 15, 15]);
    }

    #[test]
    fn link_failures_are_retried_answers_are_not() {
        assert!(is_link_failure(&Status::unavailable("down")));
        assert!(is_link_failure(&Status::deadline_exceeded("slow")));
        assert!(!is_link_failure(&Status::invalid_argument("bad")));
        assert!(!is_link_failure(&Status::unauthenticated("who")));
    }

    #[tokio::test]
    async fn printouts_go_to_the_print_command_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.txt");
        // No command configured in the test environment: a file.
        assert!(std::env::var(PRINT_COMMAND_ENV).is_err());
        assert_eq!(print_document(&file, "报告\n").await.unwrap(), file);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "报告\n");
        // A print command gets the document on its standard input.
        let spool = dir.path().join("spool.txt");
        let command = format!("cat > '{}'", spool.display());
        let went = print_to(Some(command.clone()), &file, "第 1/1 页\n")
            .await
            .unwrap();
        assert_eq!(went, std::path::PathBuf::from(format!("| {command}")));
        assert_eq!(std::fs::read_to_string(&spool).unwrap(), "第 1/1 页\n");
        assert!(print_to(Some("exit 3".into()), &file, "x").await.is_err());
    }

    #[test]
    fn bad_server_url_is_named() {
        let err = Client::new("not a url", Lang::En, None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("--server"), "{err}");
    }
}
