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

/// What the import command and the intake errors say.
pub mod import {
    use super::Lang;
    use crate::intake::Summary;
    use crate::intake::table::TableError;
    use credit_desk_proto::words::import_status;

    /// The header of the rejected rows' CSV.
    pub fn error_columns(lang: Lang) -> [&'static str; 3] {
        lang.pick(["行号", "列", "原因"], ["row", "column", "reason"])
    }

    /// Another import of the department is being written.
    pub fn running(lang: Lang, since_ms: i64) -> String {
        let since = crate::clock::local_time(since_ms);
        lang.pick(
            format!("该部门另有一个导入正在进行（{since} 开始），请等它完成后再导入"),
            format!("another import of this department is running (since {since}); import again once it has finished"),
        )
    }

    pub fn missing_columns(lang: Lang, columns: &[&str]) -> String {
        lang.pick(
            format!("文件缺少必需的列：{}", columns.join("、")),
            format!("the file lacks required columns: {}", columns.join(", ")),
        )
    }

    /// Why a file could not be read as a table; each limit is named.
    pub fn file_error(lang: Lang, e: &TableError) -> String {
        use crate::intake::table as t;
        use TableError as E;
        match e {
            E::UnsupportedType(ext) => lang.pick(
                format!("不支持的文件类型“{ext}”，请使用 .xlsx 或 .csv"),
                e.to_string(),
            ),
            E::Empty => lang.pick("文件为空".into(), e.to_string()),
            E::NoDataRows => lang.pick(
                "文件只有表头，没有数据行；未导入，也不计为报送".into(),
                "the file has headers only; nothing imported and nothing delivered".into(),
            ),
            E::Unreadable(why) => lang.pick(format!("无法读取文件：{why}"), e.to_string()),
            E::UnknownEncoding => lang.pick(
                "文件既不是 UTF-8 也不是 GBK 编码的文本".into(),
                e.to_string(),
            ),
            E::TooManyRows => {
                lang.pick(format!("数据行超过上限 {} 行", t::MAX_ROWS), e.to_string())
            }
            E::TooManyColumns => {
                lang.pick(format!("列数超过上限 {} 列", t::MAX_COLUMNS), e.to_string())
            }
            E::TooManyCells => {
                lang.pick(format!("单元格超过上限 {} 个", t::MAX_CELLS), e.to_string())
            }
            E::UnpacksTooLarge => lang.pick(
                format!("解压后超过上限 {} MiB", t::MAX_UNPACKED_BYTES >> 20),
                e.to_string(),
            ),
            E::CompressionRatio => lang.pick(
                format!(
                    "文件中某部分解压后超过压缩大小的 {} 倍，疑为压缩炸弹",
                    t::MAX_RATIO
                ),
                e.to_string(),
            ),
            E::TooManyEntries => lang.pick(
                format!("压缩包内文件超过上限 {} 个", t::MAX_ENTRIES),
                e.to_string(),
            ),
            E::BadCellReference(r) => lang.pick(
                format!("表格中的单元格位置“{r}”无效（应为至多三个字母加至多七位数字）"),
                e.to_string(),
            ),
        }
    }

