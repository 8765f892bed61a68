//! An objection's whole case file as fixed-width lines: the application,
//! the running deadlines, the disputed records, every letter and reply,
//! every notification attempt and the history. The ticket screen scrolls
//! these lines; printing pages them with the usual footer.

use chrono::FixedOffset;
use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use unicode_width::UnicodeWidthStr;

use crate::i18n::{Catalogue, catalogue, ticket_word};
use crate::print::{WIDTH, paginate, time, withdrawal_close, wrap};

/// One deadline as `kind (department)  due  state`.
pub fn deadline_line(d: &pb::Deadline, lang: Lang) -> String {
    let mut kind = ticket_word(lang, &d.kind);
    if !d.department_name.is_empty() {
        kind = format!("{kind}（{}）", d.department_name);
    }
    let state = if d.met {
        catalogue(lang).deadline_met.to_string()
    } else {
        let mut s = ticket_word(lang, &d.urgency);
        if d.warn {
            s.push_str(" ⚠");
        }
        s
    };
    let pad = 30usize.saturating_sub(kind.width());
    format!("  {kind}{}{}  {state}", " ".repeat(pad), d.due)
}

/// The next section's heading: 一、二、… (1. 2. … in English).
fn section(count: &mut usize, lang: Lang, title: &str) -> String {
    const ZH: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    *count += 1;
    match lang {
        Lang::Zh => format!("{}、{title}", ZH[(*count - 1).min(ZH.len() - 1)]),
        Lang::En => format!("{count}. {title}"),
    }
}

pub fn lines(t: &pb::Ticket, cat: &Catalogue, lang: Lang, offset: FixedOffset) -> Vec<String> {
    let w = |code: &str| ticket_word(lang, code);
    let c = cat.colon;
    let mut out = Vec::new();
    // Sections without content are left out, so they are numbered as shown.
    let mut sections = 0;
    let title = cat.case_file_title;
    out.push(format!(
        "{}{title}",
        " ".repeat(WIDTH.saturating_sub(title.width()) / 2)
    ));
    let mut head = format!(
        "{}{c}{}    {}{c}{}",
        cat.ticket_no,
        t.ticket_no,
        cat.ticket_state,
        w(&t.state)
    );
    if t.paused {
        head.push_str(&format!("    [{}{c}{}]", w("paused"), t.pause_reason));
    }
    out.push(head);
    out.push(format!(
        "{}{c}{}    {}{c}{}    {}",
        cat.received_on, t.received_on, cat.org_unit, t.org_unit_name, t.filed_by
    ));
    let applicant = if t.applicant == "agent" {
        format!("{} {}（{}）", w("agent"), t.agent_name, t.poa_reference)
    } else {
        w("subject")
    };
    out.push(format!("{}{c}{applicant}", cat.applicant));
    out.push(format!(
        "{}{c}{}  {}",
        cat.subject_label, t.subject_name, t.subject_identifier
    ));
    out.push(format!(
        "{}{c}{}    {}{c}{}",
        cat.contact_phone,
        t.contact_phone,
        cat.notify_by,
        w(&t.notify_by)
    ));
    out.push(format!("{}{c}{}", cat.contact_address, t.contact_address));
    out.push(format!(
        "{}{c}{}",
        cat.reason_category,
        w(&t.reason_category)
    ));
    // The grounds' later lines line up under the first.
    let head = format!("{}{c}", cat.reason_text);
    let indent = " ".repeat(head.width());
    for (i, line) in wrap(&t.reason_text, WIDTH - head.width())
        .into_iter()
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        out.push(format!("{}{line}", if i == 0 { &head } else { &indent }));
    }
    if !t.evidence.is_empty() {
        out.push(format!("{}{c}", cat.evidence));
        for (i, e) in t.evidence.iter().enumerate() {
            out.push(format!("  {}. {e}", i + 1));
        }
    }
    out.push("=".repeat(WIDTH));
    out.push(section(&mut sections, lang, cat.section_deadlines));
    out.extend(t.deadlines.iter().map(|d| deadline_line(d, lang)));
    if t.paused_ms > 0 {
        let span = cat.pause_span(t.paused_ms);
        out.push(cat.paused_note(&span, &t.overall_due_with_pauses));
    }
    out.push(String::new());
    out.push(section(&mut sections, lang, cat.section_disputed));
    for r in &t.records {
        out.push(format!(
            "  [{}] {}  {}  {}",
            r.category_name,
            r.source_key,
            r.department_name,
            w(&r.outcome)
        ));
        if !r.status.is_empty() || !r.details.is_empty() {
            out.push(format!("      {} {}", r.status, r.details));
        }
    }
    if !t.letters.is_empty() {
        out.push(String::new());
        out.push(section(&mut sections, lang, cat.section_letters));
    }
    for l in &t.letters {
        out.push(format!(
            "  {}  {}  {} {}",
            l.letter_no,
            l.department_name,
            time(l.sent_at_ms, offset),
            l.sent_by
        ));
        out.push(format!(
            "      {}{c}{}  {}{c}{}",
            cat.letter_received, l.received_on, cat.reply_due, l.reply_due
        ));
        if l.replied_at_ms > 0 {
            let reply = format!(
                "{} {} {}{c}{}",
                cat.reply_label,
                time(l.replied_at_ms, offset),
                l.replied_by,
                l.reply_text
            );
            out.extend(
                wrap(&reply, WIDTH - 6)
                    .into_iter()
                    .map(|x| format!("      {x}")),
            );
            if !l.reply_letter_no.is_empty() {
                out.push(format!(
                    "      {}{c}{}（{}）",
                    cat.reply_letter_label, l.reply_letter_no, l.reply_letter_date
                ));
            }
        }
    }
    if !t.notifications.is_empty() {
        out.push(String::new());
        out.push(section(&mut sections, lang, cat.section_notices));
    }
    for n in &t.notifications {
        let result = if n.reached {
            cat.notice_reached
        } else {
            cat.notice_not_reached
        };
        out.push(format!(
            "  {}  {}  {result}  {}  ({})",
            time(n.at_ms, offset),
            w(&n.channel),
            n.note,
            n.operator_name
        ));
    }
    out.push(String::new());
    out.push(section(&mut sections, lang, cat.section_history));
    for e in &t.events {
        let line = format!(
            "{}  {}  {}  {}",
            time(e.at_ms, offset),
            e.operator_name,
            w(&e.action),
            e.detail
        );
        out.extend(wrap(&line, WIDTH - 2).into_iter().map(|x| format!("  {x}")));
    }
    out
}

