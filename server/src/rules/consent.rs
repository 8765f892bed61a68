//! Consent capture rules (SPEC §2): what a consent needs before it is
//! stored. Facts come in; field errors come out, all at once.

use credit_desk_proto::validate::{self, FieldError, Rule};

use credit_desk_proto::pb::OrgUnitKind;

use crate::authz::VerificationRefusal;

pub const DEFAULT_VALIDITY_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

pub mod field {
    pub const GRANTEE: &str = "grantee_id";
    pub const PURPOSE: &str = "purpose";
    pub const VALID_FROM: &str = "valid_from";
    pub const VALID_UNTIL: &str = "valid_until";
    pub const FORM_SERIAL: &str = "form_serial";
    pub const SCAN_SHA256: &str = "scan_sha256";
    pub const REMARKS: &str = "remarks";
    pub const VERIFICATION: &str = credit_desk_proto::validate::field::VERIFICATION_ID;
}

pub const REMARKS_MAX: usize = 2000;
/// The serial printed on the paper form.
pub const FORM_SERIAL_MAX: usize = 40;

/// What the database knows about the things a consent refers to.
pub struct CaptureFacts {
    /// The grantee's org-unit kind; `None` if unknown.
    pub grantee_kind: Option<OrgUnitKind>,
    /// Whether the purpose code exists and is not retired.
    pub purpose_active: bool,
    /// Whether the caller may use the verification named (decided by
    /// `authz::use_verification`); `None` if it is unknown.
    pub verification: Option<Result<(), VerificationRefusal>>,
    pub max_validity_days: i64,
}

pub struct CaptureInput<'a> {
    /// The server's clock when the request arrived.
    pub now_ms: i64,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
    pub form_serial: &'a str,
    pub scan_sha256: &'a str,
    pub remarks: &'a str,
}

/// How far a workstation's clock may lag behind the server's when it
/// proposes "now" as a consent's start.
pub const CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

