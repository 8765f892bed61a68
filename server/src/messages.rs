//! Words the server writes for people (report annotations, import row
//! reasons), in Chinese and English, as functions with typed arguments.
//! Error answers have theirs in `errors.rs`, query refusals in
//! `rules::basis`; a test below checks that both languages show every value.

use credit_desk_proto::Lang;

/// The annotation on a record under objection, or checked and unconfirmed.
pub fn annotation(lang: Lang, unconfirmed: bool, ticket_no: &str) -> String {
    match unconfirmed {
        true => lang.pick(
            format!("已核查，无法确认（{ticket_no}）"),
            format!("checked, cannot be confirmed ({ticket_no})"),
        ),
        false => lang.pick(
            format!("异议处理中（{ticket_no}）"),
            format!("under objection ({ticket_no})"),
        ),
    }
}

/// What a report calls a query by the subject (instead of an institution
/// and a purpose).
pub fn self_query(lang: Lang) -> &'static str {
    lang.pick("本人查询", "self-query")
}

/// Why an import row was refused.
pub mod row {
    use super::Lang;

    pub fn required(lang: Lang) -> String {
        lang.pick("必填", "is required").to_string()
    }

    pub fn unknown_category(lang: Lang, value: &str) -> String {
        lang.pick(
            format!("未知的记录类别“{value}”"),
            format!("unknown category {value:?}"),
        )
    }

    pub fn future_date(lang: Lang, date: chrono::NaiveDate) -> String {
        lang.pick(
            format!("日期 {date} 晚于今天"),
            format!("date {date} is in the future"),
        )
    }

    pub fn not_a_date(lang: Lang, value: &str) -> String {
        lang.pick(
            format!("“{value}”不是有效日期（应如 2026-03-07）"),
            format!("{value:?} is not a date (e.g. 2026-03-07)"),
        )
    }

    pub fn ends_before_start(lang: Lang) -> String {
        lang.pick("结束日期早于开始日期", "ends before it starts")
            .to_string()
    }

    pub fn not_an_amount(lang: Lang, value: &str) -> String {
        lang.pick(
            format!("“{value}”不是金额（元，最多两位小数）"),
            format!("{value:?} is not an amount (yuan, at most two decimals)"),
        )
    }

    pub fn not_yes_no(lang: Lang) -> String {
        lang.pick("应填“是”或“否”", "must be 是 or 否 (yes/no)")
            .to_string()
    }

    /// A registered person's number with another name: refused, not attached.
    pub fn name_differs(lang: Lang, masked_identifier: &str) -> String {
        lang.pick(
            format!("姓名与登记不符（证件号码 {masked_identifier} 登记为其他姓名）"),
            format!("name differs from the register for {masked_identifier}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_show_every_value() {
        let day = chrono::NaiveDate::from_ymd_opt(2099, 1, 2).unwrap();
        let cases = |l: Lang| {
            vec![
                (annotation(l, true, "YY-1"), "YY-1"),
                (annotation(l, false, "YY-2"), "YY-2"),
                (row::unknown_category(l, "xyz"), "xyz"),
                (row::future_date(l, day), "2099-01-02"),
                (row::not_a_date(l, "32/13"), "32/13"),
                (row::not_an_amount(l, "12,3.4"), "12,3.4"),
                (row::name_differs(l, "4412********0023"), "4412********0023"),
            ]
        };
        for (zh, en) in cases(Lang::Zh).into_iter().zip(cases(Lang::En)) {
            assert!(zh.0.contains(zh.1), "{}", zh.0);
            assert!(en.0.contains(en.1), "{}", en.0);
            assert_ne!(zh.0, en.0);
        }
        assert_ne!(
            annotation(Lang::Zh, true, "x"),
            annotation(Lang::Zh, false, "x")
        );
        for l in [Lang::Zh, Lang::En] {
            for plain in [
                row::required(l),
                row::ends_before_start(l),
                row::not_yes_no(l),
            ] {
                assert!(!plain.is_empty());
            }
        }
    }
}
