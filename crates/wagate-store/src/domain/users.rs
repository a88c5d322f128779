//! Users: an email, a password hash and a role, in one tenant.

use super::{Store, conflict_on, internal};
use crate::db::{Row, query};
use chrono::{DateTime, Utc};
use wagate_core::{CoreError, Email, PasswordHash, TenantId, UserRole};

/// What is stored for a new user; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub tenant: TenantId,
    pub email: Email,
    pub role: UserRole,
    pub password_hash: PasswordHash,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub tenant: TenantId,
    pub email: Email,
    pub role: UserRole,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
    /// Set while the user may not log in or use its tokens.
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub role: Option<UserRole>,
    pub tenant: Option<TenantId>,
    pub password_hash: Option<PasswordHash>,
    pub disabled: Option<bool>,
}

const USER_COLUMNS: &str =
    "id, tenant_id, email, password_hash, role, created_at, disabled_at, last_login_at";

fn user_from_row(row: &Row) -> Result<User, sqlx::Error> {
    let corrupt = |column: &str| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("unexpected value in users.{column}").into(),
    };
    let email: String = row.try_get("email")?;
    let role: String = row.try_get("role")?;
    let hash: String = row.try_get("password_hash")?;
    Ok(User {
        id: row.try_get("id")?,
        tenant: TenantId(row.try_get("tenant_id")?),
        email: Email::parse(&email).map_err(|_| corrupt("email"))?,
        role: UserRole::parse(&role).ok_or_else(|| corrupt("role"))?,
        password_hash: PasswordHash::from_phc(&hash).ok_or_else(|| corrupt("password_hash"))?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
        last_login_at: row.try_get("last_login_at")?,
    })
}

fn email_taken(email: &Email) -> String {
    format!("A user with email '{email}' already exists")
}

impl Store {
    /// Creates a user; a taken email (in any case) is a `Conflict`.
    pub async fn create_user(&self, new: &NewUser) -> Result<User, CoreError> {
        let row = query(format!(
            "INSERT INTO users (tenant_id, email, password_hash, role, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
        ))
        .bind(new.tenant.0)
        .bind(new.email.as_str())
        .bind(new.password_hash.as_phc())
        .bind(new.role.as_str())
        .bind(Utc::now())
        .fetch_one(self.db())
        .await
        .map_err(conflict_on("users_email_key", email_taken(&new.email)))?;
        user_from_row(&row).map_err(internal)
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, CoreError> {
        let row = query(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db())
            .await
            .map_err(internal)?;
        row.as_ref()
            .map(user_from_row)
            .transpose()
            .map_err(internal)
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, CoreError> {
        let row = query(format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
            .bind(email.as_str())
            .fetch_optional(self.db())
            .await
            .map_err(internal)?;
        row.as_ref()
            .map(user_from_row)
            .transpose()
            .map_err(internal)
    }

    /// Users of one tenant, or of every tenant when `tenant` is `None`,
    /// oldest first.
    pub async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<User>, CoreError> {
        let rows = query(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY id"
        ))
        .bind(tenant.map(|t| t.0))
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }

    /// Applies `changes`; `None` when there is no such user. A new password
    /// or disabling the user ends every login it holds: its refresh tokens
    /// are revoked in the same transaction.
    pub async fn update_user(
        &self,
        id: i64,
        changes: &UserChanges,
    ) -> Result<Option<User>, CoreError> {
        let now = Utc::now();
        let mut tx = self.db().begin().await.map_err(internal)?;
        // `disabled_at` keeps its first time when disabled twice.
        let row = query(format!(
            "UPDATE users SET
                 role = COALESCE($2, role),
                 tenant_id = COALESCE($3, tenant_id),
                 password_hash = COALESCE($4, password_hash),
                 disabled_at = CASE WHEN $5 IS NULL THEN disabled_at
                                    WHEN $5 THEN COALESCE(disabled_at, $6)
                                    ELSE NULL END
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(id)
        .bind(changes.role.map(UserRole::as_str))
        .bind(changes.tenant.map(|t| t.0))
        .bind(changes.password_hash.as_ref().map(PasswordHash::as_phc))
        .bind(changes.disabled)
        .bind(now)
        .fetch_optional(&mut tx)
        .await
        .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row).map_err(internal)?;
        if changes.password_hash.is_some() || changes.disabled == Some(true) {
            query(
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut tx)
            .await
            .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(Some(user))
    }

    /// Deletes a user and its refresh tokens; `false` when there was none.
    pub async fn delete_user(&self, id: i64) -> Result<bool, CoreError> {
        let done = query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(self.db())
            .await
            .map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    /// Notes a successful login.
    pub async fn record_login(&self, id: i64) -> Result<(), CoreError> {
        query("UPDATE users SET last_login_at = $2 WHERE id = $1")
            .bind(id)
            .bind(Utc::now())
            .execute(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }
}
