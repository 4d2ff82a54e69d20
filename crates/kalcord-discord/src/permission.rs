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

/// Every permission the bot asks for when invited: the bit, Discord's name for it (as the
/// server settings show it) and why kalcord needs it. [`BOT_PERMISSIONS`] is built from this
/// table, and docs/discord.md lists each entry (a test checks it).
pub const BOT_PERMISSION_REASONS: &[(Permissions, &str, &str)] = &[
    (
        Permissions::VIEW_CHANNEL,
        "View Channels",
        "see the notification channel and the meeting messages kalcord posts there",
    ),
    (
        Permissions::SEND_MESSAGES,
        "Send Messages",
        "post meeting announcements, reminders and recordings in the notification channel",
    ),
    (Permissions::EMBED_LINKS, "Embed Links", "show meeting announcements as embeds with their join links and buttons"),
    (
        Permissions::CREATE_EVENTS,
        "Create Events",
        "create, update and cancel the Discord Scheduled Event mirroring each scheduled meeting (the bot's own events only, so Manage Events is not needed)",
    ),
];

/// The union of [`BOT_PERMISSION_REASONS`].
const fn bot_permissions() -> Permissions {
    let mut bits = Permissions(0);
    let mut index = 0;
    while index < BOT_PERMISSION_REASONS.len() {
        bits = bits.union(BOT_PERMISSION_REASONS[index].0);
        index += 1;
    }
    bits
}

/// What the bot asks for when invited: every permission of [`BOT_PERMISSION_REASONS`].
pub const BOT_PERMISSIONS: Permissions = bot_permissions();

/// The `OAuth2` scopes of the invite: the bot user and slash commands.
pub const INVITE_SCOPES: &[&str] = &["bot", "applications.commands"];

/// The URL that adds the bot of `application_id` to a server with [`BOT_PERMISSIONS`] and
/// [`INVITE_SCOPES`].
#[must_use]
pub fn invite_url(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope={}&permissions={}",
        INVITE_SCOPES.join("%20"),
        BOT_PERMISSIONS.to_wire()
    )
}

/// The entries of [`BOT_PERMISSION_REASONS`] that `held` lacks (`ADMINISTRATOR` lacks none).
#[must_use]
pub fn missing_bot_permissions(held: Permissions) -> Vec<(Permissions, &'static str, &'static str)> {
    BOT_PERMISSION_REASONS.iter().copied().filter(|(bit, _, _)| !held.contains(*bit)).collect()
}

/// Who a channel permission overwrite applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverwriteTarget {
    /// A role (`type` 0); the role whose id is the guild's is `@everyone`.
    Role(u64),
    /// One member (`type` 1).
    Member(u64),
}

/// One entry of a channel's `permission_overwrites`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overwrite {
    /// The role or member it applies to.
    pub target: OverwriteTarget,
    /// Bits granted.
    pub allow: u64,
    /// Bits taken away.
    pub deny: u64,
}

