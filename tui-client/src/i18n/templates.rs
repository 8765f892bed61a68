//! Catalogue entries with values in them. Each is a function with typed
//! arguments, so a value can only go where the entry has a place for it;
//! the test below fails when the Chinese and the English text of an entry
//! do not both show every value.

use credit_desk_proto::pb;

use super::Catalogue;

impl Catalogue {
    fn pick(&self, zh: String, en: String) -> String {
        self.lang.pick(zh, en)
    }

    /// The body of a verification request (核实协查函) to a department.
    pub fn request_letter_body(
        &self,
        department: &str,
        subject: &str,
        ticket_no: &str,
        reply_due: &str,
    ) -> String {
        self.pick(
            format!(
                "{department}：信息主体{subject}对贵单位报送的下列信用信息提出异议（案卷编号 {ticket_no}）。\
                 请于 {reply_due} 前核实，并书面回复核实结果（更正、删除、核实无误或无法核实）。"
            ),
            format!(
                "{department}: the subject {subject} disputes the credit information below that \
                 you delivered (ticket {ticket_no}). Please check it and reply in writing by \
                 {reply_due}: corrected, deleted, confirmed, or could not be confirmed."
            ),
        )
    }

    /// The opening of the written notice (书面告知书) to the applicant.
    pub fn notice_body(&self, applicant: &str, received_on: &str, ticket_no: &str) -> String {
        self.pick(
            format!(
                "{applicant}：您于 {received_on} 提出的异议申请（案卷编号 {ticket_no}）已处理完毕，\
                 核实结果如下。"
            ),
            format!(
                "{applicant}: your objection received on {received_on} (ticket {ticket_no}) has \
                 been dealt with; the results are below."
            ),
        )
    }

    /// The acceptance receipt's promise: the answer within the legal limit.
    pub fn acceptance_promise(&self, overall_due: &str) -> String {
        self.pick(
            format!("本中心将于 {overall_due} 前将处理结果书面告知（法定 20 日，暂停期间不计）。"),
            format!(
                "The center will tell you the result in writing by {overall_due} (20 days by law, pauses not counted)."
            ),
        )
    }

    /// A page of the registry: its number and how many it lists.
    pub fn registry_page(&self, page: usize, shown: usize) -> String {
        self.pick(
            format!("第 {page} 页 · {shown} 个（PgDn/PgUp 翻页）"),
            format!("page {page} · {shown} shown (PgDn/PgUp)"),
        )
    }

    /// Where a search landed: the k-th of n matches.
    pub fn found_match(&self, k: usize, n: usize, needle: &str) -> String {
        self.pick(
            format!("“{needle}” 第 {k}/{n} 处（n 下一处）"),
            format!("“{needle}” match {k} of {n} (n for the next)"),
        )
    }

    /// An import's row and record counts.
    pub fn import_counts(&self, s: &pb::ImportSummary) -> String {
        let (total, ok, bad) = (s.rows_total, s.rows_accepted, s.rows_rejected);
        let (new, upd, same) = (s.records_created, s.records_updated, s.records_unchanged);
        self.pick(
            format!("共 {total} 行：接受 {ok}，拒绝 {bad}；新增 {new}，更新 {upd}，未变 {same}"),
            format!(
                "{total} rows: {ok} accepted, {bad} rejected; {new} new, {upd} updated, {same} unchanged"
            ),
        )
    }

    /// The period field's note: the format, the recent periods, and what
    /// an empty field does.
    pub fn period_note(&self, today: chrono::NaiveDate) -> String {
        let recent: Vec<String> = credit_desk_proto::periods::recent(today, 2)
            .iter()
            .map(ToString::to_string)
            .collect();
        let recent = recent.join(" ");
        self.pick(
            format!("H1 上半年、FY 全年，如 {recent}；留空按文件日期推定"),
            format!("H1 first half, FY full year, e.g. {recent}; empty: from the file's dates"),
        )
    }

