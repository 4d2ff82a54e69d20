use kalcord_discord::egress::EgressError;
use kalcord_proto::v1::{MeetingRole, RoleMapping};

use super::{Guild, MemberJson, Step, Tally, UserJson, discord_problem};
use crate::app::{ADMINISTRATOR, MANAGE_EVENTS};

const GUILD: u64 = 1;
const OWNER: u64 = 100;
const ADMINS: u64 = 10;
const EVENTS: u64 = 11;
const TEACHERS: u64 = 12;
const HELPERS: u64 = 13;

fn guild() -> Guild {
    Guild {
        id: GUILD,
        owner_id: OWNER,
        roles: vec![(GUILD, 0), (ADMINS, ADMINISTRATOR), (EVENTS, MANAGE_EVENTS), (TEACHERS, 0), (HELPERS, 0)],
        mappings: vec![
            RoleMapping { discord_role_id: TEACHERS, role: MeetingRole::Host.into(), priority: 1 },
            RoleMapping { discord_role_id: HELPERS, role: MeetingRole::Moderator.into(), priority: 2 },
        ],
    }
}

fn member(id: u64, roles: &[u64], bot: bool) -> MemberJson {
    MemberJson {
        user: Some(UserJson { id: id.to_string(), bot }),
        roles: roles.iter().map(ToString::to_string).collect(),
        communication_disabled_until: None,
    }
}

fn timed_out(mut member: MemberJson) -> MemberJson {
    member.communication_disabled_until = Some("2999-01-01T00:00:00+00:00".to_owned());
    member
}

#[test]
fn members_count_by_the_role_a_join_would_give() {
    let guild = guild();
    let now = chrono::Utc::now();
    let mut tally = Tally::default();
    let members = [
        member(OWNER, &[], false),
        member(201, &[ADMINS], false),
        member(202, &[EVENTS], false),
        member(203, &[TEACHERS], false),
        member(204, &[TEACHERS, HELPERS], false),
        member(205, &[HELPERS], false),
        member(206, &[], false),
        member(207, &[ADMINS], true),
        timed_out(member(208, &[EVENTS], false)),
        timed_out(member(209, &[ADMINS], false)),
    ];
    let ids: Vec<Option<u64>> = members.iter().map(|member| tally.add(&guild, member, now)).collect();
    assert_eq!(ids, (0..10).map(|n| Some(if n == 0 { OWNER } else { 200 + n })).collect::<Vec<_>>());
    // Hosts: owner, admin, events, teacher, timed-out admin; moderators: teacher+helper (priority), helper.
    assert_eq!(tally, Tally { members: 10, bots: 1, hosts: 5, moderators: 2, attendees: 2 });
}

#[test]
fn a_member_without_a_readable_user_is_not_counted() {
    let mut tally = Tally::default();
    let nobody = MemberJson { user: None, roles: Vec::new(), communication_disabled_until: None };
    let garbled = MemberJson { user: Some(UserJson { id: "x".into(), bot: false }), ..member(1, &[], false) };
    assert_eq!(tally.add(&guild(), &nobody, chrono::Utc::now()), None);
    assert_eq!(tally.add(&guild(), &garbled, chrono::Utc::now()), None);
    assert_eq!(tally, Tally::default());
}

#[test]
fn discord_failures_become_answers_an_admin_can_act_on() {
    let refused = |status| EgressError::Discord { status, code: 50_001, message: "Missing Access".into() };
    assert_eq!(discord_problem(Step::Members, &refused(403)).code, "members_intent");
    assert!(discord_problem(Step::Members, &refused(403)).message.contains("Server Members Intent"));
    assert_eq!(discord_problem(Step::Guild, &refused(403)).code, "discord_refused");
    assert_eq!(discord_problem(Step::Members, &refused(502)).code, "discord_unavailable");
    let limited = EgressError::RateLimited { retry_after_ms: 60_000, global: false };
    assert_eq!(discord_problem(Step::Members, &limited).code, "discord_unavailable");
    assert_eq!(discord_problem(Step::Guild, &EgressError::InvalidToken).code, "not_configured");
    assert_eq!(discord_problem(Step::Members, &refused(400)).code, "internal");
}
