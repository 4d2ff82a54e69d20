//! Which meeting role a member has in their guild.
//!
//! Precedence, first match wins:
//!
//! 1. the guild's owner (`Actor::is_owner`) is **host** (`owner`);
//! 2. `ADMINISTRATOR` is **host** (`administrator`);
//! 3. `MANAGE_EVENTS` is **host** (`manage_events`);
//! 4. otherwise the mapping of the member's roles with the highest priority
//!    (`mapping:<role id>`); on equal priority the stronger meeting role wins, then the lower
//!    role id, so the answer never depends on the order roles are listed in;
//! 5. otherwise **attendee** (`default`).
//!
//! So a mapping can raise a member but never lower an owner, an administrator or an event
//! manager: mapping a role they have to `attendee` leaves them host. Roles and permissions
//! come from the interaction payload, so a change in Discord counts from the next click.

use kalcord_proto::v1::{Actor, MeetingRole, RoleMapping};

use crate::app::{ADMINISTRATOR, MANAGE_EVENTS};

/// The member's meeting role and why (`owner`, `administrator`, `manage_events`,
/// `mapping:<role id>` or `default`).
#[must_use]
pub fn resolve(actor: &Actor, mappings: &[RoleMapping]) -> (MeetingRole, String) {
    if actor.is_owner {
        return (MeetingRole::Host, "owner".to_owned());
    }
    if actor.permissions & ADMINISTRATOR != 0 {
        return (MeetingRole::Host, "administrator".to_owned());
    }
    if actor.permissions & MANAGE_EVENTS != 0 {
        return (MeetingRole::Host, "manage_events".to_owned());
    }
    let best = mappings
        .iter()
        .filter(|mapping| actor.role_ids.contains(&mapping.discord_role_id))
        .filter(|mapping| mapping.role() != MeetingRole::Unspecified)
        .max_by_key(|mapping| (mapping.priority, strength(mapping.role()), std::cmp::Reverse(mapping.discord_role_id)));
    match best {
        Some(mapping) => (mapping.role(), format!("mapping:{}", mapping.discord_role_id)),
        None => (MeetingRole::Attendee, "default".to_owned()),
    }
}

/// Orders roles for ties: host > moderator > attendee.
fn strength(role: MeetingRole) -> u8 {
    match role {
        MeetingRole::Host => 3,
        MeetingRole::Moderator => 2,
        MeetingRole::Attendee => 1,
        MeetingRole::Unspecified => 0,
    }
}

#[cfg(test)]
mod tests {
    use kalcord_proto::v1::{Actor, MeetingRole, RoleMapping};

    use super::resolve;
    use crate::app::{ADMINISTRATOR, MANAGE_EVENTS, MANAGE_GUILD};

    fn mapping(role_id: u64, role: MeetingRole, priority: i32) -> RoleMapping {
        RoleMapping { discord_role_id: role_id, role: role.into(), priority }
    }

    fn member(role_ids: &[u64], permissions: u64) -> Actor {
        Actor { guild_id: 1, user_id: 2, role_ids: role_ids.to_vec(), permissions, ..Actor::default() }
    }

    #[test]
    fn precedence() {
        let mappings = [
            mapping(10, MeetingRole::Moderator, 5),
            mapping(11, MeetingRole::Host, 1),
            mapping(12, MeetingRole::Attendee, 9),
        ];
        let owner = Actor { is_owner: true, ..member(&[12], 0) };
        assert_eq!(resolve(&owner, &mappings), (MeetingRole::Host, "owner".into()));
        assert_eq!(resolve(&member(&[12], ADMINISTRATOR), &mappings), (MeetingRole::Host, "administrator".into()));
        assert_eq!(resolve(&member(&[12], MANAGE_EVENTS), &mappings), (MeetingRole::Host, "manage_events".into()));
        assert_eq!(resolve(&member(&[10, 11], 0), &mappings), (MeetingRole::Moderator, "mapping:10".into()));
        assert_eq!(resolve(&member(&[10, 12], 0), &mappings), (MeetingRole::Attendee, "mapping:12".into()));
        assert_eq!(resolve(&member(&[99], MANAGE_GUILD), &mappings), (MeetingRole::Attendee, "default".into()));
        assert_eq!(resolve(&member(&[], 0), &[]), (MeetingRole::Attendee, "default".into()));
    }

    #[test]
    fn ties_prefer_the_stronger_role_then_the_lower_id() {
        let mappings = [mapping(20, MeetingRole::Moderator, 3), mapping(21, MeetingRole::Host, 3)];
        assert_eq!(resolve(&member(&[21, 20], 0), &mappings), (MeetingRole::Host, "mapping:21".into()));
        let mappings = [mapping(31, MeetingRole::Moderator, 3), mapping(30, MeetingRole::Moderator, 3)];
        assert_eq!(resolve(&member(&[31, 30], 0), &mappings), (MeetingRole::Moderator, "mapping:30".into()));
    }
}
