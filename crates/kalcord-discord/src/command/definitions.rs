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
                    CommandOption::string("when", "Start time, e.g. 2026-12-01 15:00 or \"in 2 hours\"")
                        .required()
                        .autocomplete(),
                    CommandOption::integer("duration", "Length in minutes (default 60)").range(5, 1440),
                    kind(),
                    description(),
                ],
            ),
            CommandOption::subcommand(
                "join",
                "Get your personal link into a meeting",
                vec![meeting_option("Meeting to join")],
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

/// `/kaltura setup|roles|status|sync`: for server managers only.
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
            CommandOption::subcommand(
                "roles",
                "Map a Discord role to a meeting role, or list the mapping",
                vec![
                    CommandOption::role("role", "Discord role to map"),
                    CommandOption::string("meeting_role", "Role in meetings").choices(&[
                        ("Host", "host"),
                        ("Moderator", "moderator"),
                        ("Attendee", "attendee"),
                        ("Remove mapping", "none"),
                    ]),
                ],
            ),
            CommandOption::subcommand("status", "Show the connection and service health", Vec::new()),
            CommandOption::subcommand("sync", "Re-read members and roles from Discord", Vec::new()),
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
    !matches!((command, subcommand), ("meeting", Some("start" | "schedule" | "end")))
}
