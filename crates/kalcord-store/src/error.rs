//! The error type of the crate.

use sea_orm::{DbErr, SqlErr};

/// Everything that can go wrong in the store.
///
/// No variant ever carries a database password: connection errors hold a redacted URL and a
/// sanitised message instead of the driver error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names a backend this crate does not support.
    #[error("unsupported database url {url} (expected sqlite: or postgres:)")]
    UnsupportedUrl {
        /// The URL, password redacted.
        url: String,
    },
    /// Opening the connection pool failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's message, password redacted.
        message: String,
    },
    /// Preparing the SQLite database file failed.
    #[error("cannot prepare sqlite database directory {path}")]
    Io {
        /// The directory that could not be created.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Applying migrations failed.
    #[error("migration failed")]
    Migration(#[source] DbErr),
    /// A unique constraint (or primary key) rejected the write.
    #[error("unique constraint violated: {message}")]
    Conflict {
        /// The database's description of the violation.
        message: String,
    },
    /// The row to update or delete does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// The kind of row (table name).
        entity: &'static str,
        /// Its key, rendered.
        id: String,
    },
    /// An optimistic-concurrency check failed: someone else updated the row first.
    #[error("{entity} {id} was modified concurrently (expected version {expected})")]
    StaleVersion {
        /// The kind of row (table name).
        entity: &'static str,
        /// Its key, rendered.
        id: String,
        /// The version the caller based its change on.
        expected: i32,
    },
    /// A caller-supplied value was unusable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The audit log's hash chain does not verify; `seq` is the first broken link.
    #[error("audit chain broken at seq {seq}")]
    AuditChainBroken {
        /// Chain position of the first row that does not verify.
        seq: i64,
    },
    /// Appending to the audit log kept losing the race for the next sequence number.
    #[error("audit append gave up after {attempts} attempts (contention)")]
    AuditContention {
        /// How many times the append was tried.
        attempts: u32,
    },
    /// Any other database error.
    #[error("database error")]
    Db(#[source] DbErr),
}

impl StoreError {
    /// Whether this is a unique-constraint violation ([`StoreError::Conflict`]).
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// Whether this is a [`StoreError::NotFound`].
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

impl From<DbErr> for StoreError {
    /// Classifies by the driver's error code (via [`DbErr::sql_err`]), never by message text.
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => Self::Conflict { message },
            _ => Self::Db(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_without_period() {
        let _trace = kalcord_test_util::trace_init();
        let errors = [
            StoreError::Conflict { message: "x".into() },
            StoreError::AuditChainBroken { seq: 3 },
            StoreError::Db(DbErr::Custom("x".into())),
            StoreError::NotFound { entity: "guild", id: "1".into() },
        ];
        for err in errors {
            let text = err.to_string();
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.starts_with(|c: char| !c.is_uppercase()), "{text}");
        }
    }

    #[test]
    fn non_constraint_errors_are_not_conflicts() {
        let _trace = kalcord_test_util::trace_init();
        let err = StoreError::from(DbErr::Custom("duplicate key value".into()));
        assert!(!err.is_conflict());
        assert!(matches!(err, StoreError::Db(_)));
    }
}
