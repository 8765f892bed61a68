//! The deadline queue and the late department files it lists.

use super::*;

/// A ticket search shows at most this many (newest first).
const FOUND_MAX: i64 = 50;

impl ObjectionService {
    /// Tickets in any state within the caller's part of the queue.
    pub(super) async fn find_tickets(
        &self,
        caller: Caller,
        req: pb::FindTicketsRequest,
    ) -> ApiResult<pb::FindTicketsResponse> {
        let query = validate::half_width(req.query.trim());
        let state = req.state.trim();
        let mut errors = Vec::new();
        if let Err(e) = validate::display_text(field::QUERY, &query, validate::SEARCH_MAX) {
            errors.push(e);
        }
        if !state.is_empty() && State::parse(state).is_none() {
            errors.push(FieldError::new("state", Rule::UnknownValue));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let number = ident::normalise(&query);
        let indexes = match ident::check_any(&number, local_date(self.ctx.now_ms())) {
            Ok(_) => crate::db::sealed::indexes(&number)?,
            Err(_) => Vec::new(),
        };
        let mut conn = self.ctx.db.read().await?;
        let view = authz::queue_view(caller.actor())?;
        let scope = crate::objections::queue_scope(&mut conn, view).await?;
        let mut rows = tickets::find(
            &mut conn,
            &tickets::Search {
                ticket_no: &query.to_uppercase(),
                // A number is not a name.
                name: if indexes.is_empty() { &query } else { "" },
                indexes: &indexes,
                state,
                units: &scope.units,
                department_id: &scope.waiting_on,
                limit: FOUND_MAX + 1,
            },
        )
        .await?;
        let more = rows.len() as i64 > FOUND_MAX;
        rows.truncate(FOUND_MAX as usize);
        Ok(pb::FindTicketsResponse {
            tickets: rows
                .into_iter()
                .map(|r| pb::FoundTicket {
                    ticket_id: r.id,
                    ticket_no: r.ticket_no,
                    state: r.state,
                    subject_name: r.subject_name,
                    subject_identifier: ident::mask(&r.subject_identifier),
                    org_unit_name: r.org_unit_name,
                    received_on: r.received_on,
                    closed_at_ms: r.closed_at.unwrap_or(0),
                })
                .collect(),
            more,
        })
    }

    /// The caller's queue. A cursor from the same day, calendar and filters
    /// gets only the tickets that changed since (and those that left);
    /// anything else gets the whole queue, nearest deadline first.
    pub(super) async fn queue(
        &self,
        caller: Caller,
        req: pb::ListQueueRequest,
    ) -> ApiResult<pb::ListQueueResponse> {
        let mut conn = self.ctx.db.read().await?;
        let view = authz::queue_view(caller.actor())?;
        let scope = crate::objections::queue_scope(&mut conn, view).await?;
        let scope = QueueScope {
            state: req.state.trim().to_string(),
            org_unit_id: req.org_unit_id.trim().to_string(),
            department_id: req.department_id.trim().to_string(),
            ..scope
        };
        if !scope.state.is_empty() && State::parse(&scope.state).is_none() {
            return Err(FieldError::new("state", Rule::UnknownValue).into());
        }
        let now = self.ctx.now_ms();
        let today = local_date(now);
        // Read first: every change numbered up to it is committed and seen below.
        let seq = tickets::current_seq(&mut conn).await?;
        let cal = cal_db::load(&mut conn).await?;
        let cal_version = cal_db::years(&mut conn)
            .await?
            .iter()
            .map(|y| y.updated_at)
            .max()
            .unwrap_or(0);
        let filters = idempotency::content_hash(&req, |r| r.cursor.clear());
        let warn = crate::objections::warn_days(&mut conn).await?;
        let submissions =
            crate::objections::submissions_due(&mut conn, caller.actor(), &cal, today, warn)
                .await?;
        let duties =
            crate::objections::Duties::of(&mut conn, caller.actor(), &cal, today, warn).await?;
        // A delivery or a sign-off changes the lists: the next answer is a
        // whole one.
        let delivered: String = submissions
            .iter()
            .map(|d| format!("{}:{},", d.department_id, d.period))
            .chain(duties.reviews.iter().map(|r| format!("{},", r.day)))
            .chain(duties.month_reports.iter().map(|m| format!("{},", m.month)))
            .chain(
                duties
                    .complaints
                    .iter()
                    .map(|c| format!("{},", c.complaint_no)),
            )
            .collect();
        let stamp = format!(
            "{today}.{cal_version}.{}.{}",
            &filters[..12],
            &hex_digest(&delivered)[..8]
        );
        let since = req
            .cursor
            .split_once('.')
            .filter(|(_, rest)| *rest == stamp)
            .and_then(|(n, _)| n.parse::<i64>().ok());
        let (rows, removed, full) = match since {
            Some(since) => {
                let changed =
                    queue::changed_since(&mut conn, &scope, since, QUEUE_CHANGES_MAX + 1).await?;
                if changed.len() as i64 > QUEUE_CHANGES_MAX {
                    (
                        queue::page(&mut conn, &scope, QUEUE_PAGE).await?,
                        Vec::new(),
                        true,
                    )
                } else {
                    let rows = queue::subset(&mut conn, &scope, &changed).await?;
                    let removed = changed
                        .into_iter()
                        .filter(|id| !rows.iter().any(|r| &r.id == id))
                        .collect();
                    (rows, removed, false)
                }
            }
            None => (
                queue::page(&mut conn, &scope, QUEUE_PAGE).await?,
                Vec::new(),
                true,
            ),
        };
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut letters = tickets::letters_for(&mut conn, &ids).await?;
        let mut departments = tickets::departments_for(&mut conn, &ids).await?;
        let items = rows
            .iter()
            .map(|row| {
                let mut ls = letters.remove(&row.id).unwrap_or_default();
                // A department sees its own letters and its reply clock.
                let liaison = matches!(view, authz::QueueView::WaitingOn(_));
                if let authz::QueueView::WaitingOn(own) = view {
                    ls.retain(|l| l.department_id == own);
                }
                let mut deadlines = running_deadlines(row, &ls, &cal, today, warn);
                if liaison {
                    deadlines.retain(|d| d.kind == kind::DEPARTMENT_REPLY);
                }
                let waiting = ls.iter().find(|l| l.replied_at.is_none());
                let (nearest_due, urgency) = match nearest(&deadlines) {
                    Some((d, u)) => (d.due.clone(), u.as_str()),
                    None => (String::new(), ""),
                };
                pb::QueueItem {
                    ticket_id: row.id.clone(),
                    ticket_no: row.ticket_no.clone(),
                    state: row.state.as_str().to_string(),
                    paused: row.paused_since.is_some(),
                    subject_name: row.subject_name.clone(),
                    org_unit_name: row.org_unit_name.clone(),
                    deadlines,
                    urgency: urgency.into(),
                    nearest_due,
                    version: row.version as u64,
                    letter_id: waiting.map(|l| l.id.clone()).unwrap_or_default(),
                    letter_no: waiting.map(|l| l.letter_no.clone()).unwrap_or_default(),
                    org_unit: Some(pb::UnitRef {
                        id: row.org_unit_id.clone(),
                        name: row.org_unit_name.clone(),
                    }),
                    departments: departments
                        .remove(&row.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(id, name)| pb::UnitRef { id, name })
                        .collect(),
                }
            })
            .collect();
        // Without next year's calendar the counters are left out and the
        // gap says why; the list itself stays usable.
        let stats = crate::objections::queue_stats(&mut conn, &scope, &cal, now, warn)
            .await?
            .ok()
            .map(|stats| {
                duties.count_into(pb::QueueStats {
                    late_submissions: crate::objections::late(&submissions),
                    ..stats
                })
            });
        // Per-unit and per-department counts: for those who see every ticket.
        let overview = full && view == authz::QueueView::All;
        let counts = |rows: Vec<(String, i64, i64)>| -> Vec<pb::UnitCount> {
            rows.into_iter()
                .map(|(name, open, overdue)| pb::UnitCount {
                    name,
                    open: open as u32,
                    overdue: overdue as u32,
                })
                .collect()
        };
        let (by_unit, by_department) = if overview {
            let day = today.to_string();
            (
                counts(tickets::counts_by_unit(&mut conn, &day).await?),
                counts(tickets::counts_by_department(&mut conn, &day).await?),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(pb::ListQueueResponse {
            full,
            items,
            removed,
            cursor: format!("{seq}.{stamp}"),
            submissions: if full { submissions } else { Vec::new() },
            reviews: if full { duties.reviews } else { Vec::new() },
            complaints: if full { duties.complaints } else { Vec::new() },
            month_reports: if full {
                duties.month_reports
            } else {
                Vec::new()
            },
            stats,
            today: today.to_string(),
            calendar_gap: super::calendar_gap(&cal, now),
            by_unit,
            by_department,
        })
    }
}

fn hex_digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}
