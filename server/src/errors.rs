//! Every failure a service can report, and how it becomes a gRPC status:
//! a status code, a message in the caller's language, and rich details
//! (`ErrorInfo` with a machine-readable reason, `BadRequest` with one
//! violation per field) so the workstation can put each message next to its
//! field.

use crate::clock::local_time;
use credit_desk_proto::Lang;
use credit_desk_proto::errors as reason;
use credit_desk_proto::validate::{FieldError, Rule};
use std::collections::HashMap;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid fields: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("account locked until {until_ms}")]
    Locked { until_ms: i64 },
    #[error("account disabled")]
    Disabled,
    #[error("no session")]
    Unauthenticated,
    #[error("session expired")]
    SessionExpired,
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("permission denied")]
    PermissionDenied,
    #[error("outside the caller's org unit")]
    OutOfScope,
    #[error("{field} already exists")]
    AlreadyExists { field: &'static str },
    /// It exists already, in the thing named (a clerk can go on there).
    #[error("{field} already exists in {within}")]
    AlreadyExistsIn { field: &'static str, within: String },
    #[error("{field} not found")]
    NotFound { field: &'static str },
    #[error("request id reused for a different request")]
    RequestIdReused,
    #[error("changed by {by} at {at_ms}")]
    Stale { by: String, at_ms: i64 },
    /// A state rule refused the act (machine rule name, message per language).
    #[error("{rule}")]
    WrongState {
        rule: &'static str,
        zh: String,
        en: String,
    },
    /// The password hashing queue is full.
    #[error("busy; retry after {retry_after_ms} ms")]
    Busy { retry_after_ms: u64 },
    /// The caller's address has used up its unsuccessful logins.
    #[error("too many attempts; retry after {retry_after_ms} ms")]
    TooManyAttempts { retry_after_ms: u64 },
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Validation(vec![e])
    }
}

impl From<crate::authz::Denied> for ApiError {
    fn from(d: crate::authz::Denied) -> Self {
        match d {
            crate::authz::Denied::OutOfScope => ApiError::OutOfScope,
            crate::authz::Denied::Role => ApiError::PermissionDenied,
        }
    }
}

/// A verification that cannot serve an act is a bad `verification_id`:
/// one from another counter is as unknown here as one that never existed.
impl From<crate::authz::VerificationRefusal> for ApiError {
    fn from(r: crate::authz::VerificationRefusal) -> Self {
        use crate::authz::VerificationRefusal as V;
        let rule = match r {
            V::OtherUnit | V::OtherSubject => Rule::UnknownValue,
            V::Expired => Rule::Expired,
        };
        FieldError::new(credit_desk_proto::validate::field::VERIFICATION_ID, rule).into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An answer's message travels in HTTP/2 headers (`grpc-message`,
/// percent-encoded: nine bytes for a Chinese character, and again inside
/// `grpc-status-details-bin`). A client drops the whole connection — every
/// call on it — when a header block passes its limit (16 KiB by default),
/// so no answer may carry more than these many characters of text.
const SUMMARY_CHARS: usize = 300;
const VIOLATION_CHARS: usize = 150;
const VIOLATIONS: usize = 10;

/// `text` cut to `max` characters, marked with … when cut.
fn fit(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A short random id to find an internal error in the server log.
pub fn incident_id() -> String {
    let mut bytes = [0u8; 5];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl From<crate::password::Busy> for ApiError {
    fn from(b: crate::password::Busy) -> Self {
        ApiError::Busy {
            retry_after_ms: b.retry_after_ms,
        }
    }
}

impl ApiError {
    pub fn into_status(self, lang: Lang) -> Status {
        let mut metadata = HashMap::new();
        let (code, why, message) = match &self {
            ApiError::Validation(errors) => {
                let violations = errors
                    .iter()
                    .take(VIOLATIONS)
                    .map(|e| FieldViolation::new(e.field, fit(e.message(lang), VIOLATION_CHARS)))
                    .collect::<Vec<_>>();
                let summary = errors
                    .iter()
                    .map(|e| e.describe(lang))
                    .collect::<Vec<_>>()
                    .join("; ");
                let summary = fit(summary, SUMMARY_CHARS);
                let mut details = ErrorDetails::with_bad_request(violations);
                details.set_error_info(reason::VALIDATION, reason::DOMAIN, HashMap::new());
                return Status::with_error_details(Code::InvalidArgument, summary, details);
            }
            ApiError::BadCredentials => (
                Code::Unauthenticated,
                reason::BAD_CREDENTIALS,
                lang.pick("用户名或密码错误", "wrong username or password")
                    .to_string(),
            ),
            ApiError::Locked { until_ms } => {
                metadata.insert("locked_until_ms".to_string(), until_ms.to_string());
                let at = local_time(*until_ms);
                (
                    Code::PermissionDenied,
                    reason::ACCOUNT_LOCKED,
                    lang.pick(
                        format!("连续登录失败次数过多，账号锁定至 {at}"),
                        format!("too many failed logins; the account is locked until {at}"),
                    ),
                )
            }
            ApiError::Disabled => (
                Code::PermissionDenied,
                reason::ACCOUNT_DISABLED,
                lang.pick(
                    "账号已停用，请联系管理员",
                    "the account is disabled; ask an administrator",
                )
                .to_string(),
            ),
            ApiError::Unauthenticated => (
                Code::Unauthenticated,
                reason::UNAUTHENTICATED,
                lang.pick(
                    "未登录或会话无效，请重新登录",
                    "not logged in or the session is invalid; log in again",
                )
                .to_string(),
            ),
            ApiError::SessionExpired => (
                Code::Unauthenticated,
                reason::SESSION_EXPIRED,
                lang.pick(
                    "会话已过期，请重新登录",
                    "the session has expired; log in again",
                )
                .to_string(),
            ),
            ApiError::PasswordChangeRequired => (
                Code::FailedPrecondition,
                reason::PASSWORD_CHANGE_REQUIRED,
                lang.pick("请先修改初始密码", "change your initial password first")
                    .to_string(),
            ),
            ApiError::PermissionDenied => (
                Code::PermissionDenied,
                reason::PERMISSION_DENIED,
                lang.pick("当前角色无权执行此操作", "your role may not do this")
                    .to_string(),
            ),
            ApiError::OutOfScope => (
                Code::PermissionDenied,
                reason::OUT_OF_SCOPE,
                lang.pick("对象不在本机构管辖范围内", "that is outside your org unit")
                    .to_string(),
            ),
            ApiError::AlreadyExists { field } | ApiError::AlreadyExistsIn { field, .. } => {
                metadata.insert("field".to_string(), field.to_string());
                let exists = match &self {
                    ApiError::AlreadyExistsIn { within, .. } => {
                        lang.pick(format!("已在 {within} 中"), format!("already in {within}"))
                    }
                    _ => lang.pick("已存在", "already exists").to_string(),
                };
                let mut details = ErrorDetails::with_bad_request_violation(*field, &exists);
                details.set_error_info(reason::ALREADY_EXISTS, reason::DOMAIN, metadata);
                let label = credit_desk_proto::validate::field_label(field, lang);
                let msg = lang.pick(format!("{label}：{exists}"), format!("{label}: {exists}"));
                return Status::with_error_details(Code::AlreadyExists, msg, details);
            }
            ApiError::NotFound { field } => {
                metadata.insert("field".to_string(), field.to_string());
                (Code::NotFound, reason::NOT_FOUND, {
                    let label = credit_desk_proto::validate::field_label(field, lang);
                    lang.pick(format!("{label}：不存在"), format!("{label}: not found"))
                })
            }
            ApiError::RequestIdReused => (
                Code::InvalidArgument,
                reason::REQUEST_ID_REUSED,
                lang.pick(
                    "请求编号已用于另一个不同的请求",
                    "this request id was already used for a different request",
                )
                .to_string(),
            ),
            ApiError::Stale { by, at_ms } => {
                metadata.insert("changed_by".to_string(), by.clone());
                metadata.insert("changed_at_ms".to_string(), at_ms.to_string());
                let at = local_time(*at_ms);
                (
                    Code::Aborted,
                    reason::STALE_VERSION,
                    lang.pick(
                        format!("已被 {by} 于 {at} 修改，请刷新后重新操作"),
                        format!("changed by {by} at {at}; reload and try again"),
                    ),
                )
            }
            ApiError::WrongState { rule, zh, en } => {
                metadata.insert("rule".to_string(), rule.to_string());
                (
                    Code::FailedPrecondition,
                    reason::WRONG_STATE,
                    lang.pick(zh.clone(), en.clone()),
                )
            }
            ApiError::Busy { retry_after_ms } => {
                metadata.insert("retry_after_ms".to_string(), retry_after_ms.to_string());
                let s = retry_after_ms.div_ceil(1000);
                (
                    Code::ResourceExhausted,
                    reason::BUSY,
                    lang.pick(
                        format!("服务器正忙，请 {s} 秒后重试"),
                        format!("the server is busy; try again in {s} s"),
                    ),
                )
            }
            ApiError::TooManyAttempts { retry_after_ms } => {
                metadata.insert("retry_after_ms".to_string(), retry_after_ms.to_string());
                let m = retry_after_ms.div_ceil(60_000);
                (
                    Code::ResourceExhausted,
                    reason::TOO_MANY_ATTEMPTS,
                    lang.pick(
                        format!("本终端登录失败次数过多，请 {m} 分钟后再试"),
                        format!("too many failed logins from this terminal; try again in {m} min"),
                    ),
                )
            }
            ApiError::Internal(e) => {
                // The cause goes to the log, not to the terminal; the
                // incident id joins the two when the clerk reports it.
                let incident = incident_id();
                tracing::error!(incident, error = %e, "internal error");
                metadata.insert("incident".to_string(), incident.clone());
                (
                    Code::Internal,
                    reason::INTERNAL,
                    lang.pick(
                        format!("服务器内部错误，请稍后重试（事件编号 {incident}）"),
                        format!("internal server error; try again later (incident {incident})"),
                    ),
                )
            }
        };
        Status::with_error_details(
            code,
            message,
            ErrorDetails::with_error_info(why, reason::DOMAIN, metadata),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credit_desk_proto::validate::{Rule, field};

    /// The fuzzer found a calendar file whose errors quoted 20 KB of it:
    /// the answer's headers passed the client's limit and the client
    /// dropped its connection, failing every other call on it.
    #[test]
    fn an_answer_fits_in_a_clients_header_limit_whatever_it_quotes() {
        let long = "日".repeat(100_000);
        let errors = (0..50)
            .map(|_| FieldError::new(field::FILE, Rule::BadFile(long.clone())))
            .collect();
        let http = ApiError::Validation(errors)
            .into_status(Lang::Zh)
            .into_http::<()>();
        let bytes: usize = http
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        assert!(bytes < 12 * 1024, "{bytes} bytes of headers");
        let short = ApiError::from(FieldError::new(field::FILE, Rule::BadFile("坏".into())))
            .into_status(Lang::Zh);
        assert!(short.message().contains('坏') && !short.message().contains('…'));
    }

    #[test]
    fn validation_lists_every_field() {
        let status = ApiError::Validation(vec![
            FieldError::new(field::USERNAME, Rule::Required),
            FieldError::new(field::CODE, Rule::TooShort { min: 2 }),
        ])
        .into_status(Lang::En);
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad = status.get_details_bad_request().unwrap();
        let fields: Vec<_> = bad
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["username", "code"]);
        assert_eq!(
            bad.field_violations[1].description,
            "must be at least 2 characters"
        );
        assert_eq!(
            status.get_details_error_info().unwrap().reason,
            reason::VALIDATION
        );
    }

    #[test]
    fn lock_carries_its_end() {
        let status = ApiError::Locked { until_ms: 42 }.into_status(Lang::Zh);
        assert_eq!(status.code(), Code::PermissionDenied);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, reason::ACCOUNT_LOCKED);
        assert_eq!(info.metadata["locked_until_ms"], "42");
        assert!(status.message().contains("锁定至"), "{}", status.message());
    }

    #[test]
    fn busy_says_when_to_retry() {
        let status = ApiError::Busy {
            retry_after_ms: 1_200,
        }
        .into_status(Lang::Zh);
        assert_eq!(status.code(), Code::ResourceExhausted);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, reason::BUSY);
        assert_eq!(info.metadata["retry_after_ms"], "1200");
        assert!(
            status.message().contains("2 秒后重试"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status = ApiError::Internal(anyhow::anyhow!("disk on fire")).into_status(Lang::En);
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("disk"));
        let incident = &status.get_details_error_info().unwrap().metadata["incident"];
        assert_eq!(incident.len(), 10);
        assert!(
            status.message().contains(incident.as_str()),
            "{}",
            status.message()
        );
    }
}