    pub fn cancelled(lang: Lang) -> &'static str {
        lang.pick(
            "导入已取消，未做任何更改",
            "import cancelled; nothing was applied",
        )
    }

    /// How an import ended, in a word or two.
    pub fn status(lang: Lang, status: &str) -> String {
        let word = match status {
            import_status::APPLIED => lang.pick("已导入", "imported"),
            import_status::NO_CHANGE => lang.pick(
                "文件内容此前已全部导入，未做任何更改",
                "everything in the file was there already; nothing changed",
            ),
            import_status::DRY_RUN => lang.pick("试运行，未做任何更改", "dry run, nothing changed"),
            import_status::REJECTED => lang.pick("没有可导入的行", "no row could be imported"),
            import_status::RUNNING => lang.pick("导入中", "being imported"),
            import_status::ROLLING_BACK => {
                lang.pick("未完成，正在撤销", "did not finish; being undone")
            }
            other => other,
        };
        word.to_string()
    }

    /// The one-line summary the import command prints.
    pub fn summary(lang: Lang, s: &Summary) -> String {
        let status = status(lang, &s.status);
        lang.pick(
            format!(
                "{status}：共 {} 行，接受 {}，拒绝 {}；新增记录 {}，更新 {}，未变 {}，与异议裁定冲突未改 {}；新登记主体 {}；报送期 {}{}",
                s.rows_total, s.rows_accepted, s.rows_rejected, s.records_created, s.records_updated,
                s.records_unchanged, s.records_conflicting, s.subjects_created, s.period,
                if s.period_proposed { "（按文件日期推定）" } else { "" }
            ),
            format!(
                "{status}: {} rows, {} accepted, {} rejected; records {} new, {} updated, {} unchanged, {} held back (an objection decided them); {} new subjects; period {}{}",
                s.rows_total, s.rows_accepted, s.rows_rejected, s.records_created, s.records_updated,
                s.records_unchanged, s.records_conflicting, s.subjects_created, s.period,
                if s.period_proposed { " (from the file's dates)" } else { "" }
            ),
        )
    }

    /// A record's content as a file row or a version holds it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Content {
        pub start_date: Option<chrono::NaiveDate>,
        pub end_date: Option<chrono::NaiveDate>,
        pub amount_cents: Option<i64>,
        pub status: String,
        pub negative: bool,
        pub details: String,
    }

    /// The file's value and the decided one, each as the fields where they
    /// differ (`状态 未履行；结束日期 —`), or "deleted" for a deleted record.
    pub fn conflict_values(
        lang: Lang,
        file: &Content,
        decided: &Content,
        deleted: bool,
    ) -> (String, String) {
        let date = |d: Option<chrono::NaiveDate>| d.map_or("—".to_string(), |d| d.to_string());
        let amount = |a: Option<i64>| {
            a.map_or("—".to_string(), |c| {
                format!("{}.{:02}", c / 100, (c % 100).abs())
            })
        };
        let flag = |b: bool| {
            lang.pick(if b { "是" } else { "否" }, if b { "yes" } else { "no" })
                .to_string()
        };
        let fields: [(&str, String, String); 6] = [
            (
                lang.pick("状态", "status"),
                file.status.clone(),
                decided.status.clone(),
            ),
            (
                lang.pick("开始日期", "start"),
                date(file.start_date),
                date(decided.start_date),
            ),
            (
                lang.pick("结束日期", "end"),
                date(file.end_date),
                date(decided.end_date),
            ),
            (
                lang.pick("金额", "amount"),
                amount(file.amount_cents),
                amount(decided.amount_cents),
            ),
            (
                lang.pick("负面", "negative"),
                flag(file.negative),
                flag(decided.negative),
            ),
            (
                lang.pick("详情", "details"),
                file.details.clone(),
                decided.details.clone(),
            ),
        ];
        let sep = lang.pick("；", "; ");
        let side = |decided_side: bool| {
            fields
                .iter()
                .filter(|(_, f, d)| f != d)
                .map(|(name, f, d)| format!("{name} {}", if decided_side { d } else { f }))
                .collect::<Vec<_>>()
                .join(sep)
        };
        let file_value = side(false);
        let decided_value = if deleted {
            lang.pick("已删除", "deleted").to_string()
        } else {
            side(true)
        };
        (file_value, decided_value)
    }
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

