//! The accounts side of the store against a fresh SQLite file per test.

use chrono::{TimeZone, Utc};
use wagate_core::keys::tail;
use wagate_core::{
    ApiKeyScope, CoreError, Fence, NewApiKey, SessionId, SessionKey, SessionRecords, SessionStatus,
    SessionUpdate, SessionWrite, TenantId,
};
use wagate_store::domain::{DEFAULT_TENANT, NewApiKeyRecord, NewSession};

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use test_db::test_db;

fn key(tenant: TenantId, id: &str) -> SessionKey {
    SessionKey {
        tenant,
        session: SessionId::parse(id).unwrap(),
    }
}

fn new_session(tenant: TenantId, id: &str) -> NewSession {
    NewSession {
        key: key(tenant, id),
        name: Some(format!("{id} name")),
        webhook_url: None,
    }
}

fn new_key(
    tenant: TenantId,
    scope: ApiKeyScope,
    session: Option<&str>,
) -> (NewApiKey, NewApiKeyRecord) {
    let secret = NewApiKey::generate();
    let record = NewApiKeyRecord {
        tenant,
        scope,
        session: session.map(|s| SessionId::parse(s).unwrap()),
        digest: secret.digest.clone(),
        tail: tail(&secret.secret),
        name: Some("ci".into()),
    };
    (secret, record)
}

on_both_databases! {
    async fn default_tenant_is_created_once(backend) {
        let db = test_db(backend).await;
        let first = db.store.default_tenant().await.unwrap();
        let again = db.store.default_tenant().await.unwrap();
        assert_eq!(first, again);
        assert_eq!(first.name, DEFAULT_TENANT);
        assert_eq!(db.store.tenants().await.unwrap(), vec![first.clone()]);
        assert_eq!(db.store.tenant(first.id).await.unwrap(), Some(first));
        assert_eq!(db.store.tenant(TenantId(999)).await.unwrap(), None);
    }
}

on_both_databases! {
    async fn tenant_names_are_unique(backend) {
        let db = test_db(backend).await;
        db.store.create_tenant("acme").await.unwrap();
        let dup = db.store.create_tenant("acme").await.unwrap_err();
        assert!(matches!(dup, CoreError::Conflict(_)), "{dup:?}");
        let empty = db.store.create_tenant("  ").await.unwrap_err();
        assert!(matches!(empty, CoreError::Validation { field: "name", .. }));
    }
}

on_both_databases! {
    async fn sessions_are_unique_per_tenant(backend) {
        let db = test_db(backend).await;
        let a = db.store.create_tenant("a").await.unwrap().id;
        let b = db.store.create_tenant("b").await.unwrap().id;
        let created = db
            .store
            .create_session(&new_session(a, "shop"))
            .await
            .unwrap();
        assert_eq!(created.status, SessionStatus::Disconnected);
        assert_eq!(created.name.as_deref(), Some("shop name"));

        let dup = db
            .store
            .create_session(&new_session(a, "shop"))
            .await
            .unwrap_err();
        assert_eq!(
            dup,
            CoreError::Conflict("Session 'shop' already exists".into())
        );
        // The same id in another tenant is a different session.
        db.store
            .create_session(&new_session(b, "shop"))
            .await
            .unwrap();

        assert_eq!(db.store.sessions(Some(a)).await.unwrap().len(), 1);
        assert_eq!(db.store.sessions(None).await.unwrap().len(), 2);
        let named = db
            .store
            .sessions_with_id(&SessionId::parse("shop").unwrap())
            .await
            .unwrap();
        assert_eq!(named.len(), 2);
        assert_eq!(
            db.store.session(&key(a, "shop")).await.unwrap(),
            Some(created)
        );
        assert_eq!(db.store.session(&key(a, "other")).await.unwrap(), None);
    }
}

