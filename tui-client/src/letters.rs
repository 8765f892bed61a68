//! The objection's paper: the acceptance receipt the applicant takes home
//! (reprinted from the case file, marked as such), the verification request
//! (核实协查函) to each department, and the written notice of the outcome
//! (书面告知书). Each is built only from facts that do not change once
//! written, so a reprint says what the first print said.

use chrono::FixedOffset;
use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use unicode_width::UnicodeWidthStr;

use crate::i18n::{Catalogue, ticket_word};
use crate::print::{WIDTH, paginate, signatures, time, wrap_words};

fn centred(title: &str) -> String {
    format!(
        "{}{title}",
        " ".repeat(WIDTH.saturating_sub(title.width()) / 2)
    )
}

/// The records of the ticket (of one department, when given), one block
/// each; `outcomes` adds what became of each (the notice).
fn record_lines(
    t: &pb::Ticket,
    department_id: Option<&str>,
    lang: Lang,
    outcomes: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, r) in t
        .records
        .iter()
        .filter(|r| department_id.is_none_or(|d| r.department_id == d))
        .enumerate()
    {
        let line = format!(
            "{}. [{}] {}  {}",
            i + 1,
            r.category_name,
            r.source_key,
            r.department_name
        );
        out.extend(wrap_words(&format!("  {line}"), WIDTH));
        let status = format!("     {} {}", r.status, r.details);
        if !status.trim().is_empty() {
            out.extend(wrap_words(&status, WIDTH));
        }
        if outcomes && r.outcome != "disputed" {
            out.push(format!("     → {}", ticket_word(lang, &r.outcome)));
        }
    }
    out
}

/// Who applied: the subject, or their agent (with the power of attorney).
fn applicant(t: &pb::Ticket, lang: Lang) -> String {
    match t.applicant.as_str() {
        "agent" => format!(
            "{} {}（{}）",
            ticket_word(lang, "agent"),
            t.agent_name,
            t.poa_reference
        ),
        _ => t.subject_name.clone(),
    }
}

/// The receipt handed over when an objection is filed; `reprint` marks a
/// later print (when, by whom) and changes nothing else.
pub fn acceptance_receipt(
    t: &pb::Ticket,
    cat: &Catalogue,
    offset: FixedOffset,
    reprint: Option<(i64, &str)>,
) -> String {
    let c = cat.colon;
    let title = match reprint {
        Some(_) => format!("{}{}", cat.acceptance_title, cat.reprint_mark),
        None => cat.acceptance_title.to_string(),
    };
    let mut lines = vec![centred(&title), String::new()];
    lines.push(format!(
        "{}{c}{}    {}{c}{}",
        cat.ticket_no, t.ticket_no, cat.received_on, t.received_on
    ));
    if let Some((at, by)) = reprint {
        lines.push(format!("{}{c}{} {by}", cat.reprinted, time(at, offset)));
    }
    lines.push(format!(
        "{}{c}{}    {}{c}{}  {}",
        cat.applicant,
        applicant(t, cat.lang),
        cat.subject_label,
        t.subject_name,
        t.subject_identifier
    ));
    lines.push(format!(
        "{}{c}{}",
        cat.reason_category,
        ticket_word(cat.lang, &t.reason_category)
    ));
    lines.extend(wrap_words(
        &format!("{}{c}{}", cat.reason_text, t.reason_text),
        WIDTH,
    ));
    lines.push(String::new());
    lines.push(cat.section_disputed.to_string());
    lines.extend(record_lines(t, None, cat.lang, false));
    lines.push(String::new());
    lines.extend(wrap_words(&cat.acceptance_promise(&t.overall_due), WIDTH));
    lines.push(format!(
        "{}{c}{}  {}",
        cat.org_unit,
        t.org_unit_name,
        time(t.filed_at_ms, offset)
    ));
    lines.extend(signatures(cat));
    paginate(&lines, cat, &t.ticket_no, &t.filed_by)
}

/// One verification request per department letter, each on its own pages.
pub fn request_letters(t: &pb::Ticket, cat: &Catalogue, offset: FixedOffset) -> String {
    let c = cat.colon;
    let mut documents = Vec::new();
    for l in &t.letters {
        let mut lines = vec![centred(cat.request_letter_title), String::new()];
        lines.push(format!("{}{c}{}", cat.letter_no_label, l.letter_no));
        lines.push(format!("{}{c}{}", cat.to_label, l.department_name));
        lines.push(String::new());
        let subject = format!("{}（{}）", t.subject_name, t.subject_identifier);
        lines.extend(wrap_words(
            &cat.request_letter_body(&l.department_name, &subject, &t.ticket_no, &l.reply_due),
            WIDTH,
        ));
        lines.push(String::new());
        lines.extend(record_lines(t, Some(&l.department_id), cat.lang, false));
        lines.push(String::new());
        lines.extend(wrap_words(
            &format!("{}{c}{}", cat.reason_text, t.reason_text),
            WIDTH,
        ));
        lines.push(String::new());
        lines.push(format!(
            "{}{c}{}    {}{c}{}",
            cat.letter_received, l.received_on, cat.reply_due, l.reply_due
        ));
        lines.push(String::new());
        lines.push(format!("{:>w$}", cat.center_seal, w = WIDTH - 10));
        lines.push(format!(
            "{:>w$}",
            time(l.sent_at_ms, offset),
            w = WIDTH - 10
        ));
        documents.push(paginate(&lines, cat, &l.letter_no, &l.sent_by));
    }
    documents.join("\u{c}")
}

