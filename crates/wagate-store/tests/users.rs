//! Users and their refresh tokens against a fresh SQLite file per test.

use chrono::Utc;
use wagate_core::{CoreError, Email, KeyDigest, Password, PasswordHash, TenantId, UserRole};
use wagate_store::domain::{
    NewRefreshToken, NewUser, NextRefreshToken, Rotation, User, UserChanges,
};

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use test_db::test_db;

fn new_user(tenant: TenantId, email: &str, role: UserRole) -> NewUser {
    NewUser {
        tenant,
        email: Email::parse(email).unwrap(),
        role,
        password_hash: PasswordHash::of(&Password::new("first password").unwrap()),
    }
}

fn token(user_id: i64, family: &str, secret: &str, expires_at: i64) -> NewRefreshToken {
    NewRefreshToken {
        user_id,
        family: family.to_string(),
        digest: KeyDigest::of(secret),
        expires_at,
    }
}

fn next(secret: &str, expires_at: i64) -> NextRefreshToken {
    NextRefreshToken {
        digest: KeyDigest::of(secret),
        expires_at,
    }
}

fn in_a_day() -> i64 {
    Utc::now().timestamp() + 86_400
}

/// A user of `tenant` with one live login: refresh token `token` of
/// family `family`.
async fn logged_in(
    db: &test_db::TestDb,
    tenant: TenantId,
    email: &str,
    role: UserRole,
    (family, token_secret): (&str, &str),
) -> User {
    let user = db
        .store
        .create_user(&new_user(tenant, email, role))
        .await
        .unwrap();
    db.store
        .create_refresh_token(&token(user.id, family, token_secret, in_a_day()))
        .await
        .unwrap();
    user
}

on_both_databases! {
    async fn emails_are_unique_in_any_case(backend) {
        let db = test_db(backend).await;
        let tenant = db.store.default_tenant().await.unwrap().id;
        let user = db
            .store
            .create_user(&new_user(tenant, "Ana@Example.com", UserRole::Admin))
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "ana@example.com");
        assert_eq!(user.role, UserRole::Admin);
        assert!(user.password_hash.verify("first password"));
        assert!(!user.is_disabled() && user.last_login_at.is_none());

        let again = db
            .store
            .create_user(&new_user(tenant, "ANA@example.COM", UserRole::Customer))
            .await
            .unwrap_err();
        assert!(matches!(again, CoreError::Conflict(ref m) if m.contains("ana@example.com")));

        let found = db
            .store
            .user_by_email(&Email::parse("aNa@EXAMPLE.com").unwrap())
            .await
            .unwrap();
        assert_eq!(found, Some(user.clone()));
        assert_eq!(db.store.user(user.id).await.unwrap(), Some(user));
        assert_eq!(db.store.user(999).await.unwrap(), None);
    }
}

on_both_databases! {
    async fn users_list_by_tenant(backend) {
        let db = test_db(backend).await;
        let first = db.store.default_tenant().await.unwrap().id;
        let second = db.store.create_tenant("acme").await.unwrap().id;
        let a = db
            .store
            .create_user(&new_user(first, "a@example.com", UserRole::Admin))
            .await
            .unwrap();
        let b = db
            .store
            .create_user(&new_user(second, "b@example.com", UserRole::Customer))
            .await
            .unwrap();
        let ids =
            |users: Vec<wagate_store::domain::User>| users.iter().map(|u| u.id).collect::<Vec<_>>();
        assert_eq!(ids(db.store.users(None).await.unwrap()), vec![a.id, b.id]);
        assert_eq!(ids(db.store.users(Some(second)).await.unwrap()), vec![b.id]);
        db.store.record_login(b.id).await.unwrap();
        assert!(
            db.store
                .user(b.id)
                .await
                .unwrap()
                .unwrap()
                .last_login_at
                .is_some()
        );
    }
}

