//! `identity.role` and `identity.roles.map|unmap|list`.

use kalcord_proto::Message as _;
use kalcord_proto::v1::{Actor, Error, RoleMapping, RoleMappingReply, RoleMappingRequest, RoleReply, RoleRequest};
use kalcord_store::StoreError;
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_store::repo::role_mappings::{self, NewRoleMapping};
use sea_orm::{IntoActiveModel as _, Set};
use serde_json::json;

use crate::app::{App, audit_actor, can_manage, db_id, from_store_role, role_name, to_store_role};
use crate::reply;

/// Cache key of a guild's mappings.
pub(crate) fn mappings_key(guild_id: u64) -> String {
    format!("identity:mappings:{guild_id}")
}

impl App {
    /// The guild's mappings, highest priority first; cached for `identity.mappings_ttl`.
    pub(crate) async fn mappings(&self, guild_id: u64) -> Result<Vec<RoleMapping>, StoreError> {
        let key = mappings_key(guild_id);
        if let Some(bytes) = self.cache_get(&key).await
            && let Ok(cached) = RoleMappingReply::decode(bytes.as_ref())
        {
            return Ok(cached.mappings);
        }
        let Some(id) = db_id(guild_id) else { return Ok(Vec::new()) };
        let rows = role_mappings::list_for_guild(self.store.connection(), id).await?;
        let mappings: Vec<RoleMapping> = rows
            .into_iter()
            .filter_map(|row| {
                Some(RoleMapping {
                    discord_role_id: u64::try_from(row.discord_role_id).ok()?,
                    role: from_store_role(row.meeting_role).into(),
                    priority: row.priority,
                })
            })
            .collect();
        let encoded = RoleMappingReply { mappings: mappings.clone(), error: None }.encode_to_vec();
        self.cache_set(&key, encoded, self.config.mappings_ttl).await;
        Ok(mappings)
    }

    /// `identity.role`.
    pub(crate) async fn role(&self, payload: &[u8]) -> Vec<u8> {
        let fail = |error: Error| RoleReply { error: Some(error), ..RoleReply::default() }.encode_to_vec();
        let Ok(request) = RoleRequest::decode(payload) else { return fail(reply::unreadable()) };
        let Some(actor) = request.actor.filter(|actor| actor.guild_id != 0) else { return fail(reply::no_actor()) };
        match self.mappings(actor.guild_id).await {
            Ok(mappings) => {
                let (role, reason) = crate::role::resolve(&actor, &mappings);
                RoleReply { role: role.into(), reason, error: None }.encode_to_vec()
            }
            Err(err) => fail(reply::internal("cannot read role mappings", &err)),
        }
    }

    /// `identity.roles.list`: open to every member.
    pub(crate) async fn list_roles(&self, payload: &[u8]) -> Vec<u8> {
        let Ok(request) = RoleMappingRequest::decode(payload) else { return mapping_error(reply::unreadable()) };
        let Some(actor) = request.actor.filter(|actor| actor.guild_id != 0) else {
            return mapping_error(reply::no_actor());
        };
        self.mapping_reply(actor.guild_id, None).await
    }

    /// `identity.roles.map`: sets (creates or replaces) one Discord role's meeting role.
    pub(crate) async fn map_role(&self, payload: &[u8]) -> Vec<u8> {
        let (actor, mapping, guild, role_id) = match Self::mapping_request(payload) {
            Ok(parts) => parts,
            Err(error) => return mapping_error(error),
        };
        let Some(role) = to_store_role(mapping.role()) else {
            return mapping_error(reply::invalid("role", "Choose host, moderator or attendee."));
        };
        let new = NewRoleMapping {
            guild_id: guild,
            discord_role_id: role_id,
            meeting_role: role,
            priority: mapping.priority,
        };
        if let Err(err) = self.upsert_mapping(new).await {
            return mapping_error(reply::internal("cannot save a role mapping", &err));
        }
        let entry = NewAuditEntry::new(audit_actor(&actor), "role_mapping.map")
            .guild(guild)
            .target(format!("role:{role_id}"))
            .details(json!({ "discord_role_id": role_id.to_string(), "role": role_name(mapping.role()), "priority": mapping.priority }));
        self.finish_change(actor.guild_id, entry).await
    }

