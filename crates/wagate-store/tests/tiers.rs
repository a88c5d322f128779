//! Tiers in the store: the seeded tiers, tenants' tiers, the sessions
//! limit inside the creating transaction, and the last hour's messages
//! read back for the hourly counts.

use std::borrow::Cow;
use wagate_core::keys::tail;
use wagate_core::{
    ApiKeyScope, CoreError, LimitKind, NewApiKey, SessionId, SessionKey, TenantId, TierLimits,
    TierName,
};
use wagate_store::Store;
use wagate_store::domain::{NewApiKeyRecord, NewSession, TierChange};

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use chrono::{TimeZone, Utc};
use test_db::test_db;
use wagate_store::db::Db;
use wagate_store::testing::TestBackend;

fn tier(name: &str) -> TierName {
    TierName::parse(name).unwrap()
}

/// A session and its own key, as the API creates them.
fn session_with_key(tenant: TenantId, id: &str) -> (NewSession, NewApiKey, NewApiKeyRecord) {
    let session = SessionId::parse(id).unwrap();
    let secret = NewApiKey::generate();
    let record = NewApiKeyRecord {
        tenant,
        scope: ApiKeyScope::Session,
        session: Some(session.clone()),
        digest: secret.digest.clone(),
        tail: tail(&secret.secret),
        name: None,
    };
    let new = NewSession {
        key: SessionKey { tenant, session },
        name: None,
        webhook_url: None,
    };
    (new, secret, record)
}

on_both_databases! {
    async fn seeded_tiers_and_tenants_tiers(backend) {
        let db = test_db(backend).await;
        let tiers = db.store.tiers().await.unwrap();
        let listed: Vec<(&str, TierLimits)> =
            tiers.iter().map(|t| (t.name.as_str(), t.limits)).collect();
        let limits = |s, m, a| TierLimits {
            sessions: s,
            messages_per_hour: m,
            api_calls_per_hour: a,
        };
        assert_eq!(
            listed,
            vec![
                ("basic", limits(Some(1), Some(100), Some(1000))),
                ("pro", limits(Some(5), Some(1000), Some(10_000))),
                ("max", limits(Some(20), Some(10_000), Some(100_000))),
                ("unlimited", limits(None, None, None)),
            ]
        );

        let default = db.store.default_tenant().await.unwrap();
        assert_eq!(default.tier.as_str(), "unlimited");
        assert_eq!(
            db.store.create_tenant("plain").await.unwrap().tier.as_str(),
            "unlimited"
        );
        let acme = db
            .store
            .create_tenant_in_tier("acme", &tier("basic"))
            .await
            .unwrap();
        assert_eq!(acme.tier.as_str(), "basic");
        let read = db.store.tenant_tier(acme.id).await.unwrap().unwrap();
        assert_eq!(
            (read.tenant_name.as_str(), read.tier.name.as_str()),
            ("acme", "basic")
        );

        let err = db
            .store
            .create_tenant_in_tier("gold-co", &tier("gold"))
            .await
            .unwrap_err();
        let CoreError::Validation { field, message } = err else {
            panic!("not a validation error: {err:?}");
        };
        assert_eq!(field, "tier");
        assert!(message.contains("basic, pro, max, unlimited"), "{message}");
        assert!(message.contains("'gold'"), "{message}");
        assert_eq!(
            db.store.tenants().await.unwrap().len(),
            3,
            "nothing inserted"
        );
    }
}

on_both_databases! {
    async fn a_session_over_the_limit_leaves_nothing_behind(backend) {
        let db = test_db(backend).await;
        let acme = db
            .store
            .create_tenant_in_tier("acme", &tier("basic"))
            .await
            .unwrap()
            .id;
        let (first, _, first_key) = session_with_key(acme, "one");
        db.store
            .create_session_with_key(&first, Some(&first_key))
            .await
            .unwrap();

        let (second, secret, second_key) = session_with_key(acme, "two");
        let err = db
            .store
            .create_session_with_key(&second, Some(&second_key))
            .await
            .unwrap_err();
        let CoreError::LimitReached(limit) = err else {
            panic!("not a limit: {err:?}");
        };
        assert_eq!((limit.kind, limit.max), (LimitKind::Sessions, 1));
        assert_eq!(
            limit.message,
            "Tier basic allows 1 session; tenant acme has 1"
        );
        assert!(limit.retry_after_s > 0);
        assert_eq!(db.store.session(&second.key).await.unwrap(), None);
        assert_eq!(db.store.find_api_key(&secret.digest).await.unwrap(), None);
        assert_eq!(db.store.session_count(acme).await.unwrap(), 1);

        // Another tenant's sessions do not count; a bigger tier lets it in.
        let other = db.store.create_tenant("other").await.unwrap().id;
        for id in ["a", "b", "c"] {
            db.store
                .create_session(&session_with_key(other, id).0)
                .await
                .unwrap();
        }
        db.store.set_tenant_tier(acme, &tier("pro")).await.unwrap();
        db.store
            .create_session_with_key(&second, Some(&second_key))
            .await
            .unwrap();
        assert_eq!(db.store.session_count(acme).await.unwrap(), 2);
    }
}