/// The written notice to the applicant once every department answered.
pub fn applicant_notice(t: &pb::Ticket, cat: &Catalogue, offset: FixedOffset, by: &str) -> String {
    let c = cat.colon;
    let mut lines = vec![centred(cat.notice_title), String::new()];
    lines.push(format!("{}{c}{}", cat.ticket_no, t.ticket_no));
    lines.push(String::new());
    lines.extend(wrap_words(
        &cat.notice_body(&applicant(t, cat.lang), &t.received_on, &t.ticket_no),
        WIDTH,
    ));
    lines.push(String::new());
    lines.extend(record_lines(t, None, cat.lang, true));
    for l in t.letters.iter().filter(|l| !l.reply_letter_no.is_empty()) {
        lines.push(format!(
            "  {}{c}{} {} {}",
            cat.reply_letter_label, l.department_name, l.reply_letter_no, l.reply_letter_date
        ));
    }
    lines.push(String::new());
    lines.extend(wrap_words(cat.notice_statement, WIDTH));
    lines.push(String::new());
    lines.push(format!("{:>w$}", cat.center_seal, w = WIDTH - 10));
    lines.push(format!(
        "{:>w$}",
        time(t.updated_at_ms, offset),
        w = WIDTH - 10
    ));
    paginate(&lines, cat, &t.ticket_no, by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, ZH};

    fn ticket() -> pb::Ticket {
        let record = |id: &str, key: &str, dept: &str, outcome: &str| pb::TicketRecord {
            record_id: id.into(),
            category_name: "法院判决与执行".into(),
            source_key: key.into(),
            department_id: dept.into(),
            department_name: format!("{dept}局"),
            outcome: outcome.into(),
            status: "未履行".into(),
            ..Default::default()
        };
        let letter = |no: &str, dept: &str, reply_no: &str| pb::Letter {
            letter_no: no.into(),
            department_id: dept.into(),
            department_name: format!("{dept}局"),
            received_on: "2026-11-24".into(),
            reply_due: "2026-12-08".into(),
            reply_letter_no: reply_no.into(),
            reply_letter_date: "2026-12-01".into(),
            ..Default::default()
        };
        pb::Ticket {
            ticket_no: "YY-20261123-0001".into(),
            subject_name: "李建国".into(),
            subject_identifier: "441284196508120010".into(),
            applicant: "subject".into(),
            reason_category: "inaccurate".into(),
            reason_text: "该案已于 2025 年履行完毕".into(),
            received_on: "2026-11-23".into(),
            overall_due: "2026-12-13".into(),
            records: vec![
                record("r1", "(2024)粤1284民初1001号", "court", "corrected"),
                record("r2", "TAX-2025-77", "tax", "unconfirmed"),
            ],
            letters: vec![
                letter("XC-2026-0001", "court", "四法函〔2026〕12号"),
                letter("XC-2026-0002", "tax", ""),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn each_department_gets_its_own_records_on_its_own_pages() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let text = request_letters(&ticket(), &ZH, offset);
        let pages: Vec<&str> = text.split('\u{c}').collect();
        assert_eq!(pages.len(), 2);
        assert!(pages[0].contains("XC-2026-0001") && pages[0].contains("(2024)粤1284民初1001号"));
        assert!(!pages[0].contains("TAX-2025-77"), "{}", pages[0]);
        assert!(pages[1].contains("TAX-2025-77") && !pages[1].contains("民初"));
        assert!(text.lines().all(|l| l.width() <= WIDTH), "{text}");
    }

    #[test]
    fn the_notice_gives_each_outcome_and_the_reply_letters() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let text = applicant_notice(&ticket(), &ZH, offset, "刘中心");
        assert!(
            text.contains("→ 已更正") || text.contains("→ 更正"),
            "{text}"
        );
        assert!(text.contains("四法函〔2026〕12号 2026-12-01"), "{text}");
        assert!(text.contains("本人声明"), "{text}");
        let en = applicant_notice(&ticket(), &EN, offset, "Liu");
        assert!(en.contains("Written notice"), "{en}");
    }

    #[test]
    fn a_reprinted_receipt_differs_only_by_its_mark() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let first = acceptance_receipt(&ticket(), &ZH, offset, None);
        let again = acceptance_receipt(&ticket(), &ZH, offset, Some((1_795_395_600_000, "王柜员")));
        assert!(again.contains("异议申请受理回执（补打）") && again.contains("王柜员"));
        // Without the title and the reprint line, line for line the same.
        let strip = |s: &str| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.contains("受理回执") && !l.contains("补打"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&first), strip(&again));
        assert!(first.contains("2026-12-13"), "the legal limit: {first}");
        assert!(!first.contains("→"), "no outcomes on a receipt: {first}");
    }
}
