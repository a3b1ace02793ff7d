//! Who is calling: the session behind a cookie or Bearer token, the client's address, and the
//! cross-site request forgery check for browsers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use super::{ApiError, AppState};
use crate::auth::bots::Scopes;
use crate::store::users::ClientInfo;
use crate::store::{Session, User};

pub const COOKIE: &str = "outpost_session";

/// The signed-in user and the session they used. Extracting it enforces authentication and, for
/// cookie-authenticated state changes, the same-origin check.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
    /// Set when a bot's API token made the request: what it may do. `user.is_admin` is
    /// already false here unless the token has the `admin` scope.
    pub scopes: Option<Scopes>,
}

impl CurrentUser {
    /// False for a token that may only read.
    pub fn may_write(&self) -> bool {
        self.scopes.is_none_or(|s| s.write)
    }
}

/// Extracting this rejects non-admins with 403.
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, from_cookie) = match bearer(&parts.headers) {
            Some(t) => (t, false),
            None => (
                cookie(&parts.headers).ok_or_else(ApiError::unauthorized)?,
                true,
            ),
        };
        if from_cookie && !is_safe(&parts.method) {
            check_same_origin(&parts.headers)?;
        }
        let (session, mut user, scopes) = state
            .auth
            .authenticate(&token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if let Some(s) = scopes {
            if !s.write && !is_safe(&parts.method) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient-scope",
                    "this token may only read",
                ));
            }
            user.is_admin = user.is_admin && s.admin;
        }
        if state.auth.two_factor_due(&user) && !enrolment_path(&parts.method, parts.uri.path()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "two-factor-enrolment-required",
                "set up two-step sign-in first: the administrator requires it",
            ));
        }
        Ok(CurrentUser {
            user,
            session,
            scopes,
        })
    }
}

/// What a session may still do while its user owes the policy a second factor: read who it
/// is, enrol, and sign out.
fn enrolment_path(method: &Method, path: &str) -> bool {
    (method == Method::GET && path == "/api/v1/me")
        || path == "/api/v1/me/two-factor"
        || path.starts_with("/api/v1/me/two-factor/")
        || path == "/api/v1/auth/logout"
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = CurrentUser::from_request_parts(parts, state).await?;
        if !who.user.is_admin {
            return Err(ApiError::forbidden("only administrators may do this"));
        }
        Ok(Admin(who))
    }
}

/// The client's user agent and address, recorded with new sessions.
#[derive(Debug, Clone)]
pub struct Client {
    pub info: ClientInfo,
    pub addr: Option<SocketAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(256)
            .collect();
        if !is_safe(&parts.method) {
            check_same_origin(&parts.headers)?;
        }
        Ok(Client {
            info: ClientInfo {
                user_agent,
                address: addr.map(|a| a.ip().to_string()).unwrap_or_default(),
            },
            addr,
        })
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Browsers send `Origin` (and `Sec-Fetch-Site`) with every state-changing request; a request
/// from another site is refused. Clients that send neither are not browsers and cannot be
/// forged into sending our cookie.
fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin = origin.to_ascii_lowercase();
        let authority = origin.strip_prefix("https://");
        return match (authority, host) {
            (Some(a), Some(h)) if a == h => Ok(()),
            // HTTP/2 requests carry the authority in the URI, not a Host header: fall back on
            // the browser's own verdict.
            (Some(_), None) if fetch_site_ok(headers) => Ok(()),
            _ => Err(ApiError::forbidden("cross-site request refused")),
        };
    }
    if fetch_site_ok(headers) {
        Ok(())
    } else {
        Err(ApiError::forbidden("cross-site request refused"))
    }
}

fn fetch_site_ok(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v == "same-origin" || v == "none",
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

pub fn session_cookie(token: &str, max_age_secs: u64) -> HeaderValue {
    let value =
        format!("{COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age_secs}");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("outpost_session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        assert!(check_same_origin(&headers(&[
            ("host", "box.local:8443"),
            ("origin", "https://box.local:8443")
        ]))
        .is_ok());
        assert!(check_same_origin(&headers(&[
            ("host", "box.local:8443"),
            ("origin", "https://evil.example")
        ]))
        .is_err());
        assert!(check_same_origin(&headers(&[
            ("host", "box.local:8443"),
            ("origin", "http://box.local:8443")
        ]))
        .is_err());
        assert!(check_same_origin(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(check_same_origin(&headers(&[])).is_ok());
    }

    #[test]
    fn cookie_and_bearer_parsing() {
        let h = headers(&[("cookie", "a=1; outpost_session=tok; b=2")]);
        assert_eq!(cookie(&h).as_deref(), Some("tok"));
        let h = headers(&[("authorization", "Bearer abc")]);
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
    }
}
