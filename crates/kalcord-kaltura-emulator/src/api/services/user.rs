//! `user`: add, get, update, delete, list (§4).

use crate::api::dispatch::{Ctx, Outcome};
use crate::api::errors::ApiError;
use crate::api::list::{self, Filter, Pager};
use crate::api::object::{Input, Record};
use crate::api::schema::USER;
use crate::api::value::Val;
use crate::state::PartnerData;

/// `KalturaUserStatus::DELETED`.
const DELETED: i64 = 2;

/// `kuser::PUSER_ID_REGEXP`: 1 to 320 of ASCII letters, digits and ``,!#$%&'*+?^_`{|}~.@-``.
fn valid_user_id(id: &str) -> bool {
    (1..=320).contains(&id.len())
        && id.chars().all(|ch| ch.is_ascii_alphanumeric() || ",!#$%&'*+?^_`{|}~.@-".contains(ch))
}

fn invalid_id() -> ApiError {
    ApiError::new("INVALID_FIELD_VALUE", &["id"])
}

/// An existing, not deleted user, else `INVALID_USER_ID` (args `[]`).
fn active_user<'a>(partner: &'a PartnerData, id: &str) -> Result<&'a Record, ApiError> {
    partner
        .users
        .get(id)
        .filter(|user| user.int("status") != Some(DELETED))
        .ok_or_else(|| ApiError::new("INVALID_USER_ID", &[]))
}

/// `DUPLICATE_USER_BY_LOGIN_ID` when another login-enabled user has the same email.
fn check_login_email(partner: &PartnerData, record: &Record, own_id: &str) -> Result<(), ApiError> {
    if record.get("loginEnabled") != Some(&Val::Bool(true)) {
        return Ok(());
    }
    let Some(email) = record.str("email").filter(|email| !email.is_empty()) else {
        return Ok(());
    };
    let taken = partner.users.iter().any(|(id, user)| {
        id != own_id
            && user.int("status") != Some(DELETED)
            && user.get("loginEnabled") == Some(&Val::Bool(true))
            && user.str("email").is_some_and(|other| other.eq_ignore_ascii_case(email))
    });
    if taken { Err(ApiError::new("DUPLICATE_USER_BY_LOGIN_ID", &[email])) } else { Ok(()) }
}

/// `screenName` defaults to the id, `fullName` follows first and last names.
fn derive_names(record: &mut Record, input: &Input) {
    if record.str("screenName").is_none_or(str::is_empty)
        && let Some(id) = record.str("id").map(str::to_owned)
    {
        record.set("screenName", Val::Str(id));
    }
    let names_given = input.get("firstName").is_some() || input.get("lastName").is_some();
    if input.get("fullName").is_none() && names_given {
        let first = record.str("firstName").unwrap_or_default();
        let last = record.str("lastName").unwrap_or_default();
        record.set("fullName", Val::Str(format!("{first} {last}").trim().to_owned()));
    }
}

/// `user.add(user)`.
pub(crate) fn add(ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.req_object("user", &USER)?;
    let id = input.str("id").unwrap_or_default().to_owned();
    if !valid_user_id(&id) {
        return Err(invalid_id());
    }
    input.validate_insert()?;
    ctx.with_partner(|partner| {
        if partner.users.get(&id).is_some_and(|user| user.int("status") != Some(DELETED)) {
            return Err(ApiError::new("DUPLICATE_USER_BY_ID", &[&id]));
        }
        let mut record = Record::new(&USER, ctx.inner.next_seq());
        for (name, value) in [
            ("type", Val::Int(0)),
            ("isAdmin", Val::Bool(false)),
            ("roleIds", Val::Str(String::new())),
            ("roleNames", Val::Str(String::new())),
            ("loginEnabled", Val::Bool(false)),
            ("partnerId", Val::Int(partner.config.id)),
            ("tags", Val::Str(String::new())),
            ("status", Val::Int(1)),
            ("createdAt", Val::Int(ctx.now)),
            ("updatedAt", Val::Int(ctx.now)),
        ] {
            record.set(name, value);
        }
        input.apply(&mut record);
        record.set("password", Val::Null);
        derive_names(&mut record, &input);
        check_login_email(partner, &record, &id)?;
        partner.users.insert(id, record.clone());
        Ok(record.to_val())
    })
}

/// `user.get(userId)`: empty means the KS user; a USER KS may only read itself.
pub(crate) fn get(ctx: &Ctx<'_>) -> Outcome {
    let requested = ctx.opt_str("userId").unwrap_or_default();
    let user_id = if requested.is_empty() { ctx.caller.user_id().to_owned() } else { requested };
    if !ctx.caller.is_admin() && ctx.caller.user_id() != user_id {
        return Err(ApiError::new("CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION", &[&user_id]));
    }
    ctx.with_partner(|partner| active_user(partner, &user_id).map(Record::to_val))
}

