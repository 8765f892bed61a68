//! Department file imports, on both backends: good and bad rows, re-import,
//! a changed file, rights, and an interrupted import.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb;
use credit_desk_server::db::org_units;
use credit_desk_server::intake::{self, ImportError, Job};
use credit_desk_tests::{Session, TestServer, both_backends, reason, violations};
use tonic::Code;
use tonic_types::StatusExt;

use credit_desk_server::demo::{COURT_EXAMPLE as COURT, TAX_EXAMPLE as TAX};

async fn unit_id(srv: &TestServer, code: &str) -> String {
    let mut conn = srv.db.read().await.unwrap();
    org_units::get_by_code(&mut conn, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn count(srv: &TestServer, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

/// Uploads a file and returns (progress messages seen, final summary).
async fn upload(
    srv: &TestServer,
    session: &Session,
    department: &str,
    name: &str,
    content: &[u8],
    dry_run: bool,
) -> Result<(usize, pb::ImportSummary), tonic::Status> {
    let req = pb::ImportFileRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        department_id: unit_id(srv, department).await,
        file_name: name.into(),
        content: content.to_vec(),
        dry_run,
        period: String::new(),
    };
    send(session, req).await
}

async fn send(
    session: &Session,
    req: pb::ImportFileRequest,
) -> Result<(usize, pb::ImportSummary), tonic::Status> {
    let mut stream = session.intake().import_file(req).await?.into_inner();
    let mut seen = 0;
    while let Some(msg) = stream.message().await? {
        seen += 1;
        if let Some(summary) = msg.summary {
            return Ok((seen, summary));
        }
    }
    panic!("the stream ended without a summary");
}

both_backends!(
    court_file_good_and_bad_rows_then_reimport,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let subjects_before = count(srv, "subjects").await;
        let (seen, s) = upload(srv, &center, "D-COURT", "court-2025H1.xlsx", COURT, false)
            .await
            .unwrap();
        assert!(seen >= 2, "progress before the summary");
        assert_eq!(s.status, "applied");
        assert_eq!((s.rows_total, s.rows_accepted, s.rows_rejected), (7, 4, 3));
        assert_eq!(
            (s.records_created, s.records_updated, s.records_unchanged),
            (4, 0, 0)
        );
        let errors: Vec<(u32, &str)> = s
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                (6, "当事人证件号码"),
                (7, "类别"),
                (7, "执行状态"),
                (8, "结案日期")
            ]
        );
        assert_eq!(s.errors[0].reason, "校验位应为 5，实为 6");
        // 李建国 and 黄志强 and the cooperative were registered already.
        assert_eq!(count(srv, "subjects").await, subjects_before);
        assert_eq!(count(srv, "records").await, 4);
        let versions = count(srv, "record_versions").await;
        assert_eq!(versions, 4);
        // Dates from Excel date cells arrive as dates.
        let filed: String = sqlx::query_scalar(
            "SELECT v.start_date FROM record_versions v JOIN records r ON r.id = v.record_id
          WHERE r.source_key = '(2024)粤1284民初1001号'",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(filed, "2024-03-05");

        let (_, again) = upload(srv, &center, "D-COURT", "court-2025H1.xlsx", COURT, false)
            .await
            .unwrap();
        assert_eq!(again.status, "no_change");
        assert_eq!(
            (
                again.records_created,
                again.records_updated,
                again.records_unchanged
            ),
            (0, 0, 4)
        );
        assert_eq!(count(srv, "record_versions").await, versions);
        assert_eq!(count(srv, "imports").await, 2, "every import is logged");
    }
);

// The court's 2025H1 file imported in November 2026 used to count as its
// 2026H1 delivery. The period is the clerk's (checked), or proposed from
// the file's latest record date and said so; the import marks that one.
both_backends!(
    an_import_counts_for_the_period_named_or_proposed_from_its_dates,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let court = unit_id(srv, "D-COURT").await;
        let request = |period: &str, dry_run| pb::ImportFileRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            department_id: court.clone(),
            file_name: "court-2025H1.xlsx".into(),
            content: COURT.to_vec(),
            dry_run,
            period: period.into(),
        };
        let delivered = || async {
            sqlx::query_scalar::<_, String>(
                "SELECT period FROM imports WHERE period IS NOT NULL ORDER BY period",
            )
            .fetch_all(srv.db.pool())
            .await
            .unwrap()
        };
        // The file's latest record date is in the first half of 2025.
        let (_, dry) = send(&center, request("", true)).await.unwrap();
        assert_eq!((dry.period.as_str(), dry.period_proposed), ("2025H1", true));
        assert!(delivered().await.is_empty(), "a dry run delivers nothing");
        // Named by the clerk (typed loosely): that period is delivered.
        let (_, s) = send(&center, request(" 2025ｈ1 ", false)).await.unwrap();
        assert_eq!((s.period.as_str(), s.period_proposed), ("2025H1", false));
        assert_eq!(delivered().await, ["2025H1"]);
        for (period, text) in [
            ("2025Q1", "应为报送期，如 2025H1（上半年）或 2025FY（全年）"),
            ("2027H1", "年份应在 2000–2026 之间"),
        ] {
            let e = send(&center, request(period, false)).await.unwrap_err();
            assert_eq!(violations(&e), ["period"], "{period}");
            assert!(e.message().contains(text), "{period}: {}", e.message());
        }
        // The queue's header counts the late files its list shows.
        let q = center
            .objection()
            .list_queue(pb::ListQueueRequest::default())
            .await
            .unwrap()
            .into_inner();
        let late = q
            .submissions
            .iter()
            .filter(|s| s.urgency == "overdue")
            .count();
        assert!(late > 0);
        assert_eq!(q.stats.unwrap().late_submissions as usize, late);
        let home = center
            .auth()
            .home(pb::HomeRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            home.home.unwrap().queue.unwrap().late_submissions as usize,
            late
        );
    }
);

