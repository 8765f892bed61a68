//! Machine-readable error reasons. The server puts one in the `ErrorInfo`
//! detail of every error status (domain [`DOMAIN`]); the client maps it to a
//! message in its own catalogue and, for validation errors, shows each field
//! violation next to its field.

pub const DOMAIN: &str = "creditdesk";

pub const BAD_CREDENTIALS: &str = "BAD_CREDENTIALS";
/// Metadata `locked_until_ms`: when the lock ends.
pub const ACCOUNT_LOCKED: &str = "ACCOUNT_LOCKED";
pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
pub const SESSION_EXPIRED: &str = "SESSION_EXPIRED";
pub const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
pub const OUT_OF_SCOPE: &str = "OUT_OF_SCOPE";
pub const PASSWORD_CHANGE_REQUIRED: &str = "PASSWORD_CHANGE_REQUIRED";
pub const VALIDATION: &str = "VALIDATION";
pub const ALREADY_EXISTS: &str = "ALREADY_EXISTS";
pub const NOT_FOUND: &str = "NOT_FOUND";
/// The same request id was sent again with different content.
pub const REQUEST_ID_REUSED: &str = "REQUEST_ID_REUSED";
/// Someone else changed the object since the caller read it. Metadata
/// `changed_by`, `changed_at_ms`: reload and act again.
pub const STALE_VERSION: &str = "STALE_VERSION";
/// Not allowed in the object's current state (metadata `rule`).
pub const WRONG_STATE: &str = "WRONG_STATE";
/// Metadata `incident`: the id under which the server logged the cause.
pub const INTERNAL: &str = "INTERNAL";
/// The server is at its limit for this kind of work (metadata
/// `retry_after_ms`): try again after that long.
pub const BUSY: &str = "BUSY";
/// Too many unsuccessful logins from this address (metadata
/// `retry_after_ms`).
pub const TOO_MANY_ATTEMPTS: &str = "TOO_MANY_ATTEMPTS";

/// Why a query was refused, as the answer's `refusal_code` says it (the
/// query log keeps the same words). The workstation acts on this one.
pub mod refusal {
    /// A self-query beyond the year's free ones: ask again with
    /// `fee_confirmed` once the person agreed to pay.
    pub const FEE_CONFIRMATION_REQUIRED: &str = "fee_confirmation_required";
}
