//! Discord permission bits, as decimal strings in interactions and roles.

/// A set of permission bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Permissions(pub u64);

impl Permissions {
    /// `ADMINISTRATOR`: every permission.
    pub const ADMINISTRATOR: Self = Self(1 << 3);
    /// `MANAGE_GUILD`.
    pub const MANAGE_GUILD: Self = Self(1 << 5);
    /// `VIEW_CHANNEL`.
    pub const VIEW_CHANNEL: Self = Self(1 << 10);
    /// `SEND_MESSAGES`.
    pub const SEND_MESSAGES: Self = Self(1 << 11);
    /// `EMBED_LINKS`.
    pub const EMBED_LINKS: Self = Self(1 << 14);
    /// `CONNECT`.
    pub const CONNECT: Self = Self(1 << 20);
    /// `MANAGE_ROLES`.
    pub const MANAGE_ROLES: Self = Self(1 << 28);
    /// `MANAGE_EVENTS`.
    pub const MANAGE_EVENTS: Self = Self(1 << 33);
    /// `USE_EMBEDDED_ACTIVITIES`.
    pub const USE_EMBEDDED_ACTIVITIES: Self = Self(1 << 39);
    /// `CREATE_EVENTS`.
    pub const CREATE_EVENTS: Self = Self(1 << 44);

    /// Parses the decimal string Discord sends; anything unparsable is no permission at all.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        Self(text.trim().parse().unwrap_or(0))
    }

    /// Whether every bit of `wanted` is set, `ADMINISTRATOR` implying all.
    #[must_use]
    pub fn contains(self, wanted: Self) -> bool {
        self.0 & Self::ADMINISTRATOR.0 != 0 || self.0 & wanted.0 == wanted.0
    }

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The decimal string Discord expects.
    #[must_use]
    pub fn to_wire(self) -> String {
        self.0.to_string()
    }
}

/// A member's guild-level permissions: `@everyone` (the role whose id is the guild's) and the
/// member's roles OR'd; administrators and the owner get every bit. Interaction payloads carry
/// the member's permissions *in the channel* (overwrites applied), which can grant channel-level
/// bits such as Manage Events in one channel only; server-wide decisions use these instead.
#[must_use]
pub fn guild_permissions(guild_id: u64, owner: bool, roles: &[(u64, u64)], member_roles: &[u64]) -> u64 {
    if owner {
        return u64::MAX;
    }
    let bits = roles
        .iter()
        .filter(|(id, _)| *id == guild_id || member_roles.contains(id))
        .fold(0, |bits, (_, permissions)| bits | permissions);
    if Permissions(bits).contains(Permissions::ADMINISTRATOR) { u64::MAX } else { bits }
}

/// What a timed-out member keeps (Discord: View Channel and Read Message History); the owner
/// and administrators cannot be timed out.
#[must_use]
pub fn while_timed_out(permissions: u64) -> u64 {
    if permissions == u64::MAX || Permissions(permissions).contains(Permissions::ADMINISTRATOR) {
        permissions
    } else {
        permissions & ((1 << 10) | (1 << 16))
    }
}

/// What the bot asks for when invited: view and send messages, embed links, manage and
/// create events (for Discord Scheduled Events).
pub const BOT_PERMISSIONS: Permissions = Permissions::VIEW_CHANNEL
    .union(Permissions::SEND_MESSAGES)
    .union(Permissions::EMBED_LINKS)
    .union(Permissions::MANAGE_EVENTS)
    .union(Permissions::CREATE_EVENTS);

#[cfg(test)]
mod tests {
    use super::{BOT_PERMISSIONS, Permissions};

    #[test]
    fn a_timed_out_member_keeps_only_viewing() {
        assert_eq!(super::while_timed_out((1 << 33) | (1 << 10) | (1 << 16) | (1 << 11)), (1 << 10) | (1 << 16));
        assert_eq!(super::while_timed_out(u64::MAX), u64::MAX);
    }

    #[test]
    fn administrator_implies_everything() {
        assert!(Permissions::parse("8").contains(Permissions::MANAGE_GUILD));
        assert!(Permissions::parse("32").contains(Permissions::MANAGE_GUILD));
        assert!(!Permissions::parse("2048").contains(Permissions::MANAGE_GUILD));
        assert!(!Permissions::parse("garbage").contains(Permissions::SEND_MESSAGES));
        assert_eq!(BOT_PERMISSIONS.to_wire(), (1024 + 2048 + 16384 + (1u64 << 33) + (1u64 << 44)).to_string());
    }
}
