//! Login, lockout, sessions and their expiry, against the real server.

use credit_desk_proto::errors as reason_code;
use credit_desk_proto::pb::{self, Capability};
use credit_desk_server::clock::MINUTE_MS;
use credit_desk_tests::{DEMO_PASSWORD, TestServer, authed, both_backends, login, reason};
use tonic::Code;
use tonic_types::StatusExt;

both_backends!(login_returns_the_menu_data, async |srv: &TestServer| {
    let resp = srv
        .auth()
        .login(pb::LoginRequest {
            username: "counter".into(),
            password: DEMO_PASSWORD.into(),
            terminal: "大沙镇 1 号窗口".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.session_token.len(), 43);
    assert_eq!(
        resp.expires_at_ms,
        credit_desk_tests::T0 + 12 * 60 * MINUTE_MS
    );
    assert_eq!(resp.idle_timeout_s, 30 * 60);
    let home = resp.home.unwrap();
    let op = home.operator.unwrap();
    assert_eq!(op.username, "counter");
    assert_eq!(op.role(), pb::Role::Counter);
    assert_eq!(home.org_unit.unwrap().code, "T-DASHA");
    let expected = [
        Capability::ChangeOwnPassword,
        Capability::VerifyIdentity,
        Capability::ViewSubjects,
        Capability::CaptureConsent,
        Capability::Query,
        Capability::FileObjections,
        Capability::ViewQueue,
    ];
    assert_eq!(home.capabilities, expected.map(|c| c as i32));

    // The token works for Home; only its hash is stored.
    let again = srv
        .auth()
        .home(authed(pb::HomeRequest {}, &resp.session_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.home.unwrap().operator.unwrap().username, "counter");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
        .bind(&resp.session_token)
        .fetch_one(srv.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0, "the raw token must not be stored");
});

both_backends!(
    parallel_guesses_are_counted_before_they_are_checked,
    async |srv: &TestServer| {
        // Thirty wrong passwords at once: the hashing queue takes some and
        // refuses the rest as busy; of those it takes, only five are
        // checked, the rest are refused as locked without a hash.
        let guesses = (0..30).map(|_| login(srv, "bank", "wrong-pass1"));
        for answer in futures::future::join_all(guesses).await {
            let e = answer.unwrap_err();
            match reason(&e).as_str() {
                reason_code::BAD_CREDENTIALS | reason_code::ACCOUNT_LOCKED => {}
                reason_code::BUSY => {
                    assert_eq!(e.code(), Code::ResourceExhausted);
                    let info = e.get_details_error_info().unwrap();
                    assert!(info.metadata["retry_after_ms"].parse::<u64>().unwrap() > 0);
                }
                _ => panic!("unexpected answer {e:?}"),
            }
        }
        let checked: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE username = 'bank'")
                .fetch_one(srv.db.pool())
                .await
                .unwrap();
        // The queue always holds at least five, so exactly five are checked.
        assert_eq!(checked, 5, "passwords checked");
        // The account is locked now; the right password stays out.
        let e = login(srv, "bank", DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED, "{e:?}");
    }
);

both_backends!(
    unknown_usernames_lock_like_accounts,
    async |srv: &TestServer| {
        for name in ["bank", "no-such-clerk"] {
            for _ in 0..4 {
                let e = login(srv, name, "wrong-pass1").await.unwrap_err();
                assert_eq!(reason(&e), reason_code::BAD_CREDENTIALS, "{name}");
            }
            let e = login(srv, name, "wrong-pass1").await.unwrap_err();
            assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED, "{name}");
            let e = login(srv, name, "wrong-pass1").await.unwrap_err();
            assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED, "{name}");
        }
    }
);

both_backends!(
    one_address_cannot_walk_the_accounts,
    async |srv: &TestServer| {
        // Successful logins do not count against the address.
        for _ in 0..3 {
            login(srv, "counter", DEMO_PASSWORD).await.unwrap();
        }
        for n in 0..30 {
            let e = login(srv, &format!("guess{n}"), "wrong-pass1")
                .await
                .unwrap_err();
            assert_eq!(reason(&e), reason_code::BAD_CREDENTIALS, "attempt {n}");
        }
        let e = login(srv, "counter", DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::TOO_MANY_ATTEMPTS);
        assert_eq!(e.code(), Code::ResourceExhausted);
        assert!(e.message().contains("10 分钟后再试"), "{}", e.message());
        srv.clock.advance_ms(10 * MINUTE_MS);
        login(srv, "counter", DEMO_PASSWORD).await.unwrap();
    }
);

both_backends!(login_fields_are_bounded, async |srv: &TestServer| {
    let e = login(srv, &"a".repeat(10_000), "x").await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("用户名"), "{}", e.message());
    let e = login(srv, "counter", &"p".repeat(300)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("密码"), "{}", e.message());
    let e = login(srv, "coun\u{1b}[2Jter", "x").await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
});

both_backends!(
    wrong_password_and_unknown_user_look_the_same,
    async |srv: &TestServer| {
        let wrong = login(srv, "counter", "nope-2026").await.unwrap_err();
        let unknown = login(srv, "nobody", "nope-2026").await.unwrap_err();
        for status in [&wrong, &unknown] {
            assert_eq!(status.code(), Code::Unauthenticated);
            assert_eq!(reason(status), reason_code::BAD_CREDENTIALS);
        }
        assert_eq!(wrong.message(), unknown.message());

        let empty = login(srv, " ", "").await.unwrap_err();
        assert_eq!(empty.code(), Code::InvalidArgument);
        let fields: Vec<_> = empty
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["username", "password"]);
    }
);

