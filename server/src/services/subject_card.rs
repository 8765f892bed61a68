//! A subject's card, as GetSubject and the household changes answer it:
//! the registry entry and verifications for everyone who views subjects,
//! and the rest as [`authz::subject_card`] allows the caller.

use credit_desk_proto::Lang;
use credit_desk_proto::pb;
use sqlx::AnyConnection;

use super::convert;
use crate::authz::{self, Caller};
use crate::context::Ctx;
use crate::db::audit;
use crate::db::subject_card::{self as card, VersionRow};
use crate::db::subjects::{self, SubjectRow};
use crate::errors::{ApiError, ApiResult};
use credit_desk_proto::validate::field;

/// The card of `subject_id` as `caller` may see it. Records and queries
/// about a person seen outside a query: who looked is kept before they
/// see it.
pub async fn read(
    ctx: &Ctx,
    caller: &Caller,
    subject_id: &str,
) -> ApiResult<pb::GetSubjectResponse> {
    let card = {
        let mut conn = ctx.db.read().await?;
        let subject = subjects::get(&mut conn, subject_id)
            .await?
            .ok_or(ApiError::NotFound { field: field::ID })?;
        assemble(&mut conn, caller, &subject).await?
    };
    if card.records_shown {
        let mut tx = ctx.db.begin_write().await?;
        let who = Some(caller.operator_id.as_str());
        audit::record(
            &mut tx,
            who,
            "subject.card",
            subject_id,
            "records",
            ctx.now_ms(),
        );
        tx.commit().await?;
    }
    Ok(card)
}

/// Queries about the subject a card lists at most.
const QUERIES_SHOWN: i64 = 50;

