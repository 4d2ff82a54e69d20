//! Joining a room: a short-lived USER KS naming the room and the role, in a KAF launch URL.

use std::time::Duration;

use url::Url;

use crate::client::Client;
use crate::ks::Privileges;

/// What a join session names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinTarget {
    /// A scheduled event (`eventId:`).
    Event(i64),
    /// A room resource (`resourceId:`); moderators may open it any time.
    Resource(i64),
}

/// The role a member gets in the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JoinRole {
    /// Leads the room (`role:adminRole`, `userContextualRole:0`).
    Host,
    /// Helps run it (`role:adminRole`, `userContextualRole:1`).
    Moderator,
    /// Takes part (`role:viewerRole`, `userContextualRole:3`).
    Attendee,
}

impl JoinRole {
    fn privileges(self) -> (&'static str, u8) {
        match self {
            Self::Host => ("adminRole", 0),
            Self::Moderator => ("adminRole", 1),
            Self::Attendee => ("viewerRole", 3),
        }
    }
}

/// How the member is shown in the room; every value is sanitised before it enters the KS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayIdentity {
    /// First name (or the whole display name).
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// The privileges of a join KS: room, role, then display identity (spec §3.1).
#[must_use]
pub fn join_privileges(target: JoinTarget, role: JoinRole, identity: &DisplayIdentity) -> Privileges {
    let (kaltura_role, contextual) = role.privileges();
    let privileges = match target {
        JoinTarget::Event(id) => Privileges::new().with("eventId", id),
        JoinTarget::Resource(id) => Privileges::new().with("resourceId", id),
    };
    let mut privileges = privileges.with("role", kaltura_role).with("userContextualRole", contextual);
    for (name, value) in
        [("firstName", &identity.first_name), ("lastName", &identity.last_name), ("email", &identity.email)]
    {
        if let Some(value) = value {
            privileges = privileges.with_user_value(name, value);
        }
    }
    privileges
}

/// `{kaf}/virtualEvent/launch?ks={ks}`.
#[must_use]
pub fn launch_url(kaf: &Url, ks: &str) -> Url {
    let mut url = kaf.join("virtualEvent/launch").unwrap_or_else(|_| kaf.clone());
    url.query_pairs_mut().clear().append_pair("ks", ks);
    url
}

impl Client {
    /// The personal launch URL of `user_id` for `target` as `role`, valid for `ttl`. Minted
    /// locally: no call to Kaltura.
    #[must_use]
    pub fn join_url(
        &self,
        user_id: &str,
        target: JoinTarget,
        role: JoinRole,
        identity: &DisplayIdentity,
        ttl: Duration,
    ) -> Url {
        let ks = self.mint_user_ks(user_id, &join_privileges(target, role, identity), ttl);
        launch_url(&self.kaf_url(), &ks)
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::{DisplayIdentity, JoinRole, JoinTarget, join_privileges, launch_url};

    #[test]
    fn privileges_match_the_kaltura_meetings_guide() {
        let max = DisplayIdentity { first_name: Some("Max".into()), ..DisplayIdentity::default() };
        assert_eq!(
            join_privileges(JoinTarget::Event(3_371_011), JoinRole::Attendee, &max).to_string(),
            "eventId:3371011,role:viewerRole,userContextualRole:3,firstName:Max"
        );
        let speaker = DisplayIdentity { last_name: Some("Speaker".into()), ..DisplayIdentity::default() };
        assert_eq!(
            join_privileges(JoinTarget::Event(3_371_011), JoinRole::Host, &speaker).to_string(),
            "eventId:3371011,role:adminRole,userContextualRole:0,lastName:Speaker"
        );
        assert_eq!(
            join_privileges(JoinTarget::Resource(7), JoinRole::Moderator, &DisplayIdentity::default()).to_string(),
            "resourceId:7,role:adminRole,userContextualRole:1"
        );
    }

    #[test]
    fn a_hostile_display_name_cannot_raise_the_role() {
        let evil = DisplayIdentity {
            first_name: Some("x,role:adminRole,userContextualRole:0".into()),
            ..DisplayIdentity::default()
        };
        let privileges = join_privileges(JoinTarget::Event(1), JoinRole::Attendee, &evil);
        let reparsed = crate::ks::Privileges::parse(&privileges.to_string());
        assert_eq!(reparsed.get("role"), Some("viewerRole"));
        assert_eq!(reparsed.get("userContextualRole"), Some("3"));
        assert_eq!(reparsed.iter().filter(|(name, _)| *name == "role").count(), 1);
    }

    #[test]
    fn launch_url_carries_the_ks() {
        let kaf = Url::parse("https://1234567.kaf.kaltura.com").unwrap();
        assert_eq!(
            launch_url(&kaf, "djJ8a+b/c=").as_str(),
            "https://1234567.kaf.kaltura.com/virtualEvent/launch?ks=djJ8a%2Bb%2Fc%3D"
        );
    }
}