/// The printable case file.
pub fn document(
    t: &pb::Ticket,
    cat: &Catalogue,
    lang: Lang,
    offset: FixedOffset,
    operator: &str,
) -> String {
    paginate(&lines(t, cat, lang, offset), cat, &t.ticket_no, operator)
}

/// The applicant's receipt for a withdrawn objection: which, why, how
/// they confirmed it, who recorded it when, and lines to sign.
pub fn withdrawal_receipt(t: &pb::Ticket, cat: &Catalogue, offset: FixedOffset) -> String {
    let c = cat.colon;
    let title = cat.withdrawal_receipt;
    let confirmed = match t.withdrawal_verified_at_ms {
        0 => format!("{}{c}{}", cat.withdraw_in_writing, t.withdrawal_written),
        at => format!("{}（{}）", cat.withdraw_verified, time(at, offset)),
    };
    let mut lines = vec![
        format!(
            "{}{title}",
            " ".repeat(WIDTH.saturating_sub(title.width()) / 2)
        ),
        String::new(),
        format!("{}{c}{}", cat.ticket_no, t.ticket_no),
        format!(
            "{}{c}{}  {}",
            cat.subject_label, t.subject_name, t.subject_identifier
        ),
        format!("{}{c}{}", cat.received_on, t.received_on),
    ];
    lines.extend(wrap(
        &format!("{}{c}{}", cat.withdraw_reason, t.withdrawal_reason),
        WIDTH,
    ));
    lines.push(format!("{}{c}{confirmed}", cat.withdraw_confirmed_by));
    lines.extend(withdrawal_close(
        cat,
        &t.withdrawn_by,
        t.withdrawn_at_ms,
        cat.withdrawal_effect,
        offset,
    ));
    paginate(&lines, cat, &t.ticket_no, &t.withdrawn_by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, ZH};
    use credit_desk_proto::words::deadline;

    /// Sections without content are left out and the rest numbered as
    /// shown (they read 一、二、五 when no letter had been sent).
    #[test]
    fn sections_are_numbered_as_shown() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let mut t = ticket();
        t.letters.clear();
        t.notifications.clear();
        let zh = lines(&t, &ZH, Lang::Zh, offset);
        let headings: Vec<&String> = zh.iter().filter(|l| l.contains('、')).collect();
        assert!(zh.iter().any(|l| l == "三、办理经过"), "{headings:?}");
        assert!(
            !zh.iter()
                .any(|l| l.starts_with("四、") || l.starts_with("五、"))
        );
        let en = lines(&t, &EN, Lang::En, offset);
        assert!(en.iter().any(|l| l == "3. History"), "{en:?}");
        // With notices (and no letter): they are the third section.
        let notified = lines(&ticket(), &ZH, Lang::Zh, offset);
        assert!(notified.iter().any(|l| l == "三、通知申请人"));
        assert!(notified.iter().any(|l| l == "四、办理经过"));
    }

    fn ticket() -> pb::Ticket {
        pb::Ticket {
            ticket_no: "YY-20261123-0001".into(),
            state: "replied".into(),
            applicant: "agent".into(),
            agent_name: "张三".into(),
            poa_reference: "POA-7".into(),
            reason_category: "not_mine".into(),
            reason_text: "本人从未涉诉".into(),
            paused_ms: 2 * 86_400_000 + 1,
            overall_due: "2026-12-13".into(),
            overall_due_with_pauses: "2026-12-16".into(),
            deadlines: vec![
                pb::Deadline {
                    kind: deadline::NOTICE.into(),
                    due: "2026-11-25".into(),
                    urgency: "soon".into(),
                    warn: true,
                    ..Default::default()
                },
                pb::Deadline {
                    kind: deadline::OVERALL.into(),
                    due: "2026-12-13".into(),
                    met: true,
                    ..Default::default()
                },
            ],
            notifications: vec![pb::Notification {
                at_ms: 1_795_395_600_000,
                channel: "phone".into(),
                reached: false,
                note: "无人接听".into(),
                operator_name: "张中心".into(),
            }],
            ..Default::default()
        }
    }

    /// A pause of a few seconds was shown as a whole day.
    #[test]
    fn paused_time_is_shown_as_it_was() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        for (ms, zh, en) in [
            (7_000, "已暂停共 不足 1 分钟", "Paused under a minute"),
            (25 * 60_000, "已暂停共 25 分钟", "Paused 25 min"),
            (
                3 * 3_600_000 + 60_000,
                "已暂停共 3 小时 1 分钟",
                "Paused 3 h 1 min",
            ),
            (
                86_400_000 + 7_200_000,
                "已暂停共 1 天 2 小时",
                "Paused 1 d 2 h",
            ),
        ] {
            let t = pb::Ticket {
                paused_ms: ms,
                ..ticket()
            };
            let text = lines(&t, &ZH, Lang::Zh, utc8).join("\n");
            assert!(text.contains(zh), "{ms}: {text}");
            let text = lines(&t, &EN, Lang::En, utc8).join("\n");
            assert!(text.contains(en), "{ms}: {text}");
        }
    }

    #[test]
    fn the_case_file_names_everything_in_both_languages() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        let zh = lines(&ticket(), &ZH, Lang::Zh, utc8).join("\n");
        assert!(zh.contains("申请人：代理人 张三（POA-7）"), "{zh}");
        assert!(zh.contains("非本人信息"));
        assert!(zh.contains("两个工作日内到期 ⚠"), "a warned deadline: {zh}");
        assert!(zh.contains("已完成"), "a met deadline");
        assert!(
            zh.contains("已暂停共 2 天 0 小时") && zh.contains("2026-12-16"),
            "{zh}"
        );
        assert!(
            zh.contains("2026-11-23 09:00  电话  未联系上  无人接听"),
            "{zh}"
        );
        let en = lines(&ticket(), &EN, Lang::En, utc8).join("\n");
        assert!(en.contains("an agent 张三"), "{en}");
        assert!(en.contains("department replied"));
        let doc = document(&ticket(), &ZH, Lang::Zh, utc8, "张中心");
        assert!(
            doc.contains("编号 YY-20261123-0001  第 1/1 页  操作员：张中心"),
            "{doc}"
        );
    }
}