on_both_databases! {
    async fn engine_records_reach_the_session(backend) {
        let db = test_db(backend).await;
        let t = db.store.default_tenant().await.unwrap().id;
        let k = key(t, "s1");
        db.store
            .create_session(&new_session(t, "s1"))
            .await
            .unwrap();

        db.store.set_status(&k, SessionStatus::Qr).await.unwrap();
        db.store.set_qr(&k, Some("2@abc")).await.unwrap();
        db.store.set_pair_code(&k, Some("ABCD1234")).await.unwrap();
        let s = db.store.session(&k).await.unwrap().unwrap();
        assert_eq!(
            (s.status, s.qr.as_deref()),
            (SessionStatus::Qr, Some("2@abc"))
        );
        assert_eq!(s.pair_code.as_deref(), Some("ABCD1234"));

        let at = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap();
        db.store.set_connected(&k, "15550001111", at).await.unwrap();
        let s = db.store.session(&k).await.unwrap().unwrap();
        assert_eq!(s.status, SessionStatus::Connected);
        assert_eq!(s.phone.as_deref(), Some("15550001111"));
        assert_eq!(s.last_connected, Some(at));
        assert_eq!((s.qr, s.pair_code), (None, None));

        let counts = db.store.session_counts().await.unwrap();
        assert!(counts.contains(&(SessionStatus::Connected, 1)));
        assert!(counts.contains(&(SessionStatus::Qr, 0)));

        let missing = db
            .store
            .set_status(&key(t, "gone"), SessionStatus::Qr)
            .await;
        assert!(matches!(missing, Err(CoreError::NotFound(_))));
    }
}

on_both_databases! {
    async fn batched_updates_apply_in_order_and_skip_missing_sessions(backend) {
        let db = test_db(backend).await;
        let t = db.store.default_tenant().await.unwrap().id;
        for id in ["a", "b"] {
            db.store.create_session(&new_session(t, id)).await.unwrap();
        }
        let at = Utc.with_ymd_and_hms(2024, 2, 1, 8, 0, 0).unwrap();
        let updates = vec![
            (key(t, "a"), SessionUpdate::Qr(Some("2@qr".into()))),
            (key(t, "a"), SessionUpdate::Status(SessionStatus::Qr)),
            (
                key(t, "gone"),
                SessionUpdate::Status(SessionStatus::Connecting),
            ),
            (
                key(t, "b"),
                SessionUpdate::PairCode(Some("WXYZ9876".into())),
            ),
            (
                key(t, "a"),
                SessionUpdate::Connected {
                    phone: "15550001111".into(),
                    at,
                },
            ),
            (key(t, "b"), SessionUpdate::Status(SessionStatus::LoggedOut)),
        ];
        let updates: Vec<SessionWrite> = updates
            .into_iter()
            .map(|(key, update)| SessionWrite {
                key,
                update,
                fence: None,
            })
            .collect();
        db.store.apply_updates(&updates).await.unwrap();
        let a = db.store.session(&key(t, "a")).await.unwrap().unwrap();
        assert_eq!(a.status, SessionStatus::Connected);
        assert_eq!(
            (a.qr, a.phone.as_deref(), a.last_connected),
            (None, Some("15550001111"), Some(at))
        );
        let b = db.store.session(&key(t, "b")).await.unwrap().unwrap();
        assert_eq!(
            (b.status, b.pair_code.as_deref()),
            (SessionStatus::LoggedOut, Some("WXYZ9876"))
        );
        assert!(db.store.session(&key(t, "gone")).await.unwrap().is_none());
    }
}

on_both_databases! {
    async fn fenced_updates_land_only_under_the_current_lease(backend) {
        let db = test_db(backend).await;
        let t = db.store.default_tenant().await.unwrap().id;
        let k = key(t, "a");
        db.store.create_session(&new_session(t, "a")).await.unwrap();
        let ttl = std::time::Duration::from_secs(60);
        let lease = db.store.acquire_lease(&k, "n1", ttl).await.unwrap().unwrap();
        let write = |node: &str, epoch: i64, status: SessionStatus| SessionWrite {
            key: k.clone(),
            update: SessionUpdate::Status(status),
            fence: Some(Fence {
                node: node.into(),
                epoch,
            }),
        };
        db.store
            .apply_updates(&[write("n1", lease.epoch, SessionStatus::Connecting)])
            .await
            .unwrap();
        // Another node, and the holder under an old epoch, write nothing.
        db.store
            .apply_updates(&[
                write("n2", lease.epoch, SessionStatus::Connected),
                write("n1", lease.epoch - 1, SessionStatus::Qr),
            ])
            .await
            .unwrap();
        let stored = db.store.session(&k).await.unwrap().unwrap();
        assert_eq!(stored.status, SessionStatus::Connecting);
    }
}

