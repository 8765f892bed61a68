//! Words the wire carries in string fields, spelled once for both sides.
//! (Reasons and refusal codes are in [`crate::errors`].)

/// `Deadline.kind`: which clock of an objection ticket.
pub mod deadline {
    /// A department's reply to the verification request.
    pub const DEPARTMENT_REPLY: &str = "department_reply";
    /// Telling the applicant the result.
    pub const NOTICE: &str = "notice";
    /// The whole ticket's limit.
    pub const OVERALL: &str = "overall";
}

/// `ImportSummary.status` / `ImportRecord.status`: how an import ended.
pub mod import_status {
    pub const RUNNING: &str = "running";
    /// Failed, cancelled or abandoned, and being undone.
    pub const ROLLING_BACK: &str = "rolling_back";
    pub const APPLIED: &str = "applied";
    /// Every row was already there as it is.
    pub const NO_CHANGE: &str = "no_change";
    pub const DRY_RUN: &str = "dry_run";
    /// No row could be accepted.
    pub const REJECTED: &str = "rejected";
}