/// Checks a consent before capture; an empty list means it may be stored.
pub fn check_capture(input: &CaptureInput<'_>, facts: &CaptureFacts) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match facts.verification {
        None => errors.push(FieldError::new(field::VERIFICATION, Rule::Required)),
        Some(Err(VerificationRefusal::Expired)) => {
            errors.push(FieldError::new(field::VERIFICATION, Rule::Expired))
        }
        Some(Err(VerificationRefusal::OtherUnit | VerificationRefusal::OtherSubject)) => {
            errors.push(FieldError::new(field::VERIFICATION, Rule::UnknownValue))
        }
        Some(Ok(())) => {}
    }
    match facts.grantee_kind {
        None => errors.push(FieldError::new(field::GRANTEE, Rule::Required)),
        Some(OrgUnitKind::Bank | OrgUnitKind::Department) => {}
        Some(_) => errors.push(FieldError::new(field::GRANTEE, Rule::UnknownValue)),
    }
    if !facts.purpose_active {
        errors.push(FieldError::new(field::PURPOSE, Rule::UnknownValue));
    }
    // Checked arithmetic throughout: the times are whatever a client sent.
    let max_ms = facts.max_validity_days.saturating_mul(DAY_MS);
    let ahead = input.valid_from_ms.checked_sub(input.now_ms);
    if ahead.is_none_or(|a| a < -CLOCK_SKEW_MS) {
        errors.push(FieldError::new(field::VALID_FROM, Rule::StartsInThePast));
    } else if ahead.is_some_and(|a| a > max_ms) {
        errors.push(FieldError::new(
            field::VALID_FROM,
            Rule::StartsTooLate {
                max_days: facts.max_validity_days as u32,
            },
        ));
    }
    let length = input.valid_until_ms.checked_sub(input.valid_from_ms);
    if input.valid_until_ms <= input.valid_from_ms {
        errors.push(FieldError::new(field::VALID_UNTIL, Rule::EndsBeforeStart));
    } else if length.is_none_or(|l| l > max_ms) {
        errors.push(FieldError::new(
            field::VALID_UNTIL,
            Rule::TooLongValidity {
                max_days: facts.max_validity_days as u32,
            },
        ));
    }
    if let Err(e) = validate::form_serial(field::FORM_SERIAL, input.form_serial, FORM_SERIAL_MAX) {
        errors.push(e);
    }
    let scan = input.scan_sha256.trim();
    let is_sha256 = scan.len() == 64 && scan.chars().all(|c| c.is_ascii_hexdigit());
    if !scan.is_empty() && !is_sha256 {
        errors.push(FieldError::new(field::SCAN_SHA256, Rule::NotSha256));
    }
    if let Err(e) = validate::free_text(field::REMARKS, input.remarks, REMARKS_MAX, true) {
        errors.push(e);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn facts() -> CaptureFacts {
        CaptureFacts {
            grantee_kind: Some(OrgUnitKind::Bank),
            purpose_active: true,
            verification: Some(Ok(())),
            max_validity_days: 90,
        }
    }

    fn input<'a>() -> CaptureInput<'a> {
        CaptureInput {
            now_ms: NOW,
            valid_from_ms: NOW,
            valid_until_ms: NOW + DEFAULT_VALIDITY_DAYS * DAY_MS,
            form_serial: "SQ-2026-000123",
            scan_sha256: "",
            remarks: "",
        }
    }

    fn fields(e: Vec<FieldError>) -> Vec<&'static str> {
        e.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_consent_passes() {
        assert!(check_capture(&input(), &facts()).is_empty());
        let mut i = input();
        i.scan_sha256 = "ab".repeat(32).leak();
        assert!(check_capture(&i, &facts()).is_empty());
    }

    #[test]
    fn serials_and_remarks_are_bounded_and_carry_no_terminal_controls() {
        let long_serial = "S".repeat(FORM_SERIAL_MAX + 1);
        let long_remarks = "备".repeat(REMARKS_MAX + 1);
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, Rule)]);
        let cases: &[Case] = &[
            ("SQ-1", "第一行\n第二行", &[]),
            (
                "SQ\u{1b}[2J",
                "",
                &[(field::FORM_SERIAL, Rule::ControlCharacters { lines: false })],
            ),
            (
                "SQ-1\n",
                "",
                &[(field::FORM_SERIAL, Rule::ControlCharacters { lines: false })],
            ),
            (
                "SQ-1",
                "a\u{0}b",
                &[(field::REMARKS, Rule::ControlCharacters { lines: true })],
            ),
            (
                "SQ-1",
                "\u{1b}]0;title\u{7}",
                &[(field::REMARKS, Rule::ControlCharacters { lines: true })],
            ),
            (
                &long_serial,
                "",
                &[(
                    field::FORM_SERIAL,
                    Rule::TooLong {
                        max: FORM_SERIAL_MAX,
                    },
                )],
            ),
            (
                "SQ-1",
                &long_remarks,
                &[(field::REMARKS, Rule::TooLong { max: REMARKS_MAX })],
            ),
        ];
        for (serial, remarks, want) in cases {
            let mut i = input();
            i.form_serial = serial;
            i.remarks = remarks;
            let got: Vec<(&str, Rule)> = check_capture(&i, &facts())
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect();
            assert_eq!(got, *want, "{serial:?} / {remarks:?}");
        }
    }

    #[test]
    fn times_a_client_sends_are_range_checked_without_overflow() {
        const DAY: i64 = DAY_MS;
        let max = 90 * DAY;
        type Case = (i64, i64, &'static [(&'static str, Rule)]);
        let cases: &[Case] = &[
            (NOW, NOW + max, &[]),
            // A workstation a few minutes behind is fine, an hour is not.
            (NOW - 5 * 60_000, NOW + DAY, &[]),
            (
                NOW - 3_600_000,
                NOW + DAY,
                &[(field::VALID_FROM, Rule::StartsInThePast)],
            ),
            (NOW + max, NOW + max + DAY, &[]),
            (
                NOW + max + 1,
                NOW + max + DAY,
                &[(field::VALID_FROM, Rule::StartsTooLate { max_days: 90 })],
            ),
            (NOW, NOW, &[(field::VALID_UNTIL, Rule::EndsBeforeStart)]),
            (
                NOW,
                NOW + max + 1,
                &[(field::VALID_UNTIL, Rule::TooLongValidity { max_days: 90 })],
            ),
            // The attack: a difference that overflows i64.
            (
                i64::MIN + 1,
                i64::MAX,
                &[
                    (field::VALID_FROM, Rule::StartsInThePast),
                    (field::VALID_UNTIL, Rule::TooLongValidity { max_days: 90 }),
                ],
            ),
            (
                i64::MAX,
                i64::MIN,
                &[
                    (field::VALID_FROM, Rule::StartsTooLate { max_days: 90 }),
                    (field::VALID_UNTIL, Rule::EndsBeforeStart),
                ],
            ),
        ];
        for (from, until, want) in cases {
            let mut i = input();
            i.valid_from_ms = *from;
            i.valid_until_ms = *until;
            let got: Vec<(&str, Rule)> = check_capture(&i, &facts())
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect();
            assert_eq!(&got, want, "from {from} until {until}");
        }
    }

    #[test]
    fn each_missing_or_wrong_piece_is_named() {
        let mut f = facts();
        f.grantee_kind = None;
        f.purpose_active = false;
        f.verification = None;
        let mut i = input();
        i.valid_until_ms = i.valid_from_ms;
        i.form_serial = " ";
        i.scan_sha256 = "xyz";
        assert_eq!(
            fields(check_capture(&i, &f)),
            [
                field::VERIFICATION,
                field::GRANTEE,
                field::PURPOSE,
                field::VALID_UNTIL,
                field::FORM_SERIAL,
                field::SCAN_SHA256
            ]
        );
    }

    #[test]
    fn an_unusable_verification_is_named() {
        let mut f = facts();
        for (refusal, rule) in [
            (VerificationRefusal::OtherUnit, Rule::UnknownValue),
            (VerificationRefusal::OtherSubject, Rule::UnknownValue),
            (VerificationRefusal::Expired, Rule::Expired),
        ] {
            f.verification = Some(Err(refusal));
            let e = check_capture(&input(), &f);
            assert_eq!((e[0].field, &e[0].rule), (field::VERIFICATION, &rule));
        }
    }

    #[test]
    fn grantee_must_be_a_bank_or_department_and_validity_capped() {
        let mut f = facts();
        f.grantee_kind = Some(OrgUnitKind::Township);
        assert_eq!(fields(check_capture(&input(), &f)), [field::GRANTEE]);
        let mut i = input();
        i.valid_until_ms = NOW + 91 * DAY_MS;
        let e = check_capture(&i, &facts());
        assert_eq!(e[0].rule, Rule::TooLongValidity { max_days: 90 });
        i.valid_until_ms = NOW + 90 * DAY_MS;
        assert!(check_capture(&i, &facts()).is_empty());
    }
}