on_both_databases! {
    async fn changes_apply_and_new_passwords_end_logins(backend) {
        let db = test_db(backend).await;
        let tenant = db.store.default_tenant().await.unwrap().id;
        let other = db.store.create_tenant("acme").await.unwrap().id;
        let user = logged_in(&db, tenant, "c@example.com", UserRole::Admin, ("f1", "t1")).await;
        assert_eq!(db.store.live_refresh_tokens(user.id).await.unwrap(), 1);

        let demoted = UserChanges {
            role: Some(UserRole::Customer),
            tenant: Some(other),
            ..UserChanges::default()
        };
        let changed = db
            .store
            .update_user(user.id, &demoted)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((changed.role, changed.tenant), (UserRole::Customer, other));
        assert!(changed.password_hash.verify("first password"));
        assert_eq!(
            db.store.live_refresh_tokens(user.id).await.unwrap(),
            1,
            "a role change keeps the login"
        );

        let password = UserChanges {
            password_hash: Some(PasswordHash::of(&Password::new("second password").unwrap())),
            ..UserChanges::default()
        };
        let changed = db
            .store
            .update_user(user.id, &password)
            .await
            .unwrap()
            .unwrap();
        assert!(changed.password_hash.verify("second password"));
        assert!(!changed.password_hash.verify("first password"));
        assert_eq!(db.store.live_refresh_tokens(user.id).await.unwrap(), 0);
        let now = Utc::now().timestamp();
        let outcome = db
            .store
            .rotate_refresh_token(&KeyDigest::of("t1"), &next("t2", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(outcome, Rotation::Revoked);

        assert_eq!(
            db.store
                .update_user(404, &UserChanges::default())
                .await
                .unwrap(),
            None
        );
    }
}

on_both_databases! {
    async fn disabling_keeps_its_first_time_and_ends_logins(backend) {
        let db = test_db(backend).await;
        let tenant = db.store.default_tenant().await.unwrap().id;
        let user = logged_in(&db, tenant, "d@example.com", UserRole::Customer, ("f1", "t1")).await;
        let disable = UserChanges {
            disabled: Some(true),
            ..UserChanges::default()
        };
        let first = db
            .store
            .update_user(user.id, &disable)
            .await
            .unwrap()
            .unwrap();
        let since = first.disabled_at.expect("disabled");
        let second = db
            .store
            .update_user(user.id, &disable)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.disabled_at, Some(since));
        assert_eq!(db.store.live_refresh_tokens(user.id).await.unwrap(), 0);

        let enable = UserChanges {
            disabled: Some(false),
            ..UserChanges::default()
        };
        let enabled = db
            .store
            .update_user(user.id, &enable)
            .await
            .unwrap()
            .unwrap();
        assert!(!enabled.is_disabled());
    }
}

on_both_databases! {
    async fn a_refresh_token_is_exchanged_once(backend) {
        let db = test_db(backend).await;
        let tenant = db.store.default_tenant().await.unwrap().id;
        let user = db
            .store
            .create_user(&new_user(tenant, "e@example.com", UserRole::Customer))
            .await
            .unwrap();
        let now = Utc::now().timestamp();
        db.store
            .create_refresh_token(&token(user.id, "login", "t1", in_a_day()))
            .await
            .unwrap();

        let first = db
            .store
            .rotate_refresh_token(&KeyDigest::of("t1"), &next("t2", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(
            first,
            Rotation::Rotated {
                user_id: user.id,
                family: "login".to_string()
            }
        );
        // The used token shown again: a copy is in other hands, so the login
        // ends, its newest token with it.
        let replay = db
            .store
            .rotate_refresh_token(&KeyDigest::of("t1"), &next("t3", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(replay, Rotation::Reused { user_id: user.id });
        let newest = db
            .store
            .rotate_refresh_token(&KeyDigest::of("t2"), &next("t4", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(newest, Rotation::Revoked);

        let unknown = db
            .store
            .rotate_refresh_token(&KeyDigest::of("never"), &next("t5", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(unknown, Rotation::Unknown);
    }
}

on_both_databases! {
    async fn expired_and_logged_out_tokens_are_refused(backend) {
        let db = test_db(backend).await;
        let tenant = db.store.default_tenant().await.unwrap().id;
        let user = db
            .store
            .create_user(&new_user(tenant, "f@example.com", UserRole::Customer))
            .await
            .unwrap();
        let now = Utc::now().timestamp();
        db.store
            .create_refresh_token(&token(user.id, "old", "stale", now + 5))
            .await
            .unwrap();
        let late = db
            .store
            .rotate_refresh_token(&KeyDigest::of("stale"), &next("n1", in_a_day()), now + 5)
            .await
            .unwrap();
        assert_eq!(late, Rotation::Revoked);

        db.store
            .create_refresh_token(&token(user.id, "other", "a1", in_a_day()))
            .await
            .unwrap();
        db.store
            .rotate_refresh_token(&KeyDigest::of("a1"), &next("a2", in_a_day()), now)
            .await
            .unwrap();
        assert!(
            db.store
                .revoke_refresh_family(&KeyDigest::of("a2"))
                .await
                .unwrap()
        );
        assert!(
            !db.store
                .revoke_refresh_family(&KeyDigest::of("nope"))
                .await
                .unwrap()
        );
        let after = db
            .store
            .rotate_refresh_token(&KeyDigest::of("a2"), &next("a3", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(after, Rotation::Revoked);
        assert_eq!(db.store.live_refresh_tokens(user.id).await.unwrap(), 0);
    }
}

on_both_databases! {
    async fn deleting_a_user_deletes_its_tokens(backend) {
        let db = test_db(backend).await;
        let tenant = db.store.default_tenant().await.unwrap().id;
        let user = logged_in(&db, tenant, "g@example.com", UserRole::Admin, ("f", "g1")).await;
        assert!(db.store.delete_user(user.id).await.unwrap());
        assert!(!db.store.delete_user(user.id).await.unwrap());
        let now = Utc::now().timestamp();
        let outcome = db
            .store
            .rotate_refresh_token(&KeyDigest::of("g1"), &next("g2", in_a_day()), now)
            .await
            .unwrap();
        assert_eq!(outcome, Rotation::Unknown);
    }
}