    /// The period an import counts for, after its counts.
    pub fn import_period(&self, period: &str, proposed: bool) -> String {
        match proposed {
            true => self.pick(
                format!("报送期 {period}（按文件日期推定）"),
                format!("period {period} (from the file's dates)"),
            ),
            false => self.pick(format!("报送期 {period}"), format!("period {period}")),
        }
    }

    /// A period proposed from the file's dates, filled in for the clerk.
    pub fn period_proposed(&self, period: &str) -> String {
        self.pick(
            format!("按文件日期推定报送期为 {period}，已填入（上方为试运行结果）；核对后按 Enter 正式导入"),
            format!("The file's dates propose period {period}, filled in (a dry run shown above); check it and press Enter to import"),
        )
    }

    /// Enter on a consent already withdrawn: when.
    pub fn consent_already_withdrawn(&self, at: &str) -> String {
        self.pick(
            format!("该授权已于 {at} 撤回，无需再次撤回（p 可打印撤回回执）"),
            format!(
                "This consent was withdrawn at {at}; nothing to withdraw (p prints the receipt)"
            ),
        )
    }

    /// Negative records held back by the five-year rule.
    pub fn withheld_note(&self, n: u32) -> String {
        self.pick(
            format!("另有 {n} 条负面记录因事件结束已满五年，依《征信业管理条例》第十六条不予展示。"),
            format!(
                "{n} more negative record(s) ended over five years ago and are not shown (Regulation art. 16)."
            ),
        )
    }

    /// The heading of the rows an import held back for an objection's
    /// decision.
    pub fn import_conflicts(&self, n: u32) -> String {
        self.pick(
            format!("以下 {n} 行涉及已由异议裁定的记录，文件内容与裁定不同，未导入，待人工决定："),
            format!(
                "{n} row(s) concern records an objection decided and differ from the decision; not imported, a person decides:"
            ),
        )
    }

    /// An earlier import with rows still waiting for a person.
    pub fn import_pending(&self, department: &str, file: &str, n: u32) -> String {
        self.pick(
            format!("{department} {file}：{n} 行待人工决定（异议已裁定，文件内容不同）"),
            format!(
                "{department} {file}: {n} row(s) wait for a person (an objection decided them)"
            ),
        )
    }

    /// One row held back: where, which objection, the file's value and the decided one.
    pub fn import_conflict(&self, c: &pb::ImportConflict) -> String {
        let (row, key, ticket) = (c.row, &c.source_key, &c.ticket_no);
        let (file, decided) = (&c.file_value, &c.decided_value);
        self.pick(
            format!(" 第 {row} 行 {key}（异议 {ticket}）：文件 {file}；裁定 {decided}"),
            format!(" row {row} {key} (objection {ticket}): file {file}; decided {decided}"),
        )
    }

    /// Asks before a held-back row's content replaces an objection's decision.
    pub fn accept_file_value(&self, c: &pb::ImportConflict) -> String {
        let (row, key, ticket, file) = (c.row, &c.source_key, &c.ticket_no, &c.file_value);
        self.pick(
            format!("采用第 {row} 行 {key} 的文件内容（{file}），取代异议 {ticket} 的裁定？y 确认，其他键取消"),
            format!("Take row {row} {key} as the file has it ({file}) instead of objection {ticket}'s decision? y: yes, any other key: no"),
        )
    }

    /// A held-back row's content was taken.
    pub fn file_value_accepted(&self, row: u32, version: u32) -> String {
        self.pick(
            format!("已采用第 {row} 行的文件内容，记录为第 {version} 版"),
            format!("row {row} taken as the file has it; the record is now version {version}"),
        )
    }

    /// A charged self-query waits for the clerk to confirm the fee.
    pub fn fee_confirm(&self, fee_yuan: &str) -> String {
        self.pick(
            format!(
                "本次为本年度第三次及以上本人查询，需收费 {fee_yuan} 元。收费后按 y 确认并查询，Esc 取消"
            ),
            format!(
                "This is a third or later self-query this year and costs {fee_yuan} yuan. Once paid, y: confirm and query; Esc: cancel"
            ),
        )
    }