/// Reads everything the caller may see about `subject` (one read each).
async fn assemble(
    conn: &mut AnyConnection,
    caller: &Caller,
    subject: &SubjectRow,
) -> ApiResult<pb::GetSubjectResponse> {
    let full = authz::sees_full_identifiers(caller.role);
    let view = authz::subject_card(caller.actor());
    let lang = caller.lang;
    let household = match subject.kind {
        pb::SubjectKind::Household => household(conn, &subject.id, full).await?,
        _ => None,
    };
    let households = card::households_of(conn, &subject.id)
        .await?
        .into_iter()
        .map(|h| pb::HouseholdRef {
            household_id: h.household_id,
            name: h.name,
            relation: h.relation,
        })
        .collect();
    let verifications = subjects::recent_verifications(conn, &subject.id, 10).await?;
    // A household (or a person, as a head) belongs to its township.
    let township = subjects::township(conn, &subject.id).await?;
    let keeps_household = subject.kind != pb::SubjectKind::Organisation
        && authz::keep_household(caller.actor(), township.as_ref().map(|t| t.1.as_str())).is_ok();
    let (records, queries) = if view.records_and_queries {
        let mut shown = records(card::versions(conn, &subject.id).await?, lang);
        // A household's card lists its members' records, each named.
        for m in household.iter().flat_map(|h| &h.members) {
            let Some(person) = &m.person else { continue };
            let mut theirs = records(card::versions(conn, &person.id).await?, lang);
            theirs
                .iter_mut()
                .for_each(|r| r.member_name = person.name.clone());
            shown.extend(theirs);
        }
        let queries = card::queries(conn, &subject.id, QUERIES_SHOWN).await?;
        (
            shown,
            queries
                .into_iter()
                .map(|q| pb::CardQuery {
                    at_ms: q.at,
                    institution: q.institution.unwrap_or_default(),
                    operator_name: q.operator_name,
                    purpose: lang.pick(q.purpose_zh, q.purpose_en).unwrap_or_default(),
                    allowed: q.outcome == "allowed",
                    report_no: q.report_no.unwrap_or_default(),
                })
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let consents = card::consents(conn, &subject.id)
        .await?
        .into_iter()
        .filter(|c| view.shows_taken_at(&c.unit_path))
        .map(|c| pb::CardConsent {
            consent_id: c.id,
            grantee: c.grantee,
            purpose: lang.pick(c.purpose_zh, c.purpose_en),
            valid_from_ms: c.valid_from,
            valid_until_ms: c.valid_until,
            withdrawn_at_ms: c.withdrawn_at.unwrap_or_default(),
            form_serial: c.form_serial,
        })
        .collect();
    let tickets = card::tickets(conn, &subject.id)
        .await?
        .into_iter()
        .filter(|t| view.shows_taken_at(&t.unit_path))
        .map(|t| pb::CardTicket {
            ticket_id: t.id,
            ticket_no: t.ticket_no,
            state: t.state,
            received_on: t.received_on,
            closed_at_ms: t.closed_at.unwrap_or_default(),
        })
        .collect();
    Ok(pb::GetSubjectResponse {
        subject: Some(convert::subject(subject, full)),
        verifications: verifications
            .iter()
            .map(|v| {
                let mut shown = convert::verification(v);
                // Everyone's visits are history; only this counter's can be used.
                if !authz::sees_verification_id(caller.actor(), &v.org_unit_id) {
                    shown.id.clear();
                }
                shown
            })
            .collect(),
        household,
        households,
        records_shown: view.records_and_queries,
        records,
        queries,
        consents,
        tickets,
        keeps_household,
    })
}

async fn household(
    conn: &mut AnyConnection,
    household_id: &str,
    full: bool,
) -> ApiResult<Option<pb::HouseholdCard>> {
    let Some(facts) = card::household(conn, household_id).await? else {
        return Ok(None);
    };
    let relations = card::relations(conn, household_id).await?;
    let mut members: Vec<pb::HouseholdMember> = subjects::members(conn, household_id)
        .await?
        .iter()
        .map(|m| pb::HouseholdMember {
            person: Some(convert::subject(m, full)),
            relation: relations
                .iter()
                .find(|(id, _)| *id == m.id)
                .map(|(_, r)| r.clone())
                .unwrap_or_default(),
        })
        .collect();
    // The head first, then the others by name (as read).
    members.sort_by_key(|m| m.person.as_ref().map(|p| p.id != facts.head_id));
    Ok(Some(pb::HouseholdCard {
        head_id: facts.head_id,
        village: facts.village,
        members,
    }))
}

/// Groups versions (read by record, newest version first) into records.
fn records(rows: Vec<VersionRow>, lang: Lang) -> Vec<pb::CardRecord> {
    let mut out: Vec<pb::CardRecord> = Vec::new();
    for row in rows {
        let version = pb::CardVersion {
            version: row.version,
            current: row.version == row.current_version,
            start_date: row.start_date.unwrap_or_default(),
            end_date: row.end_date.unwrap_or_default(),
            has_amount: row.amount_cents.is_some(),
            amount_cents: row.amount_cents.unwrap_or_default(),
            status: row.status,
            negative: row.negative,
            details: row.details,
            created_at_ms: row.created_at,
            import_file: row.import_file.unwrap_or_default(),
            ticket_no: row.ticket_no.unwrap_or_default(),
            operator_name: row.operator_name.unwrap_or_default(),
        };
        match out.last_mut() {
            Some(last) if last.record_id == row.record_id => last.versions.push(version),
            _ => out.push(pb::CardRecord {
                record_id: row.record_id,
                category: lang.pick(row.category_zh, row.category_en),
                department: row.department,
                source_key: row.source_key,
                deleted_at_ms: row.deleted_at.unwrap_or_default(),
                deleted_by_ticket: row.deleted_by_ticket.unwrap_or_default(),
                versions: vec![version],
                member_name: String::new(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(record: &str, version: i64, current: i64) -> VersionRow {
        VersionRow {
            record_id: record.into(),
            category_zh: "欠缴电费".into(),
            category_en: "electricity arrears".into(),
            department: "供电局".into(),
            source_key: format!("K-{record}"),
            current_version: current,
            deleted_at: None,
            deleted_by_ticket: None,
            version,
            start_date: Some("2025-01-01".into()),
            end_date: None,
            amount_cents: (version == 1).then_some(12_300),
            status: "unpaid".into(),
            negative: true,
            details: String::new(),
            created_at: version * 1000,
            import_file: (version == 1).then(|| "power.xlsx".into()),
            ticket_no: (version == 2).then(|| "YY-2026-000001".into()),
            operator_name: Some("张三".into()),
        }
    }

    #[test]
    fn versions_are_grouped_by_record_with_the_current_one_marked() {
        let rows = vec![row("a", 2, 2), row("a", 1, 2), row("b", 1, 1)];
        let records = records(rows, Lang::En);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].category, "electricity arrears");
        let a: Vec<(i64, bool)> = records[0]
            .versions
            .iter()
            .map(|v| (v.version, v.current))
            .collect();
        assert_eq!(a, [(2, true), (1, false)]);
        assert_eq!(records[0].versions[0].ticket_no, "YY-2026-000001");
        assert!(!records[0].versions[0].has_amount);
        assert_eq!(records[0].versions[1].import_file, "power.xlsx");
        assert_eq!(records[0].versions[1].amount_cents, 12_300);
        assert_eq!(records[1].versions.len(), 1);
        assert!(records[1].versions[0].current);
        assert_eq!(
            super::records(vec![row("c", 1, 1)], Lang::Zh)[0].category,
            "欠缴电费"
        );
    }
}