/// A case-file event's detail in the reader's language. The detail is
/// written in a fixed form when the act is done (`3 record(s)`, `HC-1 (reply
/// due 2026-12-07)`, `HC-1: <record id>=corrected`, `phone reached <note>`,
/// a record id for a statement); record ids become the department's keys.
/// A detail in no known form is shown as it is.
pub fn event_detail(
    lang: Lang,
    action: &str,
    detail: &str,
    key_of: &dyn Fn(&str) -> Option<String>,
) -> String {
    use crate::rules::ticket::{NoticeChannel, Outcome};
    let key = |id: &str| key_of(id).unwrap_or_else(|| id.to_string());
    let outcome = |o: &str| match Outcome::parse(o) {
        Some(Outcome::Corrected) => lang.pick("已更正", "corrected"),
        Some(Outcome::Deleted) => lang.pick("已删除", "deleted"),
        Some(Outcome::Confirmed) => lang.pick("核实无误", "confirmed"),
        Some(Outcome::Unconfirmed) => lang.pick("无法确认", "could not be confirmed"),
        Some(Outcome::Disputed) => lang.pick("核查中", "being checked"),
        Some(Outcome::Withdrawn) => lang.pick("已撤回", "withdrawn"),
        None => "?",
    };
    let shown = match action {
        "filed" => detail
            .strip_suffix(" record(s)")
            .and_then(|n| n.parse::<u32>().ok())
            .map(|n| lang.pick(format!("异议记录 {n} 条"), format!("{n} record(s)"))),
        "request_sent" => detail
            .strip_suffix(')')
            .and_then(|d| d.split_once(" (reply due "))
            .map(|(letters, due)| {
                lang.pick(
                    format!("{letters}（部门回复期限 {due}）"),
                    format!("{letters} (reply due {due})"),
                )
            }),
        "reply_recorded" => detail.split_once(": ").map(|(letter, decided)| {
            let parts: Vec<String> = decided
                .split(", ")
                .filter_map(|p| p.split_once('='))
                .map(|(id, o)| format!("{} {}", key(id), outcome(o)))
                .collect();
            format!(
                "{letter}{}{}",
                lang.pick("：", ": "),
                parts.join(lang.pick("；", "; "))
            )
        }),
        "notified" | "notice_failed" => {
            let mut words = detail.splitn(2, ' ');
            let channel = words.next().and_then(NoticeChannel::parse);
            let rest = words.next().unwrap_or("");
            let (reached, note) = match rest.strip_prefix("reached") {
                Some(note) => (true, note),
                None => (false, rest.strip_prefix("not reached").unwrap_or(rest)),
            };
            channel.map(|c| {
                let channel = match c {
                    NoticeChannel::Phone => lang.pick("电话", "phone"),
                    NoticeChannel::Written => lang.pick("书面", "in writing"),
                };
                let how = match reached {
                    true => lang.pick("已联系上", "reached"),
                    false => lang.pick("未联系上", "not reached"),
                };
                format!("{channel} {how} {}", note.trim())
                    .trim_end()
                    .to_string()
            })
        }
        "statement" => Some(key(detail)),
        // A calendar change moved a deadline (see `db::tickets`).
        "deadline.recomputed" => {
            let arrow = |text: &str| text.split_once(" -> ").map(|(a, b)| format!("{a} → {b}"));
            match detail.split_once(": reply due ") {
                Some((letter, moved)) => arrow(moved).map(|m| {
                    lang.pick(
                        format!("{letter}：部门回复期限 {m}（工作日历调整）"),
                        format!("{letter}: reply due {m} (calendar changed)"),
                    )
                }),
                None => detail.strip_prefix("notice due ").and_then(arrow).map(|m| {
                    lang.pick(
                        format!("通知申请人期限 {m}（工作日历调整）"),
                        format!("notice due {m} (calendar changed)"),
                    )
                }),
            }
        }
        _ => None,
    };
    shown.unwrap_or_else(|| detail.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_file_events_read_in_the_readers_language() {
        let keys = |id: &str| (id == "r1").then(|| "(2025)粤1284执302号".to_string());
        let zh = |a, d| event_detail(Lang::Zh, a, d, &keys);
        assert_eq!(zh("filed", "2 record(s)"), "异议记录 2 条");
        assert_eq!(
            zh(
                "deadline.recomputed",
                "HC-1: reply due 2026-12-07 -> 2026-12-08"
            ),
            "HC-1：部门回复期限 2026-12-07 → 2026-12-08（工作日历调整）"
        );
        assert_eq!(
            zh("deadline.recomputed", "notice due 2026-12-07 -> 2026-12-09"),
            "通知申请人期限 2026-12-07 → 2026-12-09（工作日历调整）"
        );
        assert_eq!(
            zh("request_sent", "HC-20261123-0001 (reply due 2026-12-07)"),
            "HC-20261123-0001（部门回复期限 2026-12-07）"
        );
        assert_eq!(
            zh("reply_recorded", "HC-1: r1=corrected, r2=unconfirmed"),
            "HC-1：(2025)粤1284执302号 已更正；r2 无法确认"
        );
        assert_eq!(
            zh("notice_failed", "phone not reached 无人接听"),
            "电话 未联系上 无人接听"
        );
        assert_eq!(zh("notified", "written reached"), "书面 已联系上");
        assert_eq!(zh("statement", "r1"), "(2025)粤1284执302号");
        assert_eq!(zh("paused", "等材料"), "等材料", "free text stays");
        let en = event_detail(Lang::En, "notice_failed", "phone not reached x", &keys);
        assert_eq!(en, "phone not reached x");
    }

    #[test]
    fn a_conflict_names_the_fields_that_differ_on_both_sides() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2025, 6, d);
        let decided = import::Content {
            start_date: day(1),
            end_date: day(30),
            amount_cents: Some(120_050),
            status: "已履行".into(),
            negative: true,
            details: "x".into(),
        };
        let file = import::Content {
            end_date: None,
            status: "未履行".into(),
            ..decided.clone()
        };
        assert_eq!(
            import::conflict_values(Lang::Zh, &file, &decided, false),
            (
                "状态 未履行；结束日期 —".to_string(),
                "状态 已履行；结束日期 2025-06-30".to_string()
            )
        );
        let (_, deleted) = import::conflict_values(Lang::En, &file, &decided, true);
        assert_eq!(deleted, "deleted");
    }

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
                (import::missing_columns(l, &["name_x"]), "name_x"),
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
                import::cancelled(l).into(),
            ] {
                assert!(!plain.is_empty());
            }
            use credit_desk_proto::words::import_status as s;
            let statuses = [s::APPLIED, s::NO_CHANGE, s::DRY_RUN, s::REJECTED];
            for status in statuses {
                // Every status has its own words, not the code.
                assert_ne!(import::status(l, status), status, "{status}");
            }
            let words: std::collections::HashSet<_> =
                statuses.iter().map(|s| import::status(l, s)).collect();
            assert_eq!(words.len(), statuses.len());
        }
    }
}