    /// The footer on every printed page.
    pub fn page_footer(&self, no: &str, page: usize, pages: usize, operator: &str) -> String {
        self.pick(
            format!("编号 {no}  第 {page}/{pages} 页  操作员：{operator}"),
            format!("No. {no}  page {page}/{pages}  operator: {operator}"),
        )
    }

    /// The warning that the working-day calendar runs out.
    pub fn calendar_gap(&self, gap: &pb::CalendarGap) -> String {
        let year = gap.missing_year;
        match gap.last_start.as_str() {
            "" => self.pick(
                format!("⚠ 工作日历缺少 {year} 年：已无法计算新的时限、发出核实协查函，请管理员立即导入"),
                format!("⚠ The calendar lacks {year}: new deadlines cannot be computed nor requests sent; an administrator must import it now"),
            ),
            last => self.pick(
                format!("⚠ 工作日历缺少 {year} 年：{last} 之后无法发出核实协查函（回复期限将跨入 {year} 年），请管理员在此前导入"),
                format!("⚠ The calendar lacks {year}: after {last} no request can be sent (its reply date falls in {year}); an administrator must import it before"),
            ),
        }
    }

    /// A calendar change as previewed: per year, then the deadlines that
    /// would move, then the question.
    pub fn calendar_preview(&self, r: &pb::ChangeCalendarResponse) -> Vec<String> {
        let mut lines: Vec<String> = r
            .years
            .iter()
            .map(|y| self.calendar_year_change(y))
            .collect();
        let total = r.moves_total;
        lines.push(match total {
            0 => self.pick(
                "未到期的时限均不变。".into(),
                "No open deadline moves.".into(),
            ),
            n => self.pick(
                format!("将移动的未到期时限 {n} 个："),
                format!("{n} open deadline(s) would move:"),
            ),
        });
        lines.extend(r.moves.iter().map(|m| self.deadline_move(m)));
        let shown = r.moves.len() as u32;
        if shown < total {
            lines.push(self.pick(
                format!(" ……另有 {} 个未列出", total - shown),
                format!(" … and {} more", total - shown),
            ));
        }
        lines.push(String::new());
        lines.push(self.pick(
            "按 y 确认写入，Esc 放弃（放弃则不作任何改动）。".into(),
            "Press y to apply, Esc to drop it (nothing changes).".into(),
        ));
        lines
    }

    /// One year's counts in a calendar change.
    pub fn calendar_year_change(&self, y: &pb::CalendarYearChange) -> String {
        let (year, before, after) = (y.year, y.days_before, y.days_after);
        let (added, removed, changed) = (y.added, y.removed, y.changed);
        if !y.held_before {
            return self.pick(
                format!("{year} 年（新增年份）：共 {after} 天"),
                format!("{year} (a new year): {after} day(s)"),
            );
        }
        self.pick(
            format!("{year} 年：现有 {before} 天 → {after} 天（新增 {added}，删除 {removed}，更改 {changed}）"),
            format!("{year}: {before} day(s) → {after} ({added} added, {removed} removed, {changed} changed)"),
        )
    }

    /// One open deadline a calendar change moves.
    pub fn deadline_move(&self, m: &pb::DeadlineMove) -> String {
        let (ticket, letter, from, to) = (&m.ticket_no, &m.letter_no, &m.from, &m.to);
        match m.deadline.as_str() {
            "reply_due" => self.pick(
                format!(" {ticket} 协查函 {letter} 回复期限 {from} → {to}"),
                format!(" {ticket} request {letter}: reply due {from} → {to}"),
            ),
            _ => self.pick(
                format!(" {ticket} 通知申请人期限 {from} → {to}"),
                format!(" {ticket} notice to the applicant due {from} → {to}"),
            ),
        }
    }