both_backends!(
    five_failures_lock_for_fifteen_minutes,
    async |srv: &TestServer| {
        for _ in 0..4 {
            let e = login(srv, "bank", "wrong-pass1").await.unwrap_err();
            assert_eq!(reason(&e), reason_code::BAD_CREDENTIALS);
        }
        let e = login(srv, "bank", "wrong-pass1").await.unwrap_err();
        assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED);
        let until: i64 = e.get_details_error_info().unwrap().metadata["locked_until_ms"]
            .parse()
            .unwrap();
        assert_eq!(until, credit_desk_tests::T0 + 15 * MINUTE_MS);
        assert!(e.message().contains("锁定至"), "{}", e.message());

        // The right password does not open a locked account.
        srv.clock.advance_ms(14 * MINUTE_MS);
        let e = login(srv, "bank", DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::ACCOUNT_LOCKED);

        // Once the lock ends it does, and the count starts afresh.
        srv.clock.advance_ms(MINUTE_MS);
        login(srv, "bank", DEMO_PASSWORD).await.unwrap();
        for _ in 0..4 {
            let e = login(srv, "bank", "wrong-pass1").await.unwrap_err();
            assert_eq!(reason(&e), reason_code::BAD_CREDENTIALS);
        }
        login(srv, "bank", DEMO_PASSWORD).await.unwrap();
    }
);

both_backends!(
    failures_spread_over_more_than_the_window_do_not_lock,
    async |srv: &TestServer| {
        for _ in 0..4 {
            login(srv, "center", "wrong-pass1").await.unwrap_err();
        }
        srv.clock.advance_ms(16 * MINUTE_MS);
        for _ in 0..4 {
            let e = login(srv, "center", "wrong-pass1").await.unwrap_err();
            assert_eq!(reason(&e), reason_code::BAD_CREDENTIALS);
        }
        login(srv, "center", DEMO_PASSWORD).await.unwrap();
    }
);

both_backends!(
    sessions_expire_when_idle_and_absolutely,
    async |srv: &TestServer| {
        let home = |token: String| async move {
            srv.auth().home(authed(pb::HomeRequest {}, &token)).await
        };
        // Idle: 30 minutes without a call.
        let idle = login(srv, "center", DEMO_PASSWORD).await.unwrap();
        srv.clock.advance_ms(29 * MINUTE_MS);
        home(idle.clone()).await.unwrap();
        srv.clock.advance_ms(29 * MINUTE_MS);
        home(idle.clone()).await.unwrap();
        srv.clock.advance_ms(30 * MINUTE_MS);
        let e = home(idle).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
        assert_eq!(reason(&e), reason_code::SESSION_EXPIRED);

        // Absolute: 12 hours after login however busy.
        let busy = login(srv, "center", DEMO_PASSWORD).await.unwrap();
        for _ in 0..35 {
            srv.clock.advance_ms(20 * MINUTE_MS);
            home(busy.clone()).await.unwrap();
        }
        srv.clock.advance_ms(20 * MINUTE_MS);
        let e = home(busy).await.unwrap_err();
        assert_eq!(reason(&e), reason_code::SESSION_EXPIRED);
    }
);

both_backends!(logout_revokes_the_token, async |srv: &TestServer| {
    let token = login(srv, "liaison", DEMO_PASSWORD).await.unwrap();
    let other = login(srv, "liaison", DEMO_PASSWORD).await.unwrap();
    srv.auth()
        .logout(authed(pb::LogoutRequest {}, &token))
        .await
        .unwrap();
    let e = srv
        .auth()
        .home(authed(pb::HomeRequest {}, &token))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), reason_code::UNAUTHENTICATED);
    // Another terminal's session of the same operator lives on.
    srv.auth()
        .home(authed(pb::HomeRequest {}, &other))
        .await
        .unwrap();
});

both_backends!(password_change, async |srv: &TestServer| {
    let token = login(srv, "supervisor", DEMO_PASSWORD).await.unwrap();
    let elsewhere = login(srv, "supervisor", DEMO_PASSWORD).await.unwrap();
    let change = async |current: &str, new: &str| {
        srv.auth()
            .change_password(authed(
                pb::ChangePasswordRequest {
                    current_password: current.into(),
                    new_password: new.into(),
                },
                &token,
            ))
            .await
    };
    let e = change("wrong-pass1", "harbour77").await.unwrap_err();
    let v = e.get_details_bad_request().unwrap().field_violations;
    assert_eq!(v[0].field, "current_password");
    let e = change(DEMO_PASSWORD, "short1").await.unwrap_err();
    assert_eq!(
        e.get_details_bad_request().unwrap().field_violations[0].field,
        "new_password"
    );
    let e = change(DEMO_PASSWORD, DEMO_PASSWORD).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    change(DEMO_PASSWORD, "harbour77").await.unwrap();
    // This session continues, the other terminal's ends, and only the new
    // password logs in.
    srv.auth()
        .home(authed(pb::HomeRequest {}, &token))
        .await
        .unwrap();
    let e = srv
        .auth()
        .home(authed(pb::HomeRequest {}, &elsewhere))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    login(srv, "supervisor", DEMO_PASSWORD).await.unwrap_err();
    login(srv, "supervisor", "harbour77").await.unwrap();
});
