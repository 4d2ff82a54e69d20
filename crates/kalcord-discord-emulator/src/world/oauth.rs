//! OAuth2 state: authorization codes, access and refresh tokens, scopes.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::ids::random_token;

/// Access tokens live 7 days (`expires_in: 604800`).
pub(crate) const ACCESS_TOKEN_SECONDS: u64 = 604_800;
/// Authorization codes live 10 minutes.
const CODE_MS: u64 = 10 * 60 * 1000;

/// Scopes the emulator knows (others are `invalid_scope`).
pub(crate) const KNOWN_SCOPES: &[&str] = &[
    "activities.read",
    "activities.write",
    "applications.builds.read",
    "applications.commands",
    "applications.commands.permissions.update",
    "applications.commands.update",
    "applications.entitlements",
    "applications.store.update",
    "bot",
    "connections",
    "dm_channels.read",
    "email",
    "gdm.join",
    "guilds",
    "guilds.join",
    "guilds.members.read",
    "identify",
    "messages.read",
    "openid",
    "relationships.read",
    "role_connections.write",
    "rpc",
    "rpc.activities.write",
    "rpc.notifications.read",
    "rpc.voice.read",
    "rpc.voice.write",
    "voice",
    "webhook.incoming",
];

/// A pending authorization code.
#[derive(Clone, Debug)]
struct CodeGrant {
    user_id: u64,
    scopes: Vec<String>,
    redirect_uri: Option<String>,
    expires_ms: u64,
}

/// A live access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub authorization: u64,
    /// `None` for client credentials (the application itself).
    pub user_id: Option<u64>,
    pub scopes: Vec<String>,
    pub expires_ms: u64,
}

impl AccessToken {
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}

/// OAuth2 state of the world.
#[derive(Debug, Default)]
pub(crate) struct OAuth {
    codes: HashMap<String, CodeGrant>,
    tokens: HashMap<String, AccessToken>,
    refresh: HashMap<String, (u64, Option<u64>, Vec<String>)>,
    next_authorization: u64,
    /// The user the authorize page approves as.
    pub current_user: Option<u64>,
}

/// Splits a space (or `+`) separated scope list; unknown scopes are an error.
pub(crate) fn parse_scopes(text: &str) -> Result<Vec<String>, ApiError> {
    let scopes: Vec<String> = text.split([' ', '+']).filter(|scope| !scope.is_empty()).map(str::to_owned).collect();
    if scopes.iter().any(|scope| !KNOWN_SCOPES.contains(&scope.as_str())) {
        return Err(ApiError::oauth(
            400,
            "invalid_scope",
            Some("The requested scope is invalid, unknown, or malformed."),
        ));
    }
    Ok(scopes)
}

impl OAuth {
    /// A fresh authorization code for a user.
    pub(crate) fn issue_code(
        &mut self,
        user_id: u64,
        scopes: Vec<String>,
        redirect_uri: Option<String>,
        now: u64,
    ) -> String {
        let code = random_token(30);
        self.codes.insert(code.clone(), CodeGrant { user_id, scopes, redirect_uri, expires_ms: now + CODE_MS });
        code
    }

    /// `grant_type=authorization_code`.
    pub(crate) fn exchange_code(
        &mut self,
        code: &str,
        redirect_uri: Option<&str>,
        now: u64,
    ) -> Result<Value, ApiError> {
        let invalid = || ApiError::oauth(400, "invalid_grant", Some("Invalid \"code\" in request."));
        let grant = self.codes.remove(code).ok_or_else(invalid)?;
        if grant.expires_ms < now {
            return Err(invalid());
        }
        if let Some(expected) = &grant.redirect_uri
            && redirect_uri.is_some_and(|given| given != expected)
        {
            return Err(ApiError::oauth(400, "invalid_grant", Some("Invalid \"redirect_uri\" in request.")));
        }
        Ok(self.grant(Some(grant.user_id), grant.scopes, true, now))
    }

    /// `grant_type=refresh_token`: a new pair; the old access token dies.
    pub(crate) fn refresh(&mut self, refresh_token: &str, now: u64) -> Result<Value, ApiError> {
        let (authorization, user_id, scopes) = self
            .refresh
            .remove(refresh_token)
            .ok_or_else(|| ApiError::oauth(400, "invalid_grant", Some("Invalid \"refresh_token\" in request.")))?;
        self.tokens.retain(|_, token| token.authorization != authorization);
        Ok(self.issue(authorization, user_id, scopes, true, now))
    }

    /// Issues tokens for a new authorization (`refreshable`: with a refresh token).
    pub(crate) fn grant(&mut self, user_id: Option<u64>, scopes: Vec<String>, refreshable: bool, now: u64) -> Value {
        self.next_authorization += 1;
        let authorization = self.next_authorization;
        self.issue(authorization, user_id, scopes, refreshable, now)
    }

    fn issue(
        &mut self,
        authorization: u64,
        user_id: Option<u64>,
        scopes: Vec<String>,
        refreshable: bool,
        now: u64,
    ) -> Value {
        let access = random_token(30);
        let scope = scopes.join(" ");
        let token = AccessToken {
            authorization,
            user_id,
            scopes: scopes.clone(),
            expires_ms: now + ACCESS_TOKEN_SECONDS * 1000,
        };
        self.tokens.insert(access.clone(), token);
        let mut response =
            json!({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS, "scope": scope});
        if refreshable {
            let refresh = random_token(30);
            self.refresh.insert(refresh.clone(), (authorization, user_id, scopes));
            response["refresh_token"] = json!(refresh);
        }
        response
    }

    /// Revokes an access or refresh token and every token of its authorization.
    pub(crate) fn revoke(&mut self, token: &str) {
        let authorization = self
            .tokens
            .get(token)
            .map(|found| found.authorization)
            .or_else(|| self.refresh.get(token).map(|(authorization, _, _)| *authorization));
        if let Some(authorization) = authorization {
            self.tokens.retain(|_, found| found.authorization != authorization);
            self.refresh.retain(|_, (found, _, _)| *found != authorization);
        }
    }

    /// A live access token.
    pub(crate) fn bearer(&self, token: &str, now: u64) -> Option<&AccessToken> {
        self.tokens.get(token).filter(|found| found.expires_ms > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_refresh_revoke() {
        let mut oauth = OAuth::default();
        let code = oauth.issue_code(7, vec!["identify".to_owned()], Some("http://x/cb".to_owned()), 0);
        assert!(oauth.exchange_code(&code, Some("http://other"), 1).is_err());
        let code = oauth.issue_code(7, vec!["identify".to_owned()], None, 0);
        let tokens = oauth.exchange_code(&code, None, 1).expect("exchange");
        assert!(oauth.exchange_code(&code, None, 1).is_err(), "codes are single use");
        let access = tokens["access_token"].as_str().expect("access").to_owned();
        let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
        assert!(oauth.bearer(&access, 2).is_some());
        let renewed = oauth.refresh(&refresh, 3).expect("refresh");
        assert!(oauth.bearer(&access, 4).is_none());
        let access = renewed["access_token"].as_str().expect("access").to_owned();
        oauth.revoke(&access);
        assert!(oauth.bearer(&access, 5).is_none());
        assert!(parse_scopes("identify nope").is_err());
    }
}