on_both_databases! {
    async fn logged_out_sessions_are_not_restored(backend) {
        let db = test_db(backend).await;
        let t = db.store.default_tenant().await.unwrap().id;
        for id in ["a", "b", "c"] {
            db.store.create_session(&new_session(t, id)).await.unwrap();
        }
        db.store
            .set_status(&key(t, "b"), SessionStatus::LoggedOut)
            .await
            .unwrap();
        let restore = db.store.sessions_to_restore().await.unwrap();
        assert_eq!(restore, vec![key(t, "a"), key(t, "c")]);
    }
}

on_both_databases! {
    async fn keys_are_found_by_digest_and_revoked(backend) {
        let db = test_db(backend).await;
        let t = db.store.default_tenant().await.unwrap().id;
        let (secret, record) = new_key(t, ApiKeyScope::Tenant, None);
        let stored = db.store.create_api_key(&record).await.unwrap();
        assert_eq!(
            stored.masked(),
            format!("***{}", &secret.secret[secret.secret.len() - 4..])
        );
        assert!(!stored.is_revoked());

        let found = db
            .store
            .find_api_key(&secret.digest)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, stored.id);
        let unknown = NewApiKey::generate();
        assert_eq!(db.store.find_api_key(&unknown.digest).await.unwrap(), None);

        let dup = db.store.create_api_key(&record).await.unwrap_err();
        assert!(matches!(dup, CoreError::Conflict(_)), "{dup:?}");

        assert!(db.store.revoke_api_key(stored.id).await.unwrap());
        assert!(!db.store.revoke_api_key(stored.id).await.unwrap());
        let revoked = db
            .store
            .find_api_key(&secret.digest)
            .await
            .unwrap()
            .unwrap();
        assert!(revoked.is_revoked());
    }
}

on_both_databases! {
    async fn keys_list_per_tenant_and_scope_rules(backend) {
        let db = test_db(backend).await;
        let a = db.store.create_tenant("a").await.unwrap().id;
        let b = db.store.create_tenant("b").await.unwrap().id;
        assert!(!db.store.has_active_admin_key().await.unwrap());
        let (_, admin) = new_key(a, ApiKeyScope::Admin, None);
        let admin = db.store.create_api_key(&admin).await.unwrap();
        assert!(db.store.has_active_admin_key().await.unwrap());
        db.store
            .create_api_key(&new_key(b, ApiKeyScope::Tenant, None).1)
            .await
            .unwrap();

        assert_eq!(db.store.api_keys(Some(a)).await.unwrap().len(), 1);
        assert_eq!(db.store.api_keys(Some(b)).await.unwrap().len(), 1);
        assert_eq!(db.store.api_keys(None).await.unwrap().len(), 2);
        assert_eq!(
            db.store.api_key(admin.id).await.unwrap(),
            Some(admin.clone())
        );

        let no_session = db
            .store
            .create_api_key(&new_key(a, ApiKeyScope::Session, None).1)
            .await;
        assert!(matches!(
            no_session,
            Err(CoreError::Validation {
                field: "sessionId",
                ..
            })
        ));
        db.store.revoke_api_key(admin.id).await.unwrap();
        assert!(!db.store.has_active_admin_key().await.unwrap());
    }
}

on_both_databases! {
    async fn deleting_a_session_revokes_its_keys(backend) {
        let db = test_db(backend).await;
        let t = db.store.default_tenant().await.unwrap().id;
        db.store
            .create_session(&new_session(t, "s1"))
            .await
            .unwrap();
        let (secret, record) = new_key(t, ApiKeyScope::Session, Some("s1"));
        db.store.create_api_key(&record).await.unwrap();

        assert!(db.store.delete_session(&key(t, "s1")).await.unwrap());
        assert!(!db.store.delete_session(&key(t, "s1")).await.unwrap());
        assert_eq!(db.store.session(&key(t, "s1")).await.unwrap(), None);
        let k = db
            .store
            .find_api_key(&secret.digest)
            .await
            .unwrap()
            .unwrap();
        assert!(k.is_revoked());
        db.store.ping().await.unwrap();
    }
}
