//! Refresh tokens: what keeps a login going after its access token
//! expires. Only their digests are stored. A token is exchanged once, for
//! a new one of the same family; presenting a used token again means it
//! was copied, so its whole family (the login) is revoked.

use super::{Store, conflict_on, internal};
use crate::db::{Tx, query, query_scalar};
use chrono::Utc;
use wagate_core::{CoreError, KeyDigest};

/// A token to store: the first of a login, or the successor of a used one.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub user_id: i64,
    /// Shared by every token descending from one login.
    pub family: String,
    pub digest: KeyDigest,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The successor of a presented token.
#[derive(Debug, Clone)]
pub struct NextRefreshToken {
    pub digest: KeyDigest,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Exchanged: the presented token is used up and its successor stored.
    Rotated { user_id: i64, family: String },
    /// Already exchanged before: the family is now revoked.
    Reused { user_id: i64 },
    /// Logged out, revoked, or past its expiry.
    Revoked,
    /// Never issued here (or its user was deleted).
    Unknown,
}

impl Store {
    pub async fn create_refresh_token(&self, new: &NewRefreshToken) -> Result<(), CoreError> {
        let now = Utc::now();
        let mut tx = self.db().begin().await.map_err(internal)?;
        // Expired rows are of no further use, not even to spot reuse.
        query("DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at <= $2")
            .bind(new.user_id)
            .bind(now.timestamp())
            .execute(&mut tx)
            .await
            .map_err(internal)?;
        insert(&mut tx, new).await?;
        tx.commit().await.map_err(internal)
    }

    /// Exchanges the token whose digest is `presented` for `next`, at
    /// `now` (unix seconds). The presented token is marked used in the
    /// same write that finds it, so two racing exchanges cannot both win.
    pub async fn rotate_refresh_token(
        &self,
        presented: &KeyDigest,
        next: &NextRefreshToken,
        now: i64,
    ) -> Result<Rotation, CoreError> {
        let at = Utc::now();
        let mut tx = self.db().begin().await.map_err(internal)?;
        let claimed = query(
            "UPDATE refresh_tokens SET used_at = $2, revoked_at = $2
             WHERE digest = $1 AND revoked_at IS NULL
             RETURNING user_id, family, digest, expires_at",
        )
        .bind(presented.to_hex())
        .bind(at)
        .fetch_optional(&mut tx)
        .await
        .map_err(internal)?;
        let outcome = match claimed {
            Some(row) => {
                let stored: String = row.try_get("digest").map_err(internal)?;
                let expires_at: i64 = row.try_get("expires_at").map_err(internal)?;
                let user_id: i64 = row.try_get("user_id").map_err(internal)?;
                let family: String = row.try_get("family").map_err(internal)?;
                let matches = KeyDigest::from_hex(&stored).is_some_and(|d| d.matches(presented));
                if !matches || expires_at <= now {
                    Rotation::Revoked
                } else {
                    let successor = NewRefreshToken {
                        user_id,
                        family: family.clone(),
                        digest: next.digest.clone(),
                        expires_at: next.expires_at,
                    };
                    insert(&mut tx, &successor).await?;
                    Rotation::Rotated { user_id, family }
                }
            }
            None => {
                let row = query(
                    "SELECT user_id, family, used_at IS NOT NULL AS used
                     FROM refresh_tokens WHERE digest = $1",
                )
                .bind(presented.to_hex())
                .fetch_optional(&mut tx)
                .await
                .map_err(internal)?;
                match row {
                    None => Rotation::Unknown,
                    Some(row) if row.try_get::<bool, _>("used").map_err(internal)? => {
                        let family: String = row.try_get("family").map_err(internal)?;
                        revoke_family(&mut tx, &family, at).await?;
                        Rotation::Reused {
                            user_id: row.try_get("user_id").map_err(internal)?,
                        }
                    }
                    Some(_) => Rotation::Revoked,
                }
            }
        };
        tx.commit().await.map_err(internal)?;
        Ok(outcome)
    }

    /// Ends the login the token whose digest is `presented` belongs to:
    /// every token of its family is revoked. `false` when no such token
    /// was ever issued.
    pub async fn revoke_refresh_family(&self, presented: &KeyDigest) -> Result<bool, CoreError> {
        let at = Utc::now();
        let mut tx = self.db().begin().await.map_err(internal)?;
        let family: Option<String> = query_scalar(
            "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, $2)
             WHERE digest = $1 RETURNING family",
        )
        .bind(presented.to_hex())
        .bind(at)
        .fetch_optional(&mut tx)
        .await
        .map_err(internal)?;
        if let Some(family) = &family {
            revoke_family(&mut tx, family, at).await?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(family.is_some())
    }

    /// Refresh tokens of `user_id` that can still be exchanged.
    pub async fn live_refresh_tokens(&self, user_id: i64) -> Result<i64, CoreError> {
        query_scalar(
            "SELECT COUNT(*) FROM refresh_tokens
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(user_id)
        .bind(Utc::now().timestamp())
        .fetch_one(self.db())
        .await
        .map_err(internal)
    }
}

async fn insert(conn: &mut Tx, new: &NewRefreshToken) -> Result<(), CoreError> {
    query(
        "INSERT INTO refresh_tokens (user_id, family, digest, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new.user_id)
    .bind(&new.family)
    .bind(new.digest.to_hex())
    .bind(Utc::now())
    .bind(new.expires_at)
    .execute(&mut *conn)
    .await
    .map_err(conflict_on(
        "refresh_tokens_digest_key",
        "A refresh token with this value already exists".to_string(),
    ))?;
    Ok(())
}

async fn revoke_family(
    conn: &mut Tx,
    family: &str,
    at: chrono::DateTime<Utc>,
) -> Result<(), CoreError> {
    query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL")
        .bind(family)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    Ok(())
}
