//! `identity.role` and `identity.roles.*`: who may change mappings, the audit trail, and
//! that a change counts at once.

use kalcord_proto::subject;
use kalcord_proto::v1::{
    Actor, MeetingRole, RoleMapping, RoleMappingReply, RoleMappingRequest, RoleReply, RoleRequest,
};

use super::common::{ADMINISTRATOR, GUILD_A, GUILD_B, Harness, MANAGE_GUILD, audit_rows, db, member};

fn request(actor: &Actor, role_id: u64, role: MeetingRole, priority: i32) -> RoleMappingRequest {
    RoleMappingRequest {
        actor: Some(actor.clone()),
        mapping: Some(RoleMapping { discord_role_id: role_id, role: role.into(), priority }),
    }
}

async fn role_of(h: &Harness, actor: &Actor) -> (MeetingRole, String) {
    let reply: RoleReply = h.ask(subject::IDENTITY_ROLE, &RoleRequest { actor: Some(actor.clone()) }).await;
    assert_eq!(reply.error, None);
    (reply.role(), reply.reason)
}

#[tokio::test]
async fn mapping_needs_manage_server_and_is_audited() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let plain = member(GUILD_A, 10);
    let reply: RoleMappingReply = h.ask(subject::IDENTITY_ROLES_MAP, &request(&plain, 900, MeetingRole::Host, 1)).await;
    assert_eq!(reply.error.unwrap().code, "forbidden");
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_UNMAP, &request(&plain, 900, MeetingRole::Unspecified, 0)).await;
    assert_eq!(reply.error.unwrap().code, "forbidden");
    assert!(audit_rows(&h.store).await.is_empty());

    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 11) };
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_MAP, &request(&manager, 900, MeetingRole::Host, 2)).await;
    assert_eq!(reply.error, None);
    assert_eq!(reply.mappings, [RoleMapping { discord_role_id: 900, role: MeetingRole::Host.into(), priority: 2 }]);
    // Setting again replaces.
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_MAP, &request(&manager, 900, MeetingRole::Moderator, 3)).await;
    assert_eq!(
        reply.mappings,
        [RoleMapping { discord_role_id: 900, role: MeetingRole::Moderator.into(), priority: 3 }]
    );
    let admin = Actor { permissions: ADMINISTRATOR, ..member(GUILD_A, 12) };
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_MAP, &request(&admin, 901, MeetingRole::Attendee, 9)).await;
    assert_eq!(reply.mappings.len(), 2);
    assert_eq!(reply.mappings[0].discord_role_id, 901, "highest priority first");

    // Listing is open to members, and per guild.
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_LIST, &RoleMappingRequest { actor: Some(plain.clone()), mapping: None }).await;
    assert_eq!((reply.error, reply.mappings.len()), (None, 2));
    let reply: RoleMappingReply = h
        .ask(subject::IDENTITY_ROLES_LIST, &RoleMappingRequest { actor: Some(member(GUILD_B, 13)), mapping: None })
        .await;
    assert!(reply.mappings.is_empty());

    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_UNMAP, &request(&manager, 900, MeetingRole::Unspecified, 0)).await;
    assert_eq!(reply.error, None);
    assert_eq!(reply.mappings.len(), 1);
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_UNMAP, &request(&manager, 900, MeetingRole::Unspecified, 0)).await;
    assert_eq!(reply.error.unwrap().code, "not_found");

    let rows = audit_rows(&h.store).await;
    let summary: Vec<_> = rows.iter().map(|row| (row.action.as_str(), row.actor.as_str(), row.guild_id)).collect();
    assert_eq!(
        summary,
        [
            ("role_mapping.map", "discord:11", Some(db(GUILD_A))),
            ("role_mapping.map", "discord:11", Some(db(GUILD_A))),
            ("role_mapping.map", "discord:12", Some(db(GUILD_A))),
            ("role_mapping.unmap", "discord:11", Some(db(GUILD_A))),
        ]
    );
    assert_eq!(rows[1].details["role"], "moderator");
    kalcord_store::audit::verify_chain(h.store.connection()).await.unwrap();
    h.stop().await;
}

#[tokio::test]
async fn bad_mapping_requests_are_invalid() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 11) };
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_MAP, &request(&manager, 900, MeetingRole::Unspecified, 1)).await;
    assert_eq!(reply.error.unwrap().field, "role");
    let reply: RoleMappingReply = h.ask(subject::IDENTITY_ROLES_MAP, &request(&manager, 0, MeetingRole::Host, 1)).await;
    assert_eq!(reply.error.unwrap().field, "discord_role_id");
    let reply: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_MAP, &RoleMappingRequest { actor: Some(manager), mapping: None }).await;
    assert_eq!(reply.error.unwrap().field, "mapping");
    let reply: RoleMappingReply = h.ask_raw(subject::IDENTITY_ROLES_MAP, b"\x0a\xff".to_vec()).await;
    assert_eq!(reply.error.unwrap().code, "invalid");
    let reply: RoleReply = h.ask_raw(subject::IDENTITY_ROLE, b"garbage".to_vec()).await;
    assert_eq!(reply.error.unwrap().code, "invalid");
    h.stop().await;
}

#[tokio::test]
async fn roles_follow_mappings_and_permissions_at_once() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 11) };
    let someone = Actor { role_ids: vec![950], ..member(GUILD_A, 20) };
    assert_eq!(role_of(&h, &someone).await, (MeetingRole::Attendee, "default".into()));
    // Cached now; a map must invalidate it.
    let _: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_MAP, &request(&manager, 950, MeetingRole::Moderator, 1)).await;
    assert_eq!(role_of(&h, &someone).await, (MeetingRole::Moderator, "mapping:950".into()));
    let _: RoleMappingReply =
        h.ask(subject::IDENTITY_ROLES_UNMAP, &request(&manager, 950, MeetingRole::Unspecified, 0)).await;
    assert_eq!(role_of(&h, &someone).await, (MeetingRole::Attendee, "default".into()));

    let owner = Actor { is_owner: true, ..member(GUILD_A, 21) };
    assert_eq!(role_of(&h, &owner).await, (MeetingRole::Host, "owner".into()));
    let admin = Actor { permissions: ADMINISTRATOR, ..member(GUILD_A, 22) };
    assert_eq!(role_of(&h, &admin).await, (MeetingRole::Host, "administrator".into()));
    assert_eq!(
        role_of(&h, &manager).await,
        (MeetingRole::Attendee, "default".into()),
        "Manage Server alone is no host"
    );
    h.stop().await;
}