both_backends!(
    a_changed_row_becomes_a_new_version,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let (_, first) = upload(srv, &center, "D-TAX", "tax.csv", TAX, false)
            .await
            .unwrap();
        // 陈美铃 is not how 陈美玲 is registered: refused, not attached to her.
        let mismatch = first.errors.iter().find(|e| e.row == 6).unwrap();
        assert_eq!(mismatch.column, "纳税人名称");
        assert_eq!((first.rows_accepted, first.rows_rejected), (3, 3));
        assert_eq!(
            first.subjects_created, 1,
            "the Tencent code was not registered yet"
        );

        let changed = String::from_utf8(TAX.to_vec())
            .unwrap()
            .replace("860.5,已缴清", "860.5,部分缴纳");
        let (_, second) = upload(srv, &center, "D-TAX", "tax.csv", changed.as_bytes(), false)
            .await
            .unwrap();
        assert_eq!((second.records_updated, second.records_unchanged), (1, 2));
        let statuses: Vec<(i64, String)> = sqlx::query_as(
            "SELECT v.version, v.status FROM record_versions v JOIN records r ON r.id = v.record_id
          WHERE r.source_key = 'QS-2025-0002' ORDER BY v.version",
        )
        .fetch_all(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(
            statuses,
            [(1, "已缴清".to_string()), (2, "部分缴纳".to_string())]
        );
    }
);

both_backends!(
    dry_run_and_whole_file_problems_change_nothing,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let (_, dry) = upload(srv, &center, "D-COURT", "court.xlsx", COURT, true)
            .await
            .unwrap();
        assert_eq!(dry.status, "dry_run");
        assert_eq!(dry.records_created, 4, "says what it would do");
        assert_eq!(count(srv, "records").await, 0);

        // A court file sent as the tax department's lacks the tax columns.
        let e = upload(srv, &center, "D-TAX", "court.xlsx", COURT, false)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        let v = &e.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(v.field, "file");
        assert!(v.description.contains("纳税人识别号"), "{}", v.description);
        let e = upload(srv, &center, "D-TAX", "tax.xls", TAX, false)
            .await
            .unwrap_err();
        assert!(e.message().contains("xlsx"), "{}", e.message());
        assert_eq!(count(srv, "records").await, 0);
    }
);

both_backends!(
    crafted_files_are_refused_by_their_limits_and_the_server_goes_on,
    async |srv: &TestServer| {
        use credit_desk_server::intake::table::crafted::{sheet, workbook};
        let center = srv.session("center").await;
        let header =
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>当事人证件号码</t></is></c></row>"#;
        // One cell at the sheet's last position (this aborted the server).
        let far = workbook(&sheet(
            "",
            &format!(r#"{header}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#),
        ));
        let bomb = workbook(&sheet(
            "",
            &format!(
                "{header}{}",
                format!("<row>{}</row>", "<c/>".repeat(40)).repeat(12_500)
            ),
        ));
        let headers_only = "当事人证件号码,当事人名称\n".as_bytes();
        for (name, content, says) in [
            ("far.xlsx", far.as_slice(), "数据行超过上限 500000 行"),
            ("bomb.xlsx", bomb.as_slice(), "压缩炸弹"),
            ("empty.csv", headers_only, "没有数据行"),
        ] {
            let e = upload(srv, &center, "D-COURT", name, content, false)
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument, "{name}: {e:?}");
            let v = &e.get_details_bad_request().unwrap().field_violations[0];
            assert_eq!(v.field, "file", "{name}");
            assert!(v.description.contains(says), "{name}: {}", v.description);
        }
        // Nothing was imported, so no period counts as delivered.
        assert_eq!(count(srv, "imports").await, 0);
        // And the server still answers.
        srv.session("counter").await;
    }
);

