//! Cache keys of what the services remember about Discord guilds and members, shared with the
//! identity service, which invalidates them when gateway events say something changed.
//!
//! Member entries carry the guild's *generation*: a counter in the cache (missing = 0) that a
//! role change in the guild bumps. Bumping it makes every member entry of the guild unreachable
//! at once (they expire on their own), so a role's new permissions count from the next lookup
//! without listing or deleting the guild's members one by one.

use std::time::Duration;

use kalcord_cache::{Cache, CacheError};

/// How long a guild's generation counter lives after its first bump.
///
/// NOTE: an expired counter reads 0 again. Member entries live minutes (hours at most), far
/// less than this, so an entry written under an old generation is gone long before the
/// counter could come back to that number.
pub const GENERATION_TTL: Duration = Duration::from_hours(30 * 24);

/// Key of a guild's generation counter: `discord:guild-gen:{guild}`.
#[must_use]
pub fn guild_generation(guild_id: u64) -> String {
    format!("discord:guild-gen:{guild_id}")
}

/// Key of the api-gateway's cached member (roles, permissions, names) under `generation`:
/// `api-gateway:member:{guild}:{generation}:{user}`.
#[must_use]
pub fn api_gateway_member(guild_id: u64, generation: u64, user_id: u64) -> String {
    format!("api-gateway:member:{guild_id}:{generation}:{user_id}")
}

/// Key of the interactions service's cached `GET guilds/{id}` (owner and role permissions):
/// `interactions:guild-facts:{guild}`.
#[must_use]
pub fn interactions_guild(guild_id: u64) -> String {
    format!("interactions:guild-facts:{guild_id}")
}

/// The guild's current generation (0 when it was never bumped).
///
/// # Errors
///
/// When the cache cannot be read; callers then skip the member cache rather than risk a stale
/// entry.
pub async fn generation(cache: &dyn Cache, guild_id: u64) -> Result<u64, CacheError> {
    let value = cache.get(&guild_generation(guild_id)).await?;
    // NOTE: counters read back as decimal text; anything else is treated as never bumped.
    Ok(value.and_then(|bytes| std::str::from_utf8(&bytes).ok()?.trim().parse().ok()).unwrap_or(0))
}

/// Moves the guild to a new generation: every cached member of the guild is read again.
/// Returns the new generation.
///
/// # Errors
///
/// When the cache cannot be written.
pub async fn bump_generation(cache: &dyn Cache, guild_id: u64) -> Result<u64, CacheError> {
    cache.increment(&guild_generation(guild_id), GENERATION_TTL).await
}

/// Key of the api-gateway's cached member under the guild's current generation.
///
/// # Errors
///
/// When the generation cannot be read.
pub async fn current_api_gateway_member(cache: &dyn Cache, guild_id: u64, user_id: u64) -> Result<String, CacheError> {
    Ok(api_gateway_member(guild_id, generation(cache, guild_id).await?, user_id))
}

#[cfg(test)]
mod tests {
    use kalcord_cache::MemoryCache;

    use super::*;

    #[test]
    fn keys_are_stable() {
        assert_eq!(guild_generation(7), "discord:guild-gen:7");
        assert_eq!(api_gateway_member(7, 2, 9), "api-gateway:member:7:2:9");
        assert_eq!(interactions_guild(7), "interactions:guild-facts:7");
    }

    #[tokio::test]
    async fn a_bump_moves_every_member_key() {
        let cache = MemoryCache::new("test", 100);
        assert_eq!(generation(&cache, 7).await.unwrap(), 0);
        let before = current_api_gateway_member(&cache, 7, 9).await.unwrap();
        assert_eq!(bump_generation(&cache, 7).await.unwrap(), 1);
        assert_eq!(generation(&cache, 7).await.unwrap(), 1);
        let after = current_api_gateway_member(&cache, 7, 9).await.unwrap();
        assert_ne!(before, after);
        assert_eq!(generation(&cache, 8).await.unwrap(), 0, "other guilds keep theirs");
    }
}
