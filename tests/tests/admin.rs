//! Administration RPCs, access control on every method, idempotent creates.

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb::{self, OrgUnitKind, Role};
use credit_desk_tests::{DEMO_PASSWORD, Session, TestServer, authed, both_backends, login, reason};
use tonic::Code;
use tonic_types::StatusExt;

async fn unit_id(admin: &Session, code: &str) -> String {
    let units = admin
        .admin()
        .list_org_units(pb::ListOrgUnitsRequest {})
        .await
        .unwrap()
        .into_inner()
        .org_units;
    units.into_iter().find(|u| u.code == code).unwrap().id
}

fn new_operator(request_id: &str, username: &str, unit: &str) -> pb::CreateOperatorRequest {
    pb::CreateOperatorRequest {
        request_id: request_id.into(),
        username: username.into(),
        display_name: "张三".into(),
        role: Role::Counter as i32,
        org_unit_id: unit.into(),
        initial_password: "first2026go".into(),
    }
}

async fn operator_count(srv: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM operators")
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

/// Calls every RPC that needs a session with the given token (or none) and
/// returns each method's outcome code.
async fn call_every_rpc(srv: &TestServer, token: Option<&str>) -> Vec<(&'static str, Code)> {
    fn req<T>(m: T, token: Option<&str>) -> tonic::Request<T> {
        match token {
            Some(t) => authed(m, t),
            None => tonic::Request::new(m),
        }
    }
    let code = |r: Result<tonic::Response<_>, tonic::Status>| match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    };
    let (mut auth, mut admin) = (srv.auth(), srv.admin());
    let id = uuid::Uuid::now_v7().to_string();
    vec![
        (
            "Home",
            code(
                auth.home(req(pb::HomeRequest {}, token))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "ChangePassword",
            code(
                auth.change_password(req(pb::ChangePasswordRequest::default(), token))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "ListOrgUnits",
            code(
                admin
                    .list_org_units(req(pb::ListOrgUnitsRequest {}, token))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "CreateOrgUnit",
            code(
                admin
                    .create_org_unit(req(
                        pb::CreateOrgUnitRequest {
                            request_id: id.clone(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "ListOperators",
            code(
                admin
                    .list_operators(req(pb::ListOperatorsRequest::default(), token))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "CreateOperator",
            code(
                admin
                    .create_operator(req(
                        pb::CreateOperatorRequest {
                            request_id: id.clone(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "SetOperatorEnabled",
            code(
                admin
                    .set_operator_enabled(req(
                        pb::SetOperatorEnabledRequest {
                            operator_id: id.clone(),
                            enabled: true,
                        },
                        token,
                    ))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        (
            "ResetPassword",
            code(
                admin
                    .reset_password(req(
                        pb::ResetPasswordRequest {
                            operator_id: id.clone(),
                            new_password: "x".into(),
                        },
                        token,
                    ))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
        // Last: it ends the session.
        (
            "Logout",
            code(
                auth.logout(req(pb::LogoutRequest {}, token))
                    .await
                    .map(|_| tonic::Response::new(())),
            ),
        ),
    ]
}

both_backends!(
    every_rpc_refuses_missing_and_foreign_tokens,
    async |srv: &TestServer| {
        // A token from another server (another database) means nothing here.
        let other = TestServer::start(credit_desk_tests::Backend::Sqlite)
            .await
            .unwrap();
        let foreign = other.session("admin").await;
        other.finish().await;
        for token in [None, Some("not-a-token"), Some(foreign.token.as_str())] {
            for (method, code) in call_every_rpc(srv, token).await {
                assert_eq!(code, Code::Unauthenticated, "{method} with {token:?}");
            }
        }
        // Health and reflection need no session.
        let mut health = tonic_health::pb::health_client::HealthClient::new(srv.channel.clone());
        let resp = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            resp.status(),
            tonic_health::pb::health_check_response::ServingStatus::Serving
        );
    }
);

both_backends!(
    admin_methods_need_the_admin_role,
    async |srv: &TestServer| {
        for user in ["counter", "center", "liaison", "bank", "supervisor"] {
            let session = srv.session(user).await;
            for (method, code) in call_every_rpc(srv, Some(&session.token)).await {
                match method {
                    // Session methods are everyone's (ChangePassword fails only
                    // on its empty fields; Logout ends the session, last).
                    "Home" | "Logout" => assert_eq!(code, Code::Ok, "{user} {method}"),
                    "ChangePassword" => assert_eq!(code, Code::InvalidArgument, "{user} {method}"),
                    _ => assert_eq!(code, Code::PermissionDenied, "{user} {method}"),
                }
            }
        }
        let admin = srv.session("admin").await;
        let e = srv
            .admin()
            .list_org_units(authed(pb::ListOrgUnitsRequest {}, "x"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
        let units = admin
            .admin()
            .list_org_units(pb::ListOrgUnitsRequest {})
            .await
            .unwrap()
            .into_inner()
            .org_units;
        // The whole demo tree, depth-first: the center, then its children by code.
        let codes: Vec<_> = units.iter().map(|u| (u.code.as_str(), u.depth)).collect();
        assert_eq!(
            codes,
            [
                ("CENTER", 0),
                ("B-CCB", 1),
                ("B-RCB", 1),
                ("D-AGRI", 1),
                ("D-COURT", 1),
                ("D-ENV", 1),
                ("D-HRSS", 1),
                ("D-POLICE", 1),
                ("D-POWER", 1),
                ("D-SAMR", 1),
                ("D-TAX", 1),
                ("D-WATER", 1),
                ("T-DASHA", 1),
                ("V-DASHA-01", 2),
                ("T-JIANGGU", 1),
                ("T-JINGKOU", 1),
            ]
        );
    }
);

both_backends!(a_retried_create_creates_once, async |srv: &TestServer| {
    let admin = srv.session("admin").await;
    let unit = unit_id(&admin, "T-JIANGGU").await;
    let before = operator_count(srv).await;
    let rid = uuid::Uuid::now_v7().to_string();
    let first = admin
        .admin()
        .create_operator(new_operator(&rid, "zhang.san", &unit))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.replayed);
    let again = admin
        .admin()
        .create_operator(new_operator(&rid, "zhang.san", &unit))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(
        again.operator.unwrap().id,
        first.operator.clone().unwrap().id
    );
    assert_eq!(operator_count(srv).await, before + 1);

    // The same request id with other content is refused, not replayed.
    let e = admin
        .admin()
        .create_operator(new_operator(&rid, "li.si", &unit))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), reason_code::REQUEST_ID_REUSED);
    // A new request id for the same username is a duplicate.
    let e = admin
        .admin()
        .create_operator(new_operator(
            &uuid::Uuid::now_v7().to_string(),
            "zhang.san",
            &unit,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    assert_eq!(
        e.get_details_bad_request().unwrap().field_violations[0].field,
        "username"
    );
    assert_eq!(operator_count(srv).await, before + 1);

    // Org units the same way.
    let center = unit_id(&admin, "CENTER").await;
    let req = pb::CreateOrgUnitRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        code: "T-DIDOU".into(),
        name: "地豆镇便民服务中心".into(),
        kind: OrgUnitKind::Township as i32,
        parent_id: center,
    };
    let a = admin
        .admin()
        .create_org_unit(req.clone())
        .await
        .unwrap()
        .into_inner();
    let b = admin
        .admin()
        .create_org_unit(req)
        .await
        .unwrap()
        .into_inner();
    assert!(!a.replayed && b.replayed);
    assert_eq!(a.org_unit.unwrap().id, b.org_unit.unwrap().id);
});

both_backends!(concurrent_retries_create_once, async |srv: &TestServer| {
    let admin = srv.session("admin").await;
    let unit = unit_id(&admin, "T-DASHA").await;
    let before = operator_count(srv).await;
    let rid = uuid::Uuid::now_v7().to_string();
    let calls = (0..4).map(|_| {
        let mut client = admin.admin();
        let req = new_operator(&rid, "wang.wu", &unit);
        async move { client.create_operator(req).await.map(|r| r.into_inner()) }
    });
    let results = futures::future::join_all(calls).await;
    let ids: std::collections::HashSet<_> = results
        .into_iter()
        .map(|r| r.expect("every retry succeeds").operator.unwrap().id)
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(operator_count(srv).await, before + 1);
});

both_backends!(
    create_operator_checks_every_field,
    async |srv: &TestServer| {
        let admin = srv.session("admin").await;
        let e = admin
            .admin()
            .create_operator(pb::CreateOperatorRequest {
                request_id: "nope".into(),
                username: "Bad Name".into(),
                display_name: String::new(),
                role: 0,
                org_unit_id: String::new(),
                initial_password: "abc".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        let fields: Vec<_> = e
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "request_id",
                "username",
                "display_name",
                "role",
                "org_unit_id",
                "initial_password"
            ]
        );

        // A bank officer cannot belong to a township.
        let township = unit_id(&admin, "T-DASHA").await;
        let mut req = new_operator(&uuid::Uuid::now_v7().to_string(), "zhou.liu", &township);
        req.role = Role::Bank as i32;
        let e = admin.admin().create_operator(req).await.unwrap_err();
        assert_eq!(
            e.get_details_bad_request().unwrap().field_violations[0].field,
            "role"
        );
        // An unknown unit is named as such.
        let req = new_operator(
            &uuid::Uuid::now_v7().to_string(),
            "zhou.liu",
            &uuid::Uuid::now_v7().to_string(),
        );
        let e = admin.admin().create_operator(req).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        // Messages follow the caller's language.
        let mut req = tonic::Request::new(new_operator("x", "zhou.liu", &township));
        req.metadata_mut()
            .insert("accept-language", "en".parse().unwrap());
        let e = admin.admin().create_operator(req).await.unwrap_err();
        assert!(e.message().contains("must be a UUID"), "{}", e.message());
    }
);

both_backends!(
    new_operator_must_change_password_first,
    async |srv: &TestServer| {
        let admin = srv.session("admin").await;
        let unit = unit_id(&admin, "T-DASHA").await;
        admin
            .admin()
            .create_operator(new_operator(
                &uuid::Uuid::now_v7().to_string(),
                "zhao.qi",
                &unit,
            ))
            .await
            .unwrap();
        let resp = srv
            .auth()
            .login(pb::LoginRequest {
                username: "zhao.qi".into(),
                password: "first2026go".into(),
                terminal: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(resp.home.unwrap().operator.unwrap().must_change_password);
        let changed = srv
            .auth()
            .change_password(authed(
                pb::ChangePasswordRequest {
                    current_password: "first2026go".into(),
                    new_password: "own2026pass".into(),
                },
                &resp.session_token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!changed.home.unwrap().operator.unwrap().must_change_password);
    }
);

both_backends!(disable_and_reset, async |srv: &TestServer| {
    let admin = srv.session("admin").await;
    let counter = srv.session("counter").await;
    let ops = admin
        .admin()
        .list_operators(pb::ListOperatorsRequest {
            query: "counter".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .operators;
    assert_eq!(ops.len(), 1);
    let id = ops[0].id.clone();

    let disabled = admin
        .admin()
        .set_operator_enabled(pb::SetOperatorEnabledRequest {
            operator_id: id.clone(),
            enabled: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!disabled.operator.unwrap().enabled);
    let e = counter.auth().home(pb::HomeRequest {}).await.unwrap_err();
    assert_eq!(
        e.code(),
        Code::Unauthenticated,
        "a disabled operator's sessions end"
    );
    let e = login(srv, "counter", DEMO_PASSWORD).await.unwrap_err();
    assert_eq!(reason(&e), reason_code::ACCOUNT_DISABLED);

    // An administrator cannot disable themself.
    let me = admin
        .auth()
        .home(pb::HomeRequest {})
        .await
        .unwrap()
        .into_inner();
    let e = admin
        .admin()
        .set_operator_enabled(pb::SetOperatorEnabledRequest {
            operator_id: me.home.unwrap().operator.unwrap().id,
            enabled: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    // Re-enable; lock the account; a reset lifts the lock and forces a change.
    srv.clock.advance_ms(1_000);
    admin
        .admin()
        .set_operator_enabled(pb::SetOperatorEnabledRequest {
            operator_id: id.clone(),
            enabled: true,
        })
        .await
        .unwrap();
    for _ in 0..5 {
        login(srv, "counter", "wrong-pass1").await.unwrap_err();
    }
    let e = login(srv, "counter", DEMO_PASSWORD).await.unwrap_err();
    assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED);
    let listed = admin
        .admin()
        .list_operators(pb::ListOperatorsRequest {
            query: "counter".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .operators;
    assert!(listed[0].locked_until_ms > 0, "the list shows the lock");
    let reset = admin
        .admin()
        .reset_password(pb::ResetPasswordRequest {
            operator_id: id,
            new_password: "fresh2026x".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .operator
        .unwrap();
    assert!(reset.must_change_password);
    assert_eq!(reset.locked_until_ms, 0);
    login(srv, "counter", "fresh2026x").await.unwrap();
});

both_backends!(operators_page_with_cursors, async |srv: &TestServer| {
    let admin = srv.session("admin").await;
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let page = admin
            .admin()
            .list_operators(pb::ListOperatorsRequest {
                page: Some(pb::PageRequest {
                    cursor: cursor.clone(),
                    limit: 4,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.operators.len() <= 4);
        seen.extend(page.operators.into_iter().map(|o| o.username));
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(
        seen,
        [
            "admin",
            "bank",
            "center",
            "counter",
            "liaison",
            "supervisor"
        ]
    );

    // Scoped to one unit's subtree.
    let dasha = unit_id(&admin, "T-DASHA").await;
    let page = admin
        .admin()
        .list_operators(pb::ListOperatorsRequest {
            org_unit_id: dasha,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = page.operators.iter().map(|o| o.username.as_str()).collect();
    assert_eq!(names, ["counter"]);
});

// A locked-out clerk identified in person is unlocked without a password
// reset: the old password works again at once, the lock's failures no
// longer count, and the list shows when each operator last logged in.
both_backends!(
    an_operator_is_unlocked_keeping_the_password,
    async |srv: &TestServer| {
        login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        let admin = srv.session("admin").await;
        srv.clock.advance_ms(1_000);
        for _ in 0..5 {
            login(srv, "counter", "wrong-pass1").await.unwrap_err();
        }
        let e = login(srv, "counter", DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED);
        let list = async |query: &str| {
            admin
                .admin()
                .list_operators(pb::ListOperatorsRequest {
                    query: query.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .operators
        };
        let counter = list("counter").await.remove(0);
        assert!(counter.locked_until_ms > 0);
        assert_eq!(
            counter.last_login_at_ms,
            credit_desk_tests::T0,
            "the one good login"
        );
        assert_eq!(list("liaison").await[0].last_login_at_ms, 0, "never");

        let unlocked = admin
            .admin()
            .unlock_operator(pb::UnlockOperatorRequest {
                operator_id: counter.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .operator
            .unwrap();
        assert_eq!(unlocked.locked_until_ms, 0);
        assert!(!unlocked.must_change_password, "the password is kept");
        login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        let audited: Vec<(String,)> =
            sqlx::query_as("SELECT target FROM audit_log WHERE action = 'operator.unlocked'")
                .fetch_all(srv.db.pool())
                .await
                .unwrap();
        assert_eq!(audited, [(counter.id.clone(),)]);

        let denied = srv
            .session("center")
            .await
            .admin()
            .unlock_operator(pb::UnlockOperatorRequest {
                operator_id: counter.id,
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
);

async fn operator_id(srv: &TestServer, username: &str) -> String {
    sqlx::query_scalar("SELECT id FROM operators WHERE username = $1")
        .bind(username)
        .fetch_one(srv.db.pool())
        .await
        .unwrap()
}

/// Each violation as "field: message".
fn refused(e: &tonic::Status) -> Vec<String> {
    e.get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| format!("{}: {}", v.field, v.description))
                .collect()
        })
        .unwrap_or_else(|| vec![format!("<not a bad request: {e:?}>")])
}

both_backends!(
    an_operator_is_renamed_moved_and_given_another_role,
    async |srv: &TestServer| {
        let admin = srv.session("admin").await;
        let counter = operator_id(srv, "counter").await;
        let jianggu = unit_id(&admin, "T-JIANGGU").await;
        let update = |role: Role, unit: &str| pb::UpdateOperatorRequest {
            operator_id: counter.clone(),
            display_name: " 张柜员 ".into(),
            role: role as i32,
            org_unit_id: unit.into(),
        };
        let e = admin
            .admin()
            .update_operator(update(Role::Center, &jianggu))
            .await
            .unwrap_err();
        assert_eq!(
            refused(&e),
            ["role: 角色与机构类型不符：柜台属乡镇/村站，联络员属部门，查询员属银行"]
        );
        let moved = admin
            .admin()
            .update_operator(update(Role::Counter, &jianggu))
            .await
            .unwrap()
            .into_inner()
            .operator
            .unwrap();
        assert_eq!(
            (moved.display_name.as_str(), moved.org_unit_name.as_str()),
            ("张柜员", "江谷镇便民服务中心")
        );
        // The move takes effect on the next call: the queue is Jianggu's now.
        let session = srv.session("counter").await;
        let home = session
            .auth()
            .home(pb::HomeRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            home.home.unwrap().operator.unwrap().org_unit_name,
            "江谷镇便民服务中心"
        );
        // An administrator keeps their own role and unit.
        let me = operator_id(srv, "admin").await;
        let center = unit_id(&admin, "CENTER").await;
        let e = admin
            .admin()
            .update_operator(pb::UpdateOperatorRequest {
                operator_id: me,
                display_name: "管理员".into(),
                role: Role::Center as i32,
                org_unit_id: center,
            })
            .await
            .unwrap_err();
        assert_eq!(
            refused(&e),
            ["role: 不能修改本人的角色或所属单位，请由另一名管理员修改"]
        );
        let audited: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'operator.update'")
                .fetch_one(srv.db.pool())
                .await
                .unwrap();
        assert_eq!(audited, 1);
    }
);

both_backends!(
    units_are_renamed_moved_and_disabled,
    async |srv: &TestServer| {
        let admin = srv.session("admin").await;
        let dasha = unit_id(&admin, "T-DASHA").await;
        let jianggu = unit_id(&admin, "T-JIANGGU").await;
        let center = unit_id(&admin, "CENTER").await;
        let station = admin
            .admin()
            .create_org_unit(pb::CreateOrgUnitRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                code: "S-MAAN".into(),
                name: "马鞍村信用服务站".into(),
                kind: OrgUnitKind::VillageStation as i32,
                parent_id: dasha.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .org_unit
            .unwrap();
        let change =
            |unit: &str, name: &str, parent: &str, enabled: bool| pb::UpdateOrgUnitRequest {
                org_unit_id: unit.into(),
                name: name.into(),
                parent_id: parent.into(),
                enabled,
            };
        // Renamed and moved to another township in one change.
        let moved = admin
            .admin()
            .update_org_unit(change(&station.id, "马鞍村服务站", &jianggu, true))
            .await
            .unwrap()
            .into_inner()
            .org_unit
            .unwrap();
        assert_eq!(
            (moved.name.as_str(), moved.parent_id.as_str()),
            ("马鞍村服务站", jianggu.as_str())
        );
        let path: String = sqlx::query_scalar("SELECT path FROM org_units WHERE id = $1")
            .bind(&station.id)
            .fetch_one(srv.db.pool())
            .await
            .unwrap();
        assert_eq!(path, format!("/{center}/{jianggu}/{}/", station.id));
        for (req, want) in [
            (
                change(&dasha, "大沙镇便民服务中心", &station.id, true),
                "parent_id: 不能设在该上级之下：村站属乡镇，其余属中心",
            ),
            (
                change(&center, "四会市综合征信中心", "", false),
                "enabled: 中心（根单位）不能移动或停用",
            ),
        ] {
            let e = admin.admin().update_org_unit(req).await.unwrap_err();
            assert_eq!(refused(&e), [want]);
        }
        let e = admin
            .admin()
            .update_org_unit(change(&jianggu, "江谷镇", &station.id, true))
            .await
            .unwrap_err();
        assert_eq!(refused(&e), ["parent_id: 不能移到本单位或其下级单位之下"]);

        // Disabled: its counter's session ends and logins are refused;
        // enabled again, the counter logs in.
        let counter = srv.session("counter").await;
        admin
            .admin()
            .update_org_unit(change(&dasha, "大沙镇便民服务中心", &center, false))
            .await
            .unwrap();
        let e = counter.auth().home(pb::HomeRequest {}).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        let e = login(srv, "counter", DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::ACCOUNT_DISABLED);
        let listed = admin
            .admin()
            .list_org_units(pb::ListOrgUnitsRequest {})
            .await
            .unwrap()
            .into_inner()
            .org_units;
        assert!(listed.iter().any(|u| u.id == dasha && u.disabled));
        admin
            .admin()
            .update_org_unit(change(&dasha, "大沙镇便民服务中心", &center, true))
            .await
            .unwrap();
        login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        let actions: Vec<String> = sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE action LIKE 'org_unit.%' ORDER BY seq",
        )
        .fetch_all(srv.db.pool())
        .await
        .unwrap();
        assert_eq!(
            actions,
            [
                "org_unit.create",
                "org_unit.rename",
                "org_unit.move",
                "org_unit.disable",
                "org_unit.enable"
            ]
        );
    }
);

both_backends!(
    settings_and_purposes_are_kept_on_screen_not_only_the_cli,
    async |srv: &TestServer| {
        let admin = srv.session("admin").await;
        let listed = admin
            .admin()
            .list_settings(pb::ListSettingsRequest {})
            .await
            .unwrap()
            .into_inner()
            .settings;
        let fee = listed
            .iter()
            .find(|s| s.key == "self_query_fee_cents")
            .unwrap_or_else(|| panic!("{listed:?}"));
        assert!(fee.meaning.contains("收费"), "{fee:?}");
        let changed = admin
            .admin()
            .change_setting(pb::ChangeSettingRequest {
                key: fee.key.clone(),
                value: 500,
            })
            .await
            .unwrap()
            .into_inner()
            .settings;
        assert_eq!(
            changed.iter().find(|s| s.key == fee.key).unwrap().value,
            500
        );
        let e = admin
            .admin()
            .change_setting(pb::ChangeSettingRequest {
                key: fee.key.clone(),
                value: -1,
            })
            .await
            .unwrap_err();
        assert_eq!(refused(&e), ["value: 至少为 0"]);
        let e = srv
            .session("center")
            .await
            .admin()
            .list_settings(pb::ListSettingsRequest {})
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);

        let code = pb::RetirePurposeRequest {
            code: "loan_approval".into(),
        };
        let retired = admin.consent().retire_purpose(code.clone()).await.unwrap();
        assert!(retired.into_inner().purpose.unwrap().retired);
        let restored = admin.consent().restore_purpose(code).await.unwrap();
        assert!(!restored.into_inner().purpose.unwrap().retired);
    }
);
