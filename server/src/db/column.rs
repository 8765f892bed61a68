//! How stored values become domain values at the repository's edge — the
//! one place that knows the encodings the `Any` driver forces on both
//! backends (TEXT dates and states, BIGINT 0/1 flags). Rows declare
//! `#[sqlx(try_from = "Text")] pub state: State` and the like; a stored
//! value that does not parse is a decode error naming the column, never a
//! silent default.

use chrono::NaiveDate;
use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type};

/// The one format of a stored date.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// A stored value that does not mean anything here.
#[derive(Debug, thiserror::Error)]
#[error("stored value {value:?} is not a valid {what}")]
pub struct BadValue {
    pub what: &'static str,
    pub value: String,
}

/// A TEXT column as stored, to be parsed into a domain type.
pub struct Text(pub String);

/// A nullable TEXT column as stored.
pub struct OptText(pub Option<String>);

/// A BIGINT 0/1 column as stored.
pub struct Flag(pub i64);

macro_rules! stored_as {
    ($wrapper:ident, $inner:ty) => {
        impl Type<Any> for $wrapper {
            fn type_info() -> AnyTypeInfo {
                <$inner as Type<Any>>::type_info()
            }
            fn compatible(ty: &AnyTypeInfo) -> bool {
                <$inner as Type<Any>>::compatible(ty)
            }
        }
        impl<'r> Decode<'r, Any> for $wrapper {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok($wrapper(<$inner as Decode<'r, Any>>::decode(value)?))
            }
        }
    };
}
stored_as!(Text, String);
stored_as!(Flag, i64);

impl Type<Any> for OptText {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Any> for OptText {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(OptText(<Option<String> as Decode<'r, Any>>::decode(value)?))
    }
}

/// A stored date, `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, BadValue> {
    NaiveDate::parse_from_str(text, DATE_FORMAT).map_err(|_| BadValue {
        what: "date",
        value: text.to_string(),
    })
}

/// A date as it is stored.
pub fn date_text(day: NaiveDate) -> String {
    day.format(DATE_FORMAT).to_string()
}

impl TryFrom<Text> for NaiveDate {
    type Error = BadValue;
    fn try_from(t: Text) -> Result<Self, BadValue> {
        parse_date(&t.0)
    }
}

impl TryFrom<OptText> for Option<NaiveDate> {
    type Error = BadValue;
    fn try_from(t: OptText) -> Result<Self, BadValue> {
        t.0.as_deref().map(parse_date).transpose()
    }
}

impl TryFrom<Flag> for bool {
    type Error = BadValue;
    fn try_from(f: Flag) -> Result<Self, BadValue> {
        match f.0 {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(BadValue {
                what: "flag (0 or 1)",
                value: n.to_string(),
            }),
        }
    }
}

/// Domain enums stored as a word, read back with their parser.
macro_rules! stored_word {
    ($($ty:ty => $parse:path, $what:literal;)*) => {
        $(
            impl TryFrom<Text> for $ty {
                type Error = BadValue;
                fn try_from(t: Text) -> Result<Self, BadValue> {
                    $parse(&t.0).ok_or(BadValue { what: $what, value: t.0 })
                }
            }
        )*
    };
}
stored_word! {
    crate::rules::ticket::State => crate::rules::ticket::State::parse, "ticket state";
    crate::rules::ticket::Outcome => crate::rules::ticket::Outcome::parse, "record outcome";
    crate::rules::ticket::NoticeChannel => crate::rules::ticket::NoticeChannel::parse, "notice channel";
    credit_desk_proto::pb::Role => crate::domain::role_from_str, "role";
    credit_desk_proto::pb::OrgUnitKind => crate::domain::kind_from_str, "org unit kind";
    credit_desk_proto::pb::SubjectKind => crate::domain::subject_kind_from_str, "subject kind";
    credit_desk_proto::pb::VerificationMethod => crate::domain::method_from_str, "verification method";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ticket::{Outcome, State};

    #[test]
    fn stored_values_parse_or_say_why_not() {
        let day: NaiveDate = Text("2026-12-01".into()).try_into().unwrap();
        assert_eq!(date_text(day), "2026-12-01");
        let none: Option<NaiveDate> = OptText(None).try_into().unwrap();
        assert_eq!(none, None);
        assert!(NaiveDate::try_from(Text("2026-13-01".into())).is_err());
        assert!(NaiveDate::try_from(Text("".into())).is_err());
        assert!(bool::try_from(Flag(1)).unwrap());
        assert!(!bool::try_from(Flag(0)).unwrap());
        let e = bool::try_from(Flag(2)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stored value \"2\" is not a valid flag (0 or 1)"
        );
        assert_eq!(
            State::try_from(Text("closed".into())).unwrap(),
            State::Closed
        );
        // No silent default: an unknown state is an error, not "received".
        let e = State::try_from(Text("open".into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stored value \"open\" is not a valid ticket state"
        );
        assert_eq!(
            Outcome::try_from(Text("withdrawn".into())).unwrap(),
            Outcome::Withdrawn
        );
        use credit_desk_proto::pb::{OrgUnitKind, Role};
        assert_eq!(
            Role::try_from(Text("liaison".into())).unwrap(),
            Role::Liaison
        );
        assert!(Role::try_from(Text("root".into())).is_err());
        assert_eq!(
            OrgUnitKind::try_from(Text("village_station".into())).unwrap(),
            OrgUnitKind::VillageStation
        );
    }
}