both_backends!(
    a_gbk_csv_imports_like_its_utf8_original,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let text = std::str::from_utf8(TAX).unwrap();
        let (gbk, _, lossy) = encoding_rs::GBK.encode(text.trim_start_matches('\u{feff}'));
        assert!(!lossy);
        let (_, s) = upload(srv, &center, "D-TAX", "tax.csv", &gbk, false)
            .await
            .unwrap();
        let (_, utf8) = upload(srv, &center, "D-TAX", "tax.csv", TAX, true)
            .await
            .unwrap();
        assert_eq!(s.status, "applied");
        assert!(s.records_created > 0);
        // The UTF-8 file has the same content: nothing would change.
        assert_eq!(utf8.records_created + utf8.records_updated, 0);
        assert_eq!(utf8.records_unchanged, s.records_created);
    }
);

both_backends!(
    who_may_send_which_department_file,
    async |srv: &TestServer| {
        // The demo liaison belongs to the court.
        let liaison = srv.session("liaison").await;
        upload(srv, &liaison, "D-COURT", "court.xlsx", COURT, true)
            .await
            .unwrap();
        let e = upload(srv, &liaison, "D-TAX", "tax.csv", TAX, true)
            .await
            .unwrap_err();
        assert_eq!(reason(&e), reason_code::OUT_OF_SCOPE);
        let counter = srv.session("counter").await;
        let e = upload(srv, &counter, "D-TAX", "tax.csv", TAX, true)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        // Not a department at all.
        let center = srv.session("center").await;
        let e = upload(srv, &center, "T-DASHA", "tax.csv", TAX, true)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
    }
);

both_backends!(
    an_interrupted_import_leaves_nothing,
    async |srv: &TestServer| {
        let dept = {
            let mut conn = srv.db.read().await.unwrap();
            org_units::get_by_code(&mut conn, "D-COURT")
                .await
                .unwrap()
                .unwrap()
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let job = Job {
            department: &dept,
            file_name: "court.xlsx",
            bytes: COURT,
            operator_id: None,
            dry_run: false,
            period: None,
            lang: credit_desk_proto::Lang::Zh,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            now_ms: credit_desk_tests::T0,
            cancel: Some(cancel),
        };
        let subjects = count(srv, "subjects").await;
        // Cancelled once applying has begun (the import row is already written).
        let result = intake::run(&srv.db, job, |_, _| flag.store(true, Ordering::Relaxed)).await;
        assert!(matches!(result, Err(ImportError::Cancelled)), "{result:?}");
        for table in ["imports", "records", "record_versions", "import_errors"] {
            assert_eq!(count(srv, table).await, 0, "{table}");
        }
        assert_eq!(count(srv, "subjects").await, subjects);
    }
);

both_backends!(
    one_key_twice_in_a_file_makes_two_versions,
    async |srv: &TestServer| {
        let center = srv.session("center").await;
        let csv = "纳税人识别号,纳税人名称,欠税编号,欠税金额（元）,状态
9144030071526726XG,深圳市腾讯计算机系统有限公司,QS-9,100,未缴
9144030071526726XG,深圳市腾讯计算机系统有限公司,QS-9,100,已缴清
";
        let (_, s) = upload(srv, &center, "D-TAX", "t.csv", csv.as_bytes(), false)
            .await
            .unwrap();
        assert_eq!(
            (s.records_created, s.records_updated, s.subjects_created),
            (1, 1, 1)
        );
        let current: (i64, String) = sqlx::query_as(
            "SELECT r.current_version, v.status FROM records r
           JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(current, (2, "已缴清".to_string()));
    }
);

/// A tax file of `n` rows about new people (three chunks at 1 300).
fn tax_rows(n: u64) -> Vec<u8> {
    let mut csv = String::from("纳税人识别号,纳税人名称,欠税编号,欠税金额（元）,状态\n");
    for i in 0..n {
        let number = credit_desk_server::synth::person_number(900_000 + i);
        csv.push_str(&format!("{number},纳税人{i},QS-{i:05},100,未缴\n"));
    }
    csv.into_bytes()
}

fn tax_job<'a>(
    dept: &'a credit_desk_server::db::org_units::OrgUnitRow,
    bytes: &'a [u8],
) -> Job<'a> {
    Job {
        department: dept,
        file_name: "tax.csv",
        bytes,
        operator_id: None,
        dry_run: false,
        period: None,
        lang: credit_desk_proto::Lang::Zh,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        now_ms: credit_desk_tests::T0,
        cancel: None,
    }
}

async fn tax_dept(srv: &TestServer) -> credit_desk_server::db::org_units::OrgUnitRow {
    let mut conn = srv.db.read().await.unwrap();
    org_units::get_by_code(&mut conn, "D-TAX")
        .await
        .unwrap()
        .unwrap()
}