    /// After a calendar change was written.
    pub fn calendar_changed(&self, r: &pb::ChangeCalendarResponse) -> String {
        let years: Vec<String> = r.years.iter().map(|y| y.year.to_string()).collect();
        let years = years.join(", ");
        let sum = |f: fn(&pb::CalendarYearChange) -> u32| r.years.iter().map(f).sum::<u32>();
        let (added, removed, changed) = (sum(|y| y.added), sum(|y| y.removed), sum(|y| y.changed));
        let moved = r.moves_total;
        self.pick(
            format!("已更新 {years} 年工作日历：新增 {added}，删除 {removed}，更改 {changed}；重算未到期时限 {moved} 个"),
            format!("Calendar {years} updated: {added} added, {removed} removed, {changed} changed; {moved} open deadline(s) recomputed"),
        )
    }

    /// The title of a year's list of days, with the selected position.
    pub fn calendar_year_days(&self, year: i32, days: usize, at: usize) -> String {
        let at = at.min(days);
        self.pick(
            format!("{year} 年 · {at}/{days}"),
            format!("{year} · {at}/{days}"),
        )
    }

    pub fn objection_filed(&self, ticket_no: &str) -> String {
        self.pick(
            format!("异议已受理，编号 {ticket_no}；相关记录已加异议标注。p 打印受理回执"),
            format!(
                "Objection {ticket_no} received; the records are annotated. p prints the receipt"
            ),
        )
    }

    /// A paused ticket: the pauses beside the legal limit, never added silently.
    pub fn paused_note(&self, span: &str, due_with_pauses: &str) -> String {
        self.pick(
            format!("  已暂停共 {span}；法定时限不变，扣除暂停后为 {due_with_pauses}"),
            format!(
                "  Paused {span} in all; the legal limit stands, {due_with_pauses} with the pauses added"
            ),
        )
    }

    /// How long a ticket was paused, to the minute: days and hours, or
    /// hours and minutes under a day.
    pub fn pause_span(&self, ms: i64) -> String {
        let ms = ms.max(0);
        let (d, h, m) = (ms / 86_400_000, ms / 3_600_000 % 24, ms / 60_000 % 60);
        match (d, h, m) {
            (0, 0, 0) => self.pick("不足 1 分钟".into(), "under a minute".into()),
            (0, 0, m) => self.pick(format!("{m} 分钟"), format!("{m} min")),
            (0, h, m) => self.pick(format!("{h} 小时 {m} 分钟"), format!("{h} h {m} min")),
            (d, h, _) => self.pick(format!("{d} 天 {h} 小时"), format!("{d} d {h} h")),
        }
    }

    pub fn queue_stats(&self, s: &pb::QueueStats) -> String {
        let (open, overdue, today) = (s.open, s.overdue, s.due_today);
        let (soon, warn, late) = (s.soon, s.warnings, s.late_submissions);
        let tickets = self.pick(
            format!("待办 {open} · 逾期 {overdue} · 今日到期 {today} · 两日内 {soon} · 预警 {warn}"),
            format!(
                "open {open} · overdue {overdue} · due today {today} · within 2 days {soon} · warnings {warn}"
            ),
        );
        match late {
            0 => tickets,
            n => self.pick(
                format!("{tickets} · 报送逾期 {n}"),
                format!("{tickets} · late files {n}"),
            ),
        }
    }

    /// A terminal smaller than the screens need.
    pub fn too_small(&self, width: u16, height: u16) -> String {
        self.pick(
            format!("窗口太小（{width}×{height}）：请把窗口放大到至少 80×24"),
            format!(
                "The window is too small ({width}×{height}): please enlarge it to at least 80×24"
            ),
        )
    }

