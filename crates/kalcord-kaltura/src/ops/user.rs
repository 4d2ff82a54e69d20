//! `user`: the Kaltura user behind each Discord member.

use serde_json::{Map, Value, json};

use crate::client::{Client, Idempotency};
use crate::error::{ApiError, KalturaError};
use crate::model::User;

/// The Kaltura user id of a Discord user: `discord-<snowflake>` (Kaltura ids may not hold `:`).
#[must_use]
pub fn discord_user_id(snowflake: u64) -> String {
    format!("discord-{snowflake}")
}

/// Profile fields of a user; `None` leaves a field out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// Display name.
    pub screen_name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

impl UserProfile {
    fn to_object(&self, id: Option<&str>) -> Value {
        let mut object = Map::new();
        object.insert("objectType".to_owned(), json!("KalturaUser"));
        if let Some(id) = id {
            object.insert("id".to_owned(), json!(id));
        }
        let fields = [
            ("screenName", &self.screen_name),
            ("firstName", &self.first_name),
            ("lastName", &self.last_name),
            ("email", &self.email),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                object.insert(name.to_owned(), json!(value));
            }
        }
        Value::Object(object)
    }
}

fn check_id(id: &str) -> Result<(), KalturaError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ",!#$%&'*+?^_`{|}~.@-".contains(c);
    if id.is_empty() || id.len() > 320 || !id.chars().all(allowed) {
        return Err(KalturaError::InvalidArgument(format!("{id:?} is not a valid Kaltura user id")));
    }
    Ok(())
}

impl Client {
    /// `user.add`.
    ///
    /// # Errors
    ///
    /// `DUPLICATE_USER_BY_ID` when it exists; an invalid id before anything is sent.
    pub async fn add_user(&self, id: &str, profile: &UserProfile) -> Result<User, KalturaError> {
        check_id(id)?;
        self.call("user", "add", json!({ "user": profile.to_object(Some(id)) }), Idempotency::Unsafe).await
    }

    /// Adds the user, or returns the existing one when the id is taken.
    ///
    /// # Errors
    ///
    /// Anything but `DUPLICATE_USER_BY_ID` from the add, and errors of the follow-up get.
    pub async fn ensure_user(&self, id: &str, profile: &UserProfile) -> Result<User, KalturaError> {
        match self.add_user(id, profile).await {
            Err(KalturaError::Api { error: ApiError::DuplicateUserById { .. }, .. }) => self.get_user(id).await,
            other => other,
        }
    }

    /// `user.get`.
    ///
    /// # Errors
    ///
    /// `INVALID_USER_ID` when there is no such user.
    pub async fn get_user(&self, id: &str) -> Result<User, KalturaError> {
        check_id(id)?;
        self.call("user", "get", json!({ "userId": id }), Idempotency::Safe).await
    }

    /// `user.update`: sets the given profile fields.
    ///
    /// # Errors
    ///
    /// `INVALID_USER_ID` when there is no such user.
    pub async fn update_user(&self, id: &str, profile: &UserProfile) -> Result<User, KalturaError> {
        check_id(id)?;
        let params = json!({ "userId": id, "user": profile.to_object(None) });
        self.call("user", "update", params, Idempotency::Safe).await
    }

    /// `user.delete`.
    ///
    /// # Errors
    ///
    /// `INVALID_USER_ID` when there is no such user.
    pub async fn delete_user(&self, id: &str) -> Result<(), KalturaError> {
        check_id(id)?;
        let _: Value = self.call("user", "delete", json!({ "userId": id }), Idempotency::Safe).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{check_id, discord_user_id};

    #[test]
    fn ids_follow_the_server_rule() {
        assert_eq!(discord_user_id(80_351_110_224_678_912), "discord-80351110224678912");
        assert!(check_id(&discord_user_id(1)).is_ok());
        for bad in ["", "discord:1", "a b", "semi;colon", &"x".repeat(321)] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }
}
