//! `/meeting` and `/kaltura`: the single source of truth of kalcord's commands.

use super::model::{CommandDefinition, CommandOption};
use crate::permission::Permissions;

/// Guild text and announcement channels.
const TEXT_CHANNELS: &[u8] = &[0, 5];
/// Meeting kinds offered everywhere.
const KINDS: &[(&str, &str)] =
    &[("Interactive Meeting Room", "meeting_room"), ("Virtual Classroom", "virtual_classroom"), ("Webinar", "webinar")];

fn meeting_option(description: &str) -> CommandOption {
    CommandOption::string("meeting", description).required().autocomplete()
}

/// Meeting roles a Discord role can be mapped to.
const MEETING_ROLES: &[(&str, &str)] = &[("Host", "host"), ("Moderator", "moderator"), ("Attendee", "attendee")];

/// `/meeting start|schedule|join|list|info|end`: for every member; who may host is decided
/// by the guild's role mapping, not by Discord permissions.
#[must_use]
pub fn meeting() -> CommandDefinition {
    let title = || CommandOption::string("title", "What the meeting is called").required().max_length(100);
    let kind = || CommandOption::string("kind", "Kind of meeting (default: Interactive Meeting Room)").choices(KINDS);
    let description = || CommandOption::string("description", "What the meeting is about").max_length(1000);
    CommandDefinition {
        kind: 1,
        name: "meeting".to_owned(),
        description: "Run Kaltura meetings without leaving Discord".to_owned(),
        options: vec![
            CommandOption::subcommand(
                "start",
                "Start a meeting now and post its Join button",
                vec![title(), kind(), description()],
            ),
            CommandOption::subcommand(
                "schedule",
                "Schedule a meeting (also creates a Discord event)",
                vec![
                    title(),
                    CommandOption::string(
                        "when",
                        "Start, in the server's time zone (UTC unless set with /kaltura setup): tomorrow 18:00, in 2h",
                    )
                    .required()
                    .autocomplete()
                    .max_length(64),
                    CommandOption::string("duration", "Length: 90, 90m or 1h30m (default 60 minutes)").max_length(16),
                    kind(),
                    description(),
                ],
            ),
            CommandOption::subcommand(
                "join",
                "Get your personal link into a meeting",
                vec![
                    CommandOption::string("meeting", "Meeting to join (default: the one live in this channel)")
                        .autocomplete(),
                ],
            ),
            CommandOption::subcommand(
                "list",
                "List this server's meetings",
                vec![CommandOption::string("status", "Which meetings (default: upcoming and live)").choices(&[
                    ("Upcoming and live", "active"),
                    ("Live now", "live"),
                    ("Ended", "ended"),
                    ("All", "all"),
                ])],
            ),
            CommandOption::subcommand("info", "Show a meeting's details", vec![meeting_option("Meeting to show")]),
            CommandOption::subcommand("end", "End a meeting for everyone", vec![meeting_option("Meeting to end")]),
        ],
        default_member_permissions: None,
        contexts: vec![0],
        integration_types: vec![0],
    }
}

/// Kinds of meeting news a server can mute, as `(label, kind)`.
const POST_KINDS: &[(&str, &str)] = &[
    ("Scheduled", "scheduled"),
    ("Rescheduled or renamed", "updated"),
    ("Starting soon (reminder)", "reminder"),
    ("Live now", "started"),
    ("Ended", "ended"),
    ("Cancelled", "cancelled"),
    ("Recording ready", "recording_ready"),
];

/// `/kaltura setup|roles|notifications|status|sync`: for server managers only.
#[must_use]
pub fn kaltura() -> CommandDefinition {
    CommandDefinition {
        kind: 1,
        name: "kaltura".to_owned(),
        description: "Connect this server to Kaltura and map roles".to_owned(),
        options: vec![
            CommandOption::subcommand(
                "setup",
                "Connect a Kaltura partner (opens a form for the secret)",
                vec![CommandOption::channel("notifications", "Where meeting news is posted", TEXT_CHANNELS)],
            ),
            CommandOption::group(
                "roles",
                "Map Discord roles to meeting roles",
                vec![
                    CommandOption::subcommand(
                        "map",
                        "Give members of a Discord role a meeting role",
                        vec![
                            CommandOption::role("role", "Discord role to map").required(),
                            CommandOption::string("kaltura_role", "Role in meetings").required().choices(MEETING_ROLES),
                            CommandOption::integer(
                                "priority",
                                "Higher wins when a member has several mapped roles (default 0)",
                            )
                            .range(-1000, 1000),
                        ],
                    ),
                    CommandOption::subcommand(
                        "unmap",
                        "Remove a Discord role's mapping",
                        vec![CommandOption::role("role", "Discord role to unmap").required()],
                    ),
                    CommandOption::subcommand("list", "Show the role mapping", Vec::new()),
                ],
            ),
            CommandOption::subcommand(
                "notifications",
                "Choose where meeting news is posted and who is pinged (no options: show the settings)",
                vec![
                    CommandOption::channel("channel", "Where meeting news is posted", TEXT_CHANNELS),
                    CommandOption::role("mention", "Role pinged when a meeting is scheduled, about to start or live"),
                    CommandOption::boolean("no_mention", "Stop pinging a role"),
                    CommandOption::integer(
                        "reminder_minutes",
                        "How many minutes before a scheduled meeting to post its reminder (0: default)",
                    )
                    .range(0, 10_080),
                    CommandOption::boolean("scheduled_events", "Show scheduled meetings as Discord events"),
                    CommandOption::string("mute", "Stop posting one kind of news").choices(POST_KINDS),
                    CommandOption::string("unmute", "Post one kind of news again").choices(POST_KINDS),
                ],
            ),
            CommandOption::subcommand("status", "Show the connection and service health", Vec::new()),
            CommandOption::subcommand(
                "sync",
                "Count members by meeting role and drop mappings of deleted roles",
                Vec::new(),
            ),
        ],
        default_member_permissions: Some(Permissions::MANAGE_GUILD.to_wire()),
        contexts: vec![0],
        integration_types: vec![0],
    }
}

/// Every command kalcord registers.
#[must_use]
pub fn all() -> Vec<CommandDefinition> {
    vec![meeting(), kaltura()]
}

/// Whether the reply to `command subcommand` is only for the invoking member, which also
/// decides whether a deferral is ephemeral.
#[must_use]
pub fn is_ephemeral(command: &str, subcommand: Option<&str>) -> bool {
    !matches!((command, subcommand), ("meeting", Some("start" | "schedule")))
}
