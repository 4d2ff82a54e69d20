//! Permission bits, intents and Discord's permission computation (base permissions, then channel overwrites).

use crate::config::OverwriteSeed;

/// `CREATE_INSTANT_INVITE`.
pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
/// `ADMINISTRATOR`.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// `MANAGE_CHANNELS`.
pub const MANAGE_CHANNELS: u64 = 1 << 4;
/// `MANAGE_GUILD`.
pub const MANAGE_GUILD: u64 = 1 << 5;
/// `ADD_REACTIONS`.
pub const ADD_REACTIONS: u64 = 1 << 6;
/// `VIEW_CHANNEL`.
pub const VIEW_CHANNEL: u64 = 1 << 10;
/// `SEND_MESSAGES`.
pub const SEND_MESSAGES: u64 = 1 << 11;
/// `EMBED_LINKS`.
pub const EMBED_LINKS: u64 = 1 << 14;
/// `ATTACH_FILES`.
pub const ATTACH_FILES: u64 = 1 << 15;
/// `READ_MESSAGE_HISTORY`.
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
/// `MENTION_EVERYONE`.
pub const MENTION_EVERYONE: u64 = 1 << 17;
/// `CONNECT`.
pub const CONNECT: u64 = 1 << 20;
/// `SPEAK`.
pub const SPEAK: u64 = 1 << 21;
/// `CHANGE_NICKNAME`.
pub const CHANGE_NICKNAME: u64 = 1 << 26;
/// `MANAGE_ROLES`.
pub const MANAGE_ROLES: u64 = 1 << 28;
/// `USE_APPLICATION_COMMANDS`.
pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
/// `MANAGE_EVENTS`.
pub const MANAGE_EVENTS: u64 = 1 << 33;
/// `USE_EMBEDDED_ACTIVITIES`.
pub const USE_EMBEDDED_ACTIVITIES: u64 = 1 << 39;
/// `CREATE_EVENTS`.
pub const CREATE_EVENTS: u64 = 1 << 44;
/// Every permission bit defined today (through `1 << 51`).
pub const ALL: u64 = (1 << 52) - 1;

/// What `@everyone` gets in a new guild.
pub const DEFAULT_EVERYONE: u64 = CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | USE_EMBEDDED_ACTIVITIES
    | CREATE_EVENTS;

/// What the bot's managed role gets unless configured.
pub const DEFAULT_BOT: u64 =
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | MANAGE_ROLES | MANAGE_EVENTS | CREATE_EVENTS;

/// `app_permissions` in DMs: "includes `ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE`".
pub const DM_APP_PERMISSIONS: u64 =
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | MENTION_EVERYONE;

/// `GUILDS` intent.
pub const INTENT_GUILDS: u64 = 1 << 0;
/// `GUILD_MEMBERS` intent (privileged).
pub const INTENT_GUILD_MEMBERS: u64 = 1 << 1;
/// `GUILD_PRESENCES` intent (privileged).
pub const INTENT_GUILD_PRESENCES: u64 = 1 << 8;
/// `GUILD_MESSAGES` intent.
pub const INTENT_GUILD_MESSAGES: u64 = 1 << 9;
/// `DIRECT_MESSAGES` intent.
pub const INTENT_DIRECT_MESSAGES: u64 = 1 << 12;
/// `MESSAGE_CONTENT` intent (privileged).
pub const INTENT_MESSAGE_CONTENT: u64 = 1 << 15;
/// `GUILD_SCHEDULED_EVENTS` intent.
pub const INTENT_GUILD_SCHEDULED_EVENTS: u64 = 1 << 16;
/// Privileged intents.
pub const PRIVILEGED_INTENTS: u64 = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT;
/// Every documented intent bit: `0..=16`, `20`, `21`, `24`, `25`.
pub const VALID_INTENTS: u64 = ((1 << 17) - 1) | (1 << 20) | (1 << 21) | (1 << 24) | (1 << 25);

/// Base permissions of a member (no channel overwrites): owner and `ADMINISTRATOR` get everything.
#[must_use]
pub fn base_permissions(is_owner: bool, everyone: u64, role_permissions: impl IntoIterator<Item = u64>) -> u64 {
    if is_owner {
        return ALL;
    }
    let total = role_permissions.into_iter().fold(everyone, |acc, bits| acc | bits);
    if total & ADMINISTRATOR == ADMINISTRATOR { ALL } else { total }
}

