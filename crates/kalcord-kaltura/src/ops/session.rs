//! `session`: start, get and end sessions on the server.

use serde_json::json;

use crate::client::{Client, Idempotency};
use crate::error::KalturaError;
use crate::ks::{Privileges, SessionType};
use crate::model::SessionInfo;

impl Client {
    /// `session.start`: asks the server for a KS. kalcord mints locally instead
    /// ([`Client::mint_user_ks`]); this is for operators and checks.
    ///
    /// # Errors
    ///
    /// `START_SESSION_ERROR` for a wrong secret, and any transport error.
    pub async fn session_start(
        &self,
        user_id: &str,
        session_type: SessionType,
        expiry_seconds: i64,
        privileges: &Privileges,
    ) -> Result<String, KalturaError> {
        let params = json!({
            "secret": self.config().admin_secret.expose(),
            "userId": user_id,
            "type": session_type.code(),
            "partnerId": self.partner_id(),
            "expiry": expiry_seconds,
            "privileges": privileges.to_string(),
        });
        self.call("session", "start", params, Idempotency::Safe).await
    }

    /// `session.get`: what the server knows of `ks`.
    ///
    /// # Errors
    ///
    /// `INVALID_KS` when the server refuses it, and any transport error.
    pub async fn session_get(&self, ks: &str) -> Result<SessionInfo, KalturaError> {
        self.call("session", "get", json!({ "session": ks }), Idempotency::Safe).await
    }

    /// `session.end`: revokes `ks` (and every KS sharing its `sessionid`).
    ///
    /// # Errors
    ///
    /// `INVALID_KS` when it is not valid any more, and any transport error.
    pub async fn session_end(&self, ks: &str) -> Result<(), KalturaError> {
        let _: serde_json::Value = self.call("session", "end", json!({ "ks": ks }), Idempotency::Safe).await?;
        Ok(())
    }
}