// Counters keep working during a large import: between its chunks no write
// lock is held (a counter's verification commits), and nothing of the
// import shows until the whole file is in.
both_backends!(
    a_large_import_lets_counters_write_and_shows_all_at_once,
    async |srv: &TestServer| {
        let dept = tax_dept(srv).await;
        let bytes = tax_rows(1_300);
        let counter = srv.session("counter").await;
        let mut checked = 0;
        let s = intake::run(&srv.db, tax_job(&dept, &bytes), |done, _| {
            if done == 0 || done == 1_300 {
                return;
            }
            // Between chunks: what a counter sees and can do.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    assert_eq!(count(srv, "visible_records").await, 0, "after {done} rows");
                    assert_eq!(
                        count(srv, "records").await,
                        i64::from(done),
                        "written pending"
                    );
                    credit_desk_tests::verify(srv, &counter.token, 1).await;
                })
            });
            checked += 1;
        })
        .await
        .unwrap();
        assert_eq!(checked, 2, "two pauses between three chunks");
        assert_eq!(s.records_created, 1_300);
        assert_eq!(count(srv, "visible_records").await, 1_300);
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE next_import IS NOT NULL OR current_version = 0",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(pending, 0, "the import is folded into its records");
        assert_eq!(count(srv, "verifications").await, 2);
    }
);

/// Runs the import until its first chunk is written, then "stops the
/// server" (a panic skips every clean-up, as a crash would).
async fn crash_after_first_chunk(srv: &TestServer, bytes: &[u8]) {
    use futures::FutureExt;
    let dept = tax_dept(srv).await;
    let run = intake::run(&srv.db, tax_job(&dept, bytes), |done, _| {
        assert!(done < 500, "the server stops here");
    });
    assert!(
        std::panic::AssertUnwindSafe(run)
            .catch_unwind()
            .await
            .is_err()
    );
}

// An import whose server stopped half-way holds back the department's next
// import until it is clearly abandoned, and is then rolled back whole:
// its pending versions, records and the subjects it registered.
both_backends!(
    an_abandoned_import_is_rolled_back_before_the_next,
    async |srv: &TestServer| {
        let subjects = count(srv, "subjects").await;
        let bytes = tax_rows(1_300);
        crash_after_first_chunk(srv, &bytes).await;
        assert_eq!(count(srv, "records").await, 500);
        assert_eq!(count(srv, "visible_records").await, 0);
        assert_eq!(count(srv, "subjects").await, subjects + 500);

        // Meanwhile someone refers to a person the import registered: a
        // refused query attempt is on record about them.
        let staged: String = sqlx::query_scalar(
            "SELECT id FROM subjects WHERE created_by_import IS NOT NULL ORDER BY id LIMIT 1",
        )
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
        let supervisor = srv.session("supervisor").await;
        let refused = supervisor
            .query()
            .run_query(credit_desk_tests::self_query(
                &staged,
                &credit_desk_tests::rid(),
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);

        let center = srv.session("center").await;
        let e = upload(srv, &center, "D-TAX", "tax.csv", &bytes, false)
            .await
            .unwrap_err();
        assert!(e.message().contains("正在进行"), "{e:?}");

        // The heartbeat counts the import's own running time on top of the
        // clock it started with: a minute more than the limit is past it.
        srv.clock
            .advance_ms(credit_desk_server::db::imports::ABANDONED_AFTER_MS + 60_000);
        let center = srv.session("center").await;
        let (_, s) = upload(srv, &center, "D-TAX", "tax.csv", &bytes, false)
            .await
            .unwrap();
        // The person on record stayed registered; the other 499 went.
        assert_eq!((s.records_created, s.subjects_created), (1_300, 1_299));
        assert_eq!(count(srv, "records").await, 1_300);
        assert_eq!(count(srv, "record_versions").await, 1_300);
        assert_eq!(count(srv, "subjects").await, subjects + 1_300);
        assert_eq!(count(srv, "imports").await, 1);
    }
);

// A server starting finds the import a stopped one left and rolls it back.
both_backends!(
    start_up_rolls_back_an_abandoned_import,
    async |srv: &TestServer| {
        let subjects = count(srv, "subjects").await;
        crash_after_first_chunk(srv, &tax_rows(600)).await;
        let later =
            credit_desk_tests::T0 + credit_desk_server::db::imports::ABANDONED_AFTER_MS + 60_000;
        credit_desk_server::db::imports::recover(&srv.db, later)
            .await
            .unwrap();
        for table in ["imports", "records", "record_versions", "import_errors"] {
            assert_eq!(count(srv, table).await, 0, "{table}");
        }
        assert_eq!(count(srv, "subjects").await, subjects);
    }
);