/// `type` of a role overwrite.
pub const OVERWRITE_ROLE: u8 = 0;
/// `type` of a member overwrite.
pub const OVERWRITE_MEMBER: u8 = 1;

/// Permissions in a channel from base permissions and the channel's overwrites, as Discord computes them.
///
/// `ADMINISTRATOR` (which owners hold through [`ALL`]) bypasses overwrites. Otherwise the `@everyone`
/// overwrite (id = `guild_id`) applies first, then the overwrites of the member's roles together (every deny,
/// then every allow), then the member's own overwrite.
#[must_use]
pub fn apply_overwrites(base: u64, guild_id: u64, user_id: u64, roles: &[u64], overwrites: &[OverwriteSeed]) -> u64 {
    if base & ADMINISTRATOR == ADMINISTRATOR {
        return ALL;
    }
    let apply = |bits: u64, allow: u64, deny: u64| (bits & !deny) | allow;
    let mut bits = base;
    if let Some(everyone) = overwrites.iter().find(|o| o.kind == OVERWRITE_ROLE && o.id == guild_id) {
        bits = apply(bits, everyone.allow, everyone.deny);
    }
    let (allow, deny) = overwrites
        .iter()
        .filter(|o| o.kind == OVERWRITE_ROLE && o.id != guild_id && roles.contains(&o.id))
        .fold((0, 0), |(allow, deny), o| (allow | o.allow, deny | o.deny));
    bits = apply(bits, allow, deny);
    if let Some(member) = overwrites.iter().find(|o| o.kind == OVERWRITE_MEMBER && o.id == user_id) {
        bits = apply(bits, member.allow, member.deny);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: u64, allow: u64, deny: u64) -> OverwriteSeed {
        OverwriteSeed::role(id, allow, deny)
    }

    #[test]
    fn overwrites_apply_everyone_then_roles_then_member() {
        let (guild, user, a, b) = (10, 20, 30, 40);
        let base = VIEW_CHANNEL | SEND_MESSAGES;
        let everyone_denies = [role(guild, 0, SEND_MESSAGES)];
        assert_eq!(apply_overwrites(base, guild, user, &[a], &everyone_denies), VIEW_CHANNEL);
        // A role's allow beats another role's deny (denies first, then allows), and both beat @everyone.
        let roles =
            [role(guild, 0, SEND_MESSAGES | VIEW_CHANNEL), role(a, 0, SEND_MESSAGES), role(b, SEND_MESSAGES, 0)];
        assert_eq!(apply_overwrites(base, guild, user, &[a, b], &roles), SEND_MESSAGES);
        assert_eq!(apply_overwrites(base, guild, user, &[a], &roles), 0, "role a only denies");
        assert_eq!(apply_overwrites(base, guild, user, &[], &roles[..2]), 0, "overwrites of other roles do not apply");
        let member = [role(guild, 0, VIEW_CHANNEL), OverwriteSeed::member(user, VIEW_CHANNEL, 0)];
        assert_eq!(apply_overwrites(base, guild, user, &[], &member), base, "the member overwrite comes last");
        assert_eq!(apply_overwrites(base, guild, 21, &[], &member), SEND_MESSAGES, "another member's does not apply");
        let denied = [OverwriteSeed::member(user, 0, SEND_MESSAGES), role(a, SEND_MESSAGES, 0)];
        assert_eq!(apply_overwrites(base, guild, user, &[a], &denied), VIEW_CHANNEL, "member deny beats role allow");
        assert_eq!(apply_overwrites(ALL, guild, user, &[], &[role(guild, 0, ALL)]), ALL, "ADMINISTRATOR bypasses");
        assert_eq!(apply_overwrites(ADMINISTRATOR, guild, user, &[], &everyone_denies), ALL);
    }

    #[test]
    fn owner_and_admin_get_everything() {
        assert_eq!(base_permissions(true, 0, []), ALL);
        assert_eq!(base_permissions(false, VIEW_CHANNEL, [ADMINISTRATOR]), ALL);
        assert_eq!(base_permissions(false, VIEW_CHANNEL, [SEND_MESSAGES]), VIEW_CHANNEL | SEND_MESSAGES);
    }
}