on_both_databases! {
    async fn creates_at_the_same_time_never_pass_the_limit_together(backend) {
        let db = test_db(backend).await;
        let change = TierChange {
            sessions: Some(Some(3)),
            ..TierChange::default()
        };
        db.store.update_tier(&tier("basic"), &change).await.unwrap();
        let acme = db
            .store
            .create_tenant_in_tier("acme", &tier("basic"))
            .await
            .unwrap()
            .id;
        let creates = (0..12).map(|i| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let (new, _, key) = session_with_key(acme, &format!("s{i}"));
                store.create_session_with_key(&new, Some(&key)).await
            })
        });
        let results = futures::future::join_all(creates).await;
        let mut created = 0;
        for result in results {
            match result.unwrap() {
                Ok(_) => created += 1,
                Err(CoreError::LimitReached(limit)) => assert_eq!(limit.kind, LimitKind::Sessions),
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!(created, 3);
        assert_eq!(db.store.session_count(acme).await.unwrap(), 3);
        assert_eq!(db.store.api_keys(Some(acme)).await.unwrap().len(), 3);
    }
}

on_both_databases! {
    async fn tier_edits_and_bad_values(backend) {
        let db = test_db(backend).await;
        let change = TierChange {
            sessions: Some(None),
            messages_per_hour: Some(Some(3)),
            api_calls_per_hour: None,
        };
        let pro = db
            .store
            .update_tier(&tier("pro"), &change)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            pro.limits,
            TierLimits {
                sessions: None,
                messages_per_hour: Some(3),
                api_calls_per_hour: Some(10_000),
            }
        );
        assert_eq!(
            db.store.update_tier(&tier("gold"), &change).await.unwrap(),
            None
        );
        let too_big = TierChange {
            api_calls_per_hour: Some(Some(u32::MAX)),
            ..TierChange::default()
        };
        let err = db
            .store
            .update_tier(&tier("pro"), &too_big)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::Validation {
                    field: "apiCallsPerHour",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(db.store.tier(&tier("pro")).await.unwrap().unwrap(), pro);

        let acme = db.store.create_tenant("acme").await.unwrap().id;
        let err = db
            .store
            .set_tenant_tier(acme, &tier("gold"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::Validation { field: "tier", .. }),
            "{err:?}"
        );
        assert_eq!(
            db.store.tenant(acme).await.unwrap().unwrap().tier.as_str(),
            "unlimited"
        );
        assert_eq!(
            db.store
                .set_tenant_tier(TenantId(999), &tier("pro"))
                .await
                .unwrap(),
            None
        );
    }
}

on_both_databases! {
    async fn the_last_hours_messages_are_read_back_per_tenant_and_minute(backend) {
        let db = test_db(backend).await;
        let now = 1_800_000_000_000_i64;
        let hour_ago = now - 3_600_000;
        // More than one page of recent rows, behind older ones.
        let mut rows = Vec::new();
        rows.extend((0..1200).map(|i| (1, hour_ago - 7_200_000 + i)));
        rows.extend((0..1500).map(|i| (1, now - 60_000 + (i % 2))));
        rows.extend((0..7).map(|_| (2, hour_ago + 120_000)));
        let mut tx = db.store.db().begin().await.unwrap();
        for (seq, (tenant, at)) in rows.iter().enumerate() {
            wagate_store::db::query(
                "INSERT INTO outbound_messages (id, seq, tenant_id, session_id, recipient, kind,
                     body, not_before, created_at, updated_at)
                 VALUES ($1, $2, $3, 's', 'r', 'text', '{}', $4, $4, $4)",
            )
            .bind(format!("m{seq}"))
            .bind(seq as i64)
            .bind(*tenant)
            .bind(*at)
            .execute(&mut tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        let counts = db.store.recent_message_counts(hour_ago).await.unwrap();
        let summary: Vec<(i64, i64, u32)> = counts
            .iter()
            .map(|c| (c.tenant.0, c.minute, c.count))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, (now - 60_000) / 60_000, 1500),
                (2, (hour_ago + 120_000) / 60_000, 7),
            ]
        );
    }
}

on_both_databases! {
    async fn tenants_from_before_tiers_become_unlimited(backend) {
        let database = wagate_store::testing::TestDatabase::create(backend).await;
        let (db, all) = match backend {
            TestBackend::Sqlite => (
                Db::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .connect_with(wagate_store::sqlite::sqlite_options(&database.url).unwrap())
                        .await
                        .unwrap(),
                ),
                &wagate_store::MIGRATOR,
            ),
            TestBackend::Postgres => (
                Db::Postgres(sqlx::PgPool::connect(&database.url).await.unwrap()),
                &wagate_store::db::PG_MIGRATOR,
            ),
        };
        let before = sqlx::migrate::Migrator {
            migrations: Cow::Owned(all.iter().filter(|m| m.version < 8).cloned().collect()),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        let migrate = |migrator: &'static sqlx::migrate::Migrator| {
            let db = db.clone();
            async move {
                match &db {
                    Db::Sqlite(pool) => migrator.run(pool).await.unwrap(),
                    Db::Postgres(pool) => migrator.run(pool).await.unwrap(),
                }
            }
        };
        let before: &'static sqlx::migrate::Migrator = Box::leak(Box::new(before));
        migrate(before).await;
        wagate_store::db::query("INSERT INTO tenants (name, created_at) VALUES ('old', $1)")
            .bind(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
            .execute(&db)
            .await
            .unwrap();

        migrate(all).await;
        let store = Store::new(db);
        let tenants = store.tenants().await.unwrap();
        assert_eq!(tenants.len(), 1);
        assert_eq!(tenants[0].tier.as_str(), "unlimited");
    }
}