/// `user.update(userId, user)`.
pub(crate) fn update(ctx: &Ctx<'_>) -> Outcome {
    let user_id = ctx.req_str("userId")?;
    let input = ctx.req_object("user", &USER)?;
    ctx.with_partner(|partner| {
        let mut record = active_user(partner, &user_id)?.clone();
        input.validate_update(&record)?;
        if let Some(new_id) = input.str("id").filter(|new_id| *new_id != user_id) {
            if !valid_user_id(new_id) {
                return Err(invalid_id());
            }
            if partner.users.get(new_id).is_some_and(|user| user.int("status") != Some(DELETED)) {
                return Err(ApiError::new("DUPLICATE_USER_BY_ID", &[new_id]));
            }
        }
        input.apply(&mut record);
        record.set("password", Val::Null);
        record.set("updatedAt", Val::Int(ctx.now));
        derive_names(&mut record, &input);
        let new_id = record.str("id").unwrap_or(&user_id).to_owned();
        check_login_email(partner, &record, &user_id)?;
        partner.users.remove(&user_id);
        partner.users.insert(new_id, record.clone());
        Ok(record.to_val())
    })
}

/// `user.delete(userId)` → the user, now `status=2`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Outcome {
    let user_id = ctx.req_str("userId")?;
    ctx.with_partner(|partner| {
        active_user(partner, &user_id)?;
        let record = partner.users.get_mut(&user_id).ok_or_else(|| ApiError::new("INVALID_USER_ID", &[]))?;
        for name in ["updatedAt", "statusUpdatedAt", "deletedAt"] {
            record.set(name, Val::Int(ctx.now));
        }
        record.set("status", Val::Int(DELETED));
        Ok(record.to_val())
    })
}

/// `user.list(filter, pager)` → `KalturaUserListResponse`; deleted users only when asked for.
pub(crate) fn list(ctx: &Ctx<'_>) -> Outcome {
    let filter = Filter::read(ctx.params);
    let pager = Pager::read(ctx.params);
    let id_in = filter.csv("idIn");
    let status_in = filter.int_csv("statusIn");
    let status_given = filter.int("statusEqual").is_some() || status_in.is_some();
    let flag = |name: &str| filter.int(name).and_then(|value| [0, 1].contains(&value).then_some(Val::Bool(value == 1)));
    let (is_admin, login_enabled) = (flag("isAdminEqual"), flag("loginEnabledEqual"));
    let starts = |record: &Record, prop: &str, name: &str| {
        filter.str(name).is_none_or(|prefix| {
            record.str(prop).is_some_and(|value| value.to_lowercase().starts_with(&prefix.to_lowercase()))
        })
    };
    ctx.with_partner(|partner| {
        let mut users: Vec<&Record> = partner
            .users
            .values()
            .filter(|user| status_given || user.int("status") != Some(DELETED))
            .filter(|user| {
                list::eq_str(user, "id", filter.str("idEqual")) && list::in_str(user, "id", id_in.as_deref())
            })
            .filter(|user| list::eq_int(user, "status", filter.int("statusEqual")))
            .filter(|user| list::in_int(user, "status", status_in.as_deref()))
            .filter(|user| list::eq_int(user, "type", filter.int("typeEqual")))
            .filter(|user| is_admin.as_ref().is_none_or(|flag| user.get("isAdmin") == Some(flag)))
            .filter(|user| login_enabled.as_ref().is_none_or(|flag| user.get("loginEnabled") == Some(flag)))
            .filter(|user| list::like(user, "email", filter.str("emailLike")))
            .filter(|user| list::like(user, "screenName", filter.str("screenNameLike")))
            .filter(|user| {
                starts(user, "firstName", "firstNameStartsWith") && starts(user, "lastName", "lastNameStartsWith")
            })
            .collect();
        list::sort(&mut users, filter.order_by(), "+createdAt");
        Ok(list::response("KalturaUserListResponse", users, pager))
    })
}

#[cfg(test)]
mod tests {
    use super::valid_user_id;

    #[test]
    fn user_id_rule() {
        assert!(valid_user_id("discord-123"));
        assert!(valid_user_id("jane.doe@example.com"));
        assert!(valid_user_id("a{b}|c~`^"));
        assert!(!valid_user_id("discord:123"));
        assert!(!valid_user_id("with space"));
        assert!(!valid_user_id("semi;colon"));
        assert!(!valid_user_id(""));
        assert!(!valid_user_id(&"x".repeat(321)));
        assert!(!valid_user_id("é"));
    }
}
