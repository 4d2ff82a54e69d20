//! The `demo` seed: one school guild with Teacher/Student/Member roles, a few members and channels.

use crate::config::{ChannelSeed, GuildSeed, MemberSeed, RoleSeed, UserSeed};
use crate::perms;

/// Demo guild id.
pub const GUILD_ID: u64 = 1_284_000_000_000_000_001;
/// `Teacher` role.
pub const TEACHER_ROLE: u64 = 1_284_000_000_000_000_101;
/// `Student` role.
pub const STUDENT_ROLE: u64 = 1_284_000_000_000_000_102;
/// `Member` role.
pub const MEMBER_ROLE: u64 = 1_284_000_000_000_000_103;
/// `#general` (text; the guild's system channel).
pub const GENERAL_CHANNEL: u64 = 1_284_000_000_000_000_201;
/// `Classroom` (voice).
pub const CLASSROOM_CHANNEL: u64 = 1_284_000_000_000_000_202;
/// `#announcements` (text).
pub const ANNOUNCEMENTS_CHANNEL: u64 = 1_284_000_000_000_000_203;
/// `Auditorium` (stage).
pub const STAGE_CHANNEL: u64 = 1_284_000_000_000_000_204;
/// The owner (administrator).
pub const OWNER_ID: u64 = 1_284_000_000_000_000_300;
/// A teacher.
pub const TEACHER_ID: u64 = 1_284_000_000_000_000_301;
/// A student.
pub const STUDENT_ID: u64 = 1_284_000_000_000_000_302;
/// Another student.
pub const STUDENT2_ID: u64 = 1_284_000_000_000_000_303;
/// A member without class roles.
pub const MEMBER_ID: u64 = 1_284_000_000_000_000_304;

/// The demo guild (`#general` is its system channel).
#[must_use]
pub fn demo_guild() -> GuildSeed {
    let teacher_bits =
        perms::MANAGE_EVENTS | perms::CREATE_EVENTS | perms::MENTION_EVERYONE | perms::USE_EMBEDDED_ACTIVITIES;
    GuildSeed::new(GUILD_ID, "Kalcord Demo School", UserSeed::new(OWNER_ID, "owner"))
        .with_role(RoleSeed::new(TEACHER_ROLE, "Teacher", teacher_bits).at(3))
        .with_role(RoleSeed::new(STUDENT_ROLE, "Student", perms::USE_EMBEDDED_ACTIVITIES).at(2))
        .with_role(RoleSeed::new(MEMBER_ROLE, "Member", 0).at(1))
        .with_channel(ChannelSeed::text(GENERAL_CHANNEL, "general"))
        .with_channel(ChannelSeed::voice(CLASSROOM_CHANNEL, "Classroom"))
        .with_channel(ChannelSeed::text(ANNOUNCEMENTS_CHANNEL, "announcements"))
        .with_channel(ChannelSeed { kind: 13, ..ChannelSeed::voice(STAGE_CHANNEL, "Auditorium") })
        .with_system_channel(GENERAL_CHANNEL)
        .with_member(MemberSeed::new(UserSeed::new(TEACHER_ID, "ada")).with_role(TEACHER_ROLE).with_role(MEMBER_ROLE))
        .with_member(MemberSeed::new(UserSeed::new(STUDENT_ID, "bob")).with_role(STUDENT_ROLE).with_role(MEMBER_ROLE))
        .with_member(MemberSeed::new(UserSeed::new(STUDENT2_ID, "cy")).with_role(STUDENT_ROLE))
        .with_member(MemberSeed::new(UserSeed::new(MEMBER_ID, "dee")).with_role(MEMBER_ROLE))
}