    /// The center's and supervisors' duties besides tickets, when there
    /// are any.
    pub fn duties_stats(&self, s: &pb::QueueStats) -> Option<String> {
        let mut parts = Vec::new();
        if s.complaints_open > 0 {
            let (open, overdue) = (s.complaints_open, s.complaints_overdue);
            parts.push(self.pick(
                format!("投诉待答复 {open}（逾期 {overdue}）"),
                format!("complaints to answer {open} (overdue {overdue})"),
            ));
        }
        if s.days_to_review > 0 {
            let n = s.days_to_review;
            parts.push(self.pick(format!("待核查日 {n}"), format!("days to review {n}")));
        }
        if s.months_to_sign > 0 {
            let n = s.months_to_sign;
            parts.push(self.pick(
                format!("待签核月报 {n}"),
                format!("monthly reports to sign {n}"),
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// Open and overdue tickets of one unit or department.
    pub fn unit_counts(&self, open: u32, overdue: u32) -> String {
        self.pick(
            format!("待办 {open}  逾期 {overdue}"),
            format!("open {open}  overdue {overdue}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalogue;
    use super::*;
    use credit_desk_proto::Lang;

    /// Every templated entry with distinct values, in both languages.
    fn rendered(lang: Lang) -> Vec<(&'static str, String, Vec<&'static str>)> {
        let c = catalogue(lang);
        let summary = pb::ImportSummary {
            rows_total: 9101,
            rows_accepted: 9102,
            rows_rejected: 9103,
            records_created: 9104,
            records_updated: 9105,
            records_unchanged: 9106,
            ..Default::default()
        };
        let stats = pb::QueueStats {
            open: 9201,
            overdue: 9202,
            due_today: 9203,
            soon: 9204,
            warnings: 9205,
            late_submissions: 9206,
            ..Default::default()
        };
        let year_change = pb::CalendarYearChange {
            year: 2092,
            held_before: true,
            days_before: 9511,
            days_after: 9512,
            added: 9513,
            removed: 9514,
            changed: 9515,
        };
        vec![
            (
                "request_letter_body",
                c.request_letter_body("D9301", "S9302", "T9303", "R9304"),
                vec!["D9301", "S9302", "T9303", "R9304"],
            ),
            (
                "notice_body",
                c.notice_body("A9311", "R9312", "T9313"),
                vec!["A9311", "R9312", "T9313"],
            ),
            (
                "registry_page",
                c.registry_page(9341, 9342),
                vec!["9341", "9342"],
            ),
            (
                "found_match",
                c.found_match(9331, 9332, "N9333"),
                vec!["9331", "9332", "N9333"],
            ),
            (
                "acceptance_promise",
                c.acceptance_promise("D9321"),
                vec!["D9321"],
            ),
            (
                "import_counts",
                c.import_counts(&summary),
                vec!["9101", "9102", "9103", "9104", "9105", "9106"],
            ),
            ("withheld_note", c.withheld_note(9301), vec!["9301"]),
            (
                "import_pending",
                c.import_pending("DEPT-X", "F-X", 9302),
                vec!["DEPT-X", "F-X", "9302"],
            ),
            (
                "consent_already_withdrawn",
                c.consent_already_withdrawn("2091-01-02 03:04"),
                vec!["2091-01-02 03:04"],
            ),
            (
                "import_period",
                c.import_period("2091H1", true),
                vec!["2091H1"],
            ),
            (
                "period_proposed",
                c.period_proposed("2092FY"),
                vec!["2092FY"],
            ),
            (
                "page_footer",
                c.page_footer("CD-X", 9401, 9402, "OPX"),
                vec!["CD-X", "9401", "9402", "OPX"],
            ),
            (
                "calendar_gap",
                c.calendar_gap(&pb::CalendarGap {
                    missing_year: 2091,
                    last_start: "2090-12-17".into(),
                }),
                vec!["2091", "2090-12-17"],
            ),
            (
                "calendar_year_change",
                c.calendar_year_change(&year_change),
                vec!["2092", "9511", "9512", "9513", "9514", "9515"],
            ),
            (
                "deadline_move",
                c.deadline_move(&pb::DeadlineMove {
                    ticket_no: "YY-M".into(),
                    deadline: "reply_due".into(),
                    letter_no: "L-M".into(),
                    from: "2090-01-02".into(),
                    to: "2090-01-03".into(),
                }),
                vec!["YY-M", "L-M", "2090-01-02", "2090-01-03"],
            ),
            (
                "calendar_changed",
                c.calendar_changed(&pb::ChangeCalendarResponse {
                    years: vec![year_change],
                    moves_total: 9516,
                    ..Default::default()
                }),
                vec!["2092", "9513", "9514", "9515", "9516"],
            ),
            (
                "calendar_year_days",
                c.calendar_year_days(2093, 9521, 9520),
                vec!["2093", "9521", "9520"],
            ),
            ("objection_filed", c.objection_filed("YY-X"), vec!["YY-X"]),
            ("fee_confirm", c.fee_confirm("98.76"), vec!["98.76"]),
            ("import_conflicts", c.import_conflicts(9801), vec!["9801"]),
            (
                "file_value_accepted",
                c.file_value_accepted(9803, 9804),
                vec!["9803", "9804"],
            ),
            (
                "accept_file_value",
                c.accept_file_value(&pb::ImportConflict {
                    row: 9805,
                    source_key: "KEY-A".into(),
                    ticket_no: "YY-B".into(),
                    file_value: "FILE-C".into(),
                    decided_value: String::new(),
                }),
                vec!["9805", "KEY-A", "YY-B", "FILE-C"],
            ),
            (
                "import_conflict",
                c.import_conflict(&pb::ImportConflict {
                    row: 9802,
                    source_key: "KEY-X".into(),
                    ticket_no: "YY-Y".into(),
                    file_value: "FILE-Z".into(),
                    decided_value: "DEC-W".into(),
                }),
                vec!["9802", "KEY-X", "YY-Y", "FILE-Z", "DEC-W"],
            ),
            (
                "paused_note",
                c.paused_note("SPAN-X", "2099-01-02"),
                vec!["SPAN-X", "2099-01-02"],
            ),
            (
                "pause_span",
                c.pause_span(9_602 * 86_400_000 + 11 * 3_600_000),
                vec!["9602", "11"],
            ),
            (
                "queue_stats",
                c.queue_stats(&stats),
                vec!["9201", "9202", "9203", "9204", "9205", "9206"],
            ),
            (
                "unit_counts",
                c.unit_counts(9701, 9702),
                vec!["9701", "9702"],
            ),
            ("too_small", c.too_small(9721, 9722), vec!["9721", "9722"]),
            (
                "duties_stats",
                c.duties_stats(&pb::QueueStats {
                    complaints_open: 9711,
                    complaints_overdue: 9712,
                    days_to_review: 9713,
                    months_to_sign: 9714,
                    ..Default::default()
                })
                .unwrap_or_default(),
                vec!["9711", "9712", "9713", "9714"],
            ),
        ]
    }

    #[test]
    fn no_duties_say_nothing() {
        let c = catalogue(Lang::Zh);
        assert_eq!(c.duties_stats(&pb::QueueStats::default()), None);
        let reviews = pb::QueueStats {
            days_to_review: 2,
            ..Default::default()
        };
        assert_eq!(c.duties_stats(&reviews).as_deref(), Some("待核查日 2"));
    }

    #[test]
    fn both_languages_show_every_value_of_an_entry() {
        let zh = rendered(Lang::Zh);
        let en = rendered(Lang::En);
        for ((name, zh_text, values), (_, en_text, _)) in zh.iter().zip(&en) {
            for value in values {
                assert!(
                    zh_text.contains(value),
                    "{name} (zh) lacks {value}: {zh_text}"
                );
                assert!(
                    en_text.contains(value),
                    "{name} (en) lacks {value}: {en_text}"
                );
            }
            assert_ne!(zh_text, en_text, "{name} is not translated");
        }
    }
}