    /// `identity.roles.unmap`: removes one Discord role's mapping.
    pub(crate) async fn unmap_role(&self, payload: &[u8]) -> Vec<u8> {
        let (actor, _mapping, guild, role_id) = match Self::mapping_request(payload) {
            Ok(parts) => parts,
            Err(error) => return mapping_error(error),
        };
        match role_mappings::delete(self.store.connection(), guild, role_id).await {
            Ok(true) => {}
            Ok(false) => {
                let error = reply::error("not_found", "That role has no meeting role mapped.");
                return self.mapping_reply(actor.guild_id, Some(error)).await;
            }
            Err(err) => return mapping_error(reply::internal("cannot delete a role mapping", &err)),
        }
        let entry = NewAuditEntry::new(audit_actor(&actor), "role_mapping.unmap")
            .guild(guild)
            .target(format!("role:{role_id}"))
            .details(json!({ "discord_role_id": role_id.to_string() }));
        self.finish_change(actor.guild_id, entry).await
    }

    /// Decodes a map/unmap request and checks the actor may change mappings.
    fn mapping_request(payload: &[u8]) -> Result<(Actor, RoleMapping, i64, i64), Error> {
        let request = RoleMappingRequest::decode(payload).map_err(|_| reply::unreadable())?;
        let actor = request.actor.filter(|actor| actor.guild_id != 0).ok_or_else(reply::no_actor)?;
        let guild = db_id(actor.guild_id).ok_or_else(|| reply::invalid("actor", "The server id is not valid."))?;
        if !can_manage(&actor) {
            return Err(reply::error("forbidden", "You need the Manage Server permission to change role mappings."));
        }
        let mapping = request.mapping.ok_or_else(|| reply::invalid("mapping", "Say which role to map."))?;
        let role_id = db_id(mapping.discord_role_id)
            .ok_or_else(|| reply::invalid("discord_role_id", "Choose a Discord role."))?;
        Ok((actor, mapping, guild, role_id))
    }

    async fn upsert_mapping(&self, new: NewRoleMapping) -> Result<(), StoreError> {
        self.ensure_guild(new.guild_id).await?;
        let db = self.store.connection();
        // NOTE: two attempts: a concurrent map of the same role turns the insert into a conflict.
        for _ in 0..2 {
            let existing = role_mappings::list_for_guild(db, new.guild_id)
                .await?
                .into_iter()
                .find(|row| row.discord_role_id == new.discord_role_id);
            if let Some(row) = existing {
                let mut changes = row.into_active_model();
                changes.meeting_role = Set(new.meeting_role);
                changes.priority = Set(new.priority);
                role_mappings::update(db, changes).await?;
                return Ok(());
            }
            match role_mappings::create(db, new).await {
                Ok(_) => return Ok(()),
                Err(err) if err.is_conflict() => {}
                Err(err) => return Err(err),
            }
        }
        Err(StoreError::Conflict { message: "role mapping changed concurrently".to_owned() })
    }

    /// Audits a change, invalidates the cached mappings and answers the new list.
    async fn finish_change(&self, guild_id: u64, entry: NewAuditEntry) -> Vec<u8> {
        if let Err(err) = audit::append(self.store.connection(), entry).await {
            // NOTE: the change is made; a missing audit row is logged loudly rather than undone.
            tracing::error!(error = %kalcord_runtime::chain(&err), guild_id, "role mapping change not audited");
        }
        self.cache_delete(&mappings_key(guild_id)).await;
        self.mapping_reply(guild_id, None).await
    }

    async fn mapping_reply(&self, guild_id: u64, error: Option<Error>) -> Vec<u8> {
        match self.mappings(guild_id).await {
            Ok(mappings) => RoleMappingReply { mappings, error }.encode_to_vec(),
            Err(err) => mapping_error(reply::internal("cannot read role mappings", &err)),
        }
    }
}

fn mapping_error(error: Error) -> Vec<u8> {
    RoleMappingReply { mappings: Vec::new(), error: Some(error) }.encode_to_vec()
}