/// A member's permissions in a channel, Discord's documented order: start from the guild-level
/// `base` (see [`guild_permissions`]; administrators and the owner keep everything), apply the
/// `@everyone` overwrite, then the member's role overwrites (denies OR'd, allows OR'd, denies
/// first), then the member's own overwrite.
#[must_use]
pub fn channel_permissions(
    guild_id: u64,
    base: u64,
    member_id: u64,
    member_roles: &[u64],
    overwrites: &[Overwrite],
) -> u64 {
    if base == u64::MAX || Permissions(base).contains(Permissions::ADMINISTRATOR) {
        return u64::MAX;
    }
    let mut bits = base;
    if let Some(everyone) = overwrites.iter().find(|o| o.target == OverwriteTarget::Role(guild_id)) {
        bits = (bits & !everyone.deny) | everyone.allow;
    }
    let (allow, deny) = overwrites
        .iter()
        .filter(|o| matches!(o.target, OverwriteTarget::Role(id) if id != guild_id && member_roles.contains(&id)))
        .fold((0, 0), |(allow, deny), o| (allow | o.allow, deny | o.deny));
    bits = (bits & !deny) | allow;
    if let Some(own) = overwrites.iter().find(|o| o.target == OverwriteTarget::Member(member_id)) {
        bits = (bits & !own.deny) | own.allow;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::{
        BOT_PERMISSION_REASONS, BOT_PERMISSIONS, Overwrite, OverwriteTarget, Permissions, channel_permissions,
        invite_url, missing_bot_permissions,
    };

    const GUILD: u64 = 100;
    const MEMBER: u64 = 7;
    const ROLE_A: u64 = 1;
    const ROLE_B: u64 = 2;
    const SEND: u64 = 1 << 11;
    const EMBED: u64 = 1 << 14;
    const VIEW: u64 = 1 << 10;

    fn role(id: u64, allow: u64, deny: u64) -> Overwrite {
        Overwrite { target: OverwriteTarget::Role(id), allow, deny }
    }

    #[test]
    fn no_overwrites_keep_the_guild_permissions() {
        assert_eq!(channel_permissions(GUILD, VIEW | SEND, MEMBER, &[ROLE_A], &[]), VIEW | SEND);
    }

    #[test]
    fn everyone_deny_is_undone_by_a_role_allow() {
        let overwrites = [role(GUILD, 0, SEND | EMBED), role(ROLE_A, EMBED, 0)];
        assert_eq!(channel_permissions(GUILD, VIEW | SEND | EMBED, MEMBER, &[ROLE_A], &overwrites), VIEW | EMBED);
    }

    #[test]
    fn role_allow_wins_over_another_role_deny() {
        // Denies of all roles apply first, then allows of all roles.
        let overwrites = [role(ROLE_A, 0, EMBED), role(ROLE_B, EMBED, 0)];
        assert_eq!(channel_permissions(GUILD, VIEW, MEMBER, &[ROLE_A, ROLE_B], &overwrites), VIEW | EMBED);
        // A role the member lacks does nothing.
        assert_eq!(channel_permissions(GUILD, VIEW | EMBED, MEMBER, &[ROLE_A], &overwrites), VIEW);
    }

    #[test]
    fn member_overwrite_comes_last() {
        let overwrites = [
            role(GUILD, EMBED, 0),
            role(ROLE_A, SEND, 0),
            Overwrite { target: OverwriteTarget::Member(MEMBER), allow: 0, deny: SEND | EMBED },
        ];
        assert_eq!(channel_permissions(GUILD, VIEW, MEMBER, &[ROLE_A], &overwrites), VIEW);
        let allow_back =
            [role(GUILD, 0, EMBED), Overwrite { target: OverwriteTarget::Member(MEMBER), allow: EMBED, deny: 0 }];
        assert_eq!(channel_permissions(GUILD, VIEW | EMBED, MEMBER, &[], &allow_back), VIEW | EMBED);
        // Another member's overwrite does nothing.
        let other = [Overwrite { target: OverwriteTarget::Member(8), allow: 0, deny: VIEW }];
        assert_eq!(channel_permissions(GUILD, VIEW, MEMBER, &[], &other), VIEW);
    }

    #[test]
    fn administrators_bypass_overwrites() {
        let overwrites = [role(GUILD, 0, u64::MAX)];
        assert_eq!(channel_permissions(GUILD, 8 | VIEW, MEMBER, &[], &overwrites), u64::MAX);
        assert_eq!(channel_permissions(GUILD, u64::MAX, MEMBER, &[], &overwrites), u64::MAX);
    }

    #[test]
    fn the_bot_permissions_come_from_the_table() {
        let union = BOT_PERMISSION_REASONS.iter().fold(0, |bits, (bit, _, _)| bits | bit.0);
        assert_eq!(BOT_PERMISSIONS.0, union);
        for (bit, name, why) in BOT_PERMISSION_REASONS {
            assert_eq!(bit.0.count_ones(), 1, "{name}");
            assert!(!why.is_empty(), "{name}");
        }
        let missing = missing_bot_permissions(Permissions(BOT_PERMISSIONS.0 & !EMBED));
        assert_eq!(missing.iter().map(|(_, name, _)| *name).collect::<Vec<_>>(), ["Embed Links"]);
        assert!(missing_bot_permissions(Permissions::ADMINISTRATOR).is_empty());
    }

    #[test]
    fn invite_url_asks_for_the_bot_and_commands_scopes() {
        assert_eq!(
            invite_url(42),
            format!(
                "https://discord.com/oauth2/authorize?client_id=42&scope=bot%20applications.commands&permissions={}",
                BOT_PERMISSIONS.to_wire()
            )
        );
    }

    #[test]
    fn docs_explain_every_bot_permission() {
        let doc = include_str!("../../../docs/discord.md");
        let section = doc.split("## Invite the bot").nth(1).and_then(|rest| rest.split("\n## ").next()).unwrap_or("");
        for (_, name, why) in BOT_PERMISSION_REASONS {
            assert!(section.contains(&format!("**{name}**: {why}")), "docs/discord.md does not explain {name}");
        }
        assert!(section.contains(&BOT_PERMISSIONS.to_wire()));
    }

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
        assert_eq!(BOT_PERMISSIONS.to_wire(), (1024 + 2048 + 16384 + (1u64 << 44)).to_string());
    }
}
