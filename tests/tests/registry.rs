//! The registry's subject card and farmer households, on both backends.

use chrono::NaiveDate;
use credit_desk_proto::ident::make_person_number;
use credit_desk_proto::pb::{self, change_household_request::Change};
use credit_desk_server::demo::{DEMO_ORGANISATIONS, DEMO_PEOPLE};
use credit_desk_tests::{
    Session, TestServer, add_operator, both_backends, load_records, reason, rid,
};

async fn find(session: &Session, query: &str) -> pb::SubjectSummary {
    let found = session
        .identity()
        .list_subjects(pb::ListSubjectsRequest {
            query: query.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    found
        .subjects
        .into_iter()
        .find(|s| s.name == query)
        .unwrap_or_else(|| panic!("{query} is in the registry"))
}

async fn card(session: &Session, subject_id: &str) -> pb::GetSubjectResponse {
    session
        .identity()
        .get_subject(pb::GetSubjectRequest {
            subject_id: subject_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Each violation as "field: message".
fn violations(e: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    e.get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| format!("{}: {}", v.field, v.description))
                .collect()
        })
        .unwrap_or_else(|| vec![format!("<not a bad request: {e:?}>")])
}

async fn count(srv: &TestServer, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

both_backends!(
    the_center_sees_every_record_version_and_a_counter_none,
    async |srv: &TestServer| {
        load_records(srv).await;
        let center = srv.session("center").await;
        let li = find(&center, DEMO_PEOPLE[1].1).await;
        assert_eq!(
            li.identifier, DEMO_PEOPLE[1].0,
            "the center sees numbers whole"
        );
        let seen = card(&center, &li.id).await;
        assert!(seen.records_shown);
        assert!(!seen.records.is_empty());
        let files: Vec<&str> = seen
            .records
            .iter()
            .flat_map(|r| &r.versions)
            .map(|v| v.import_file.as_str())
            .collect();
        assert!(files.contains(&"court.xlsx"), "{files:?}");
        assert!(files.contains(&"old.csv"), "{files:?}");
        assert!(
            seen.records.iter().all(|r| r.versions[0].current),
            "the newest version is first and current"
        );
        assert!(
            seen.records
                .iter()
                .any(|r| r.source_key == "(2016)粤1284民初1号"),
            "case numbers whole"
        );
        // 李建国 heads the demo household.
        let households: Vec<(&str, &str)> = seen
            .households
            .iter()
            .map(|h| (h.name.as_str(), h.relation.as_str()))
            .collect();
        assert_eq!(households, [("李建国户", "户主")]);
        let audited = count(
            srv,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'subject.card'",
        )
        .await;
        assert_eq!(audited, 1, "who looked at the records is kept");
        // The household's card lists its members' records, each named.
        let household = card(&center, &seen.households[0].household_id).await;
        let members: Vec<&str> = household
            .records
            .iter()
            .map(|r| r.member_name.as_str())
            .collect();
        assert!(
            !members.is_empty() && members.iter().all(|m| *m == "李建国"),
            "{members:?}"
        );
        assert_eq!(
            household.records.len(),
            seen.records.len(),
            "陈美玲 has none in this fixture; 李建国's all appear"
        );

        let counter = srv.session("counter").await;
        let li = find(&counter, DEMO_PEOPLE[1].1).await;
        assert_eq!(
            li.identifier, "441284********0010",
            "a counter sees it masked"
        );
        let seen = card(&counter, &li.id).await;
        assert!(!seen.records_shown);
        assert!(seen.records.is_empty() && seen.queries.is_empty());
        assert_eq!(seen.households.len(), 1);
        assert_eq!(
            count(
                srv,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'subject.card'"
            )
            .await,
            2,
            "a card without records is not a look at records"
        );
        // The household's card lists its members, the head first.
        let household = card(&counter, &seen.households[0].household_id).await;
        let h = household.household.unwrap();
        let members: Vec<(&str, &str)> = h
            .members
            .iter()
            .map(|m| {
                (
                    m.person.as_ref().unwrap().name.as_str(),
                    m.relation.as_str(),
                )
            })
            .collect();
        assert_eq!(members, [("李建国", "户主"), ("陈美玲", "配偶")]);
        assert_eq!(h.village, "大沙镇马鞍村");
    }
);

fn add(household_id: &str, identifier: &str, relation: &str) -> pb::ChangeHouseholdRequest {
    pb::ChangeHouseholdRequest {
        request_id: rid(),
        household_id: household_id.into(),
        change: Some(Change::AddMember(pb::AddHouseholdMember {
            identifier: identifier.into(),
            relation: relation.into(),
        })),
    }
}

async fn register(session: &Session, number: &str, name: &str) -> String {
    session
        .identity()
        .register_subject(pb::RegisterSubjectRequest {
            request_id: rid(),
            identifier: number.into(),
            name: name.into(),
            address: "四会市大沙镇东村 1 号".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap()
        .id
}

both_backends!(
    a_township_keeps_its_households_once_per_request,
    async |srv: &TestServer| {
        let counter = srv.session("counter").await;
        let born = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let head = make_person_number("441284", born(1970, 3, 1), 11);
        let child = make_person_number("441284", born(1998, 5, 2), 22);
        let head_id = register(&counter, &head, "王大山").await;
        let child_id = register(&counter, &child, "王小山").await;

        let create = pb::CreateHouseholdRequest {
            request_id: rid(),
            head_id: head_id.clone(),
            village: "大沙镇东村".into(),
        };
        let first = counter
            .identity()
            .create_household(create.clone())
            .await
            .unwrap()
            .into_inner();
        let again = counter
            .identity()
            .create_household(create)
            .await
            .unwrap()
            .into_inner();
        let household = first.subject.unwrap();
        assert_eq!(household.name, "王大山户");
        assert_eq!(household.township, "大沙镇便民服务中心");
        assert_eq!(
            again.subject.unwrap().id,
            household.id,
            "a retry creates once"
        );
        assert_eq!(
            count(srv, "SELECT COUNT(*) FROM households").await,
            2,
            "the demo's and this one"
        );
        // One household per head.
        let e = counter
            .identity()
            .create_household(pb::CreateHouseholdRequest {
                request_id: rid(),
                head_id: head_id.clone(),
                village: "大沙镇东村".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            violations(&e),
            ["head_id: 此人已是一个农户的户主，请在该农户中修改"]
        );

        let id = household.id.as_str();
        let done = counter
            .identity()
            .change_household(add(id, &child, "子女"))
            .await
            .unwrap()
            .into_inner();
        let members = done.household.unwrap().members;
        assert_eq!(members.len(), 2);
        assert_eq!(
            members[0].person.as_ref().unwrap().id,
            head_id,
            "head first"
        );
        for (identifier, want) in [
            (child.as_str(), "identifier: 此人已是该农户成员"),
            (
                DEMO_ORGANISATIONS[0].0,
                "identifier: 应为自然人的居民身份证号码",
            ),
            (
                "11010519491231002X",
                "identifier: 库中无此证件号码，请先登记此人",
            ),
        ] {
            let e = counter
                .identity()
                .change_household(add(id, identifier, "子女"))
                .await
                .unwrap_err();
            assert_eq!(violations(&e), [want]);
        }
        let remove = |person: &str| pb::ChangeHouseholdRequest {
            request_id: rid(),
            household_id: id.into(),
            change: Some(Change::RemoveMember(person.into())),
        };
        let e = counter
            .identity()
            .change_household(remove(&head_id))
            .await
            .unwrap_err();
        assert_eq!(
            violations(&e),
            ["remove_member: 户主不能移出；请先将另一成员设为户主"]
        );
        // A new head needs the old head's relation to them.
        let details = |relation: &str| pb::ChangeHouseholdRequest {
            request_id: rid(),
            household_id: id.into(),
            change: Some(Change::Details(pb::HouseholdDetails {
                village: "大沙镇东村二组".into(),
                head_id: child_id.clone(),
                former_head_relation: relation.into(),
            })),
        };
        let e = counter
            .identity()
            .change_household(details(""))
            .await
            .unwrap_err();
        assert_eq!(violations(&e), ["former_head_relation: 必填"]);
        let changed = counter
            .identity()
            .change_household(details("父母"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(changed.subject.unwrap().name, "王小山户");
        let h = changed.household.unwrap();
        assert_eq!(h.village, "大沙镇东村二组");
        let relations: Vec<(&str, &str)> = h
            .members
            .iter()
            .map(|m| {
                (
                    m.person.as_ref().unwrap().name.as_str(),
                    m.relation.as_str(),
                )
            })
            .collect();
        assert_eq!(relations, [("王小山", "户主"), ("王大山", "父母")]);
        // The new head heads one household only; the old head, no longer
        // heading one, may found another.
        let e = counter
            .identity()
            .create_household(pb::CreateHouseholdRequest {
                request_id: rid(),
                head_id: child_id.clone(),
                village: "大沙镇东村".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            violations(&e),
            ["head_id: 此人已是一个农户的户主，请在该农户中修改"]
        );
        // Now the old head may leave; a retry of that removal changes nothing more.
        let leave = remove(&head_id);
        counter
            .identity()
            .change_household(leave.clone())
            .await
            .unwrap();
        let replay = counter
            .identity()
            .change_household(leave)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(replay.household.unwrap().members.len(), 1);
        let second = counter
            .identity()
            .create_household(pb::CreateHouseholdRequest {
                request_id: rid(),
                head_id: head_id.clone(),
                village: "大沙镇西村".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(second.subject.unwrap().name, "王大山户");
        assert!(second.keeps_household, "the township keeps its households");

        // Another township's counter, and roles that keep no households.
        add_operator(srv, "jianggu", pb::Role::Counter, "T-JIANGGU").await;
        let other = srv.session("jianggu").await;
        let e = other
            .identity()
            .change_household(add(id, &head, "父母"))
            .await
            .unwrap_err();
        assert_eq!(reason(&e), "OUT_OF_SCOPE");
        // ...and its card says so, so the screen offers no household keys.
        assert!(!card(&other, id).await.keeps_household);
        let supervisor = srv.session("supervisor").await;
        let e = supervisor
            .identity()
            .change_household(add(id, &head, "父母"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        let center = srv.session("center").await;
        center
            .identity()
            .change_household(add(id, &head, "父母"))
            .await
            .unwrap();
        assert_eq!(
            count(
                srv,
                "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'household.%'"
            )
            .await,
            6,
            "create, add, change, remove, create, add — retries and refusals write nothing"
        );
    }
);

both_backends!(
    a_name_with_the_start_of_a_number_narrows_the_registry,
    async |srv: &TestServer| {
        let search = async |session: &Session, query: &str| {
            session
                .identity()
                .list_subjects(pb::ListSubjectsRequest {
                    query: query.into(),
                    ..Default::default()
                })
                .await
                .map(|r| {
                    r.into_inner()
                        .subjects
                        .into_iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                })
        };
        let center = srv.session("center").await;
        // The household's number starts with H: not a match.
        assert_eq!(search(&center, "李 4412841965").await.unwrap(), ["李建国"]);
        assert!(search(&center, "李 4412841990").await.unwrap().is_empty());
        let counter = srv.session("counter").await;
        assert_eq!(search(&counter, "李 441284").await.unwrap(), ["李建国"]);
        // A counter sees the region code only, and a part of a number alone
        // finds nothing (numbers are sealed): both refused, saying why.
        let e = search(&counter, "李 4412841965").await.unwrap_err();
        assert_eq!(
            violations(&e),
            ["query: 号码开头最多输入 6 位（其余号码不向本岗位显示）"]
        );
        let e = search(&counter, "441284").await.unwrap_err();
        assert_eq!(
            violations(&e),
            ["query: 号码的一部分须与姓名一起输入（如“李建国 4412”），或输入完整号码"]
        );
    }
);

// A name search reads the name index from the name's start, in the page's
// order, and stops at the page: a "contains" match read every subject
// (1–3 s a search in a county of a million).
both_backends!(
    a_name_search_reads_the_name_index_in_order,
    async |srv: &TestServer| {
        use credit_desk_server::db::{Backend, subjects};
        use sqlx::Row;
        let mut conn = srv.db.pool().acquire().await.unwrap();
        let postgres = srv.db.backend() == Backend::Postgres;
        // The demo's few subjects fit one page: PostgreSQL's planner is
        // told that reading them all costs what it would in a county.
        let settings = ["enable_seqscan", "enable_bitmapscan"];
        for setting in settings.iter().filter(|_| postgres) {
            let sql = format!("SET {setting} = off");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let (explain, column) = match postgres {
            true => ("EXPLAIN", 0),
            false => ("EXPLAIN QUERY PLAN", 3),
        };
        let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{explain} {}",
            subjects::BY_NAME
        )))
        .bind("李")
        .bind("李\u{10FFFF}")
        .bind("")
        .bind(20i64)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(column))
        .collect();
        for setting in settings.iter().filter(|_| postgres) {
            let sql = format!("RESET {setting}");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let plan = plan.join("\n");
        match srv.db.backend() {
            Backend::Sqlite => {
                assert!(
                    plan.contains("SEARCH s USING INDEX subjects_name (name>? AND name<?)"),
                    "{plan}"
                );
                assert!(!plan.contains("SCAN s"), "{plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            }
            Backend::Postgres => {
                assert!(plan.contains("subjects_name_binary"), "{plan}");
                assert!(!plan.contains("Seq Scan on subjects"), "{plan}");
                assert!(!plan.contains("Sort"), "{plan}");
            }
        }
        // Found by the start of the name; the page's order is the name's.
        let center = srv.session("center").await;
        let names = |found: Vec<pb::SubjectSummary>| -> Vec<String> {
            found.into_iter().map(|s| s.name).collect()
        };
        let found = center
            .identity()
            .list_subjects(pb::ListSubjectsRequest {
                query: "李".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .subjects;
        let found = names(found);
        assert!(
            !found.is_empty() && found.iter().all(|n| n.starts_with('李')),
            "{found:?}"
        );
        let mut sorted = found.clone();
        sorted.sort();
        assert_eq!(found, sorted);
    }
);
