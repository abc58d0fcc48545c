//! Who is signed in, and what their role lets them do: roles, the current user, sign-in and
//! sign-out, the first-start setup and changing one's own password.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod credentials;
#[cfg(feature = "server")]
pub mod password;
#[cfg(feature = "server")]
pub mod principal;
#[cfg(feature = "server")]
pub mod session_store;
#[cfg(feature = "server")]
pub mod setup;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod throttle;

/// What a principal may do. Users are admins or auditors; `monitor` exists only for API tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum Role {
    /// Everything.
    Admin,
    /// Reads everything, including the audit log; changes nothing.
    Auditor,
    /// API tokens only: reads metrics and alerts.
    Monitor,
    /// A gatehouse-proxy instance's token: reads its own configuration and reports its state,
    /// nothing else. Never a user's or an API token's role (not in [`Role::ALL`]).
    Proxy,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Auditor, Role::Monitor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Monitor => "monitor",
            Role::Proxy => "proxy",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| format!("unknown role '{value}'; expected admin, auditor or monitor"))
    }

    /// Whether a person can sign in to the console with this role (monitor is for tokens).
    pub fn is_for_users(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether this role may read the console's data (users, settings, audit log).
    pub fn can_read_console(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in user as the pages see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Smallest password length accepted (NIST SP 800-63B asks for at least 8; we ask for more
/// because these accounts administer a whole contact center).
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted; bounds the work one sign-in attempt can cause.
pub const MAX_PASSWORD_LEN: usize = 256;

/// Checks a new password against the policy; the message says what to change.
/// Shared by the browser (live feedback) and the server (the decision).
pub fn check_new_password(username: &str, password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(format!(
            "use at least {MIN_PASSWORD_LEN} characters (this one has {length})"
        ));
    }
    if length > MAX_PASSWORD_LEN {
        return Err(format!("use at most {MAX_PASSWORD_LEN} characters"));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("the password must not contain the username".into());
    }
    Ok(())
}

/// Checks a username: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_username(username: &str) -> Result<(), String> {
    if username.is_empty() || username.chars().count() > 64 {
        return Err("use 1 to 64 characters".into());
    }
    if let Some(bad) = username
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(format!(
            "'{bad}' is not allowed; use letters, digits, '.', '_', '-' or '@'"
        ));
    }
    Ok(())
}

/// Where to go after signing in: a path of this console, as a browser resolves `next` (it
/// drops tabs and line breaks and reads `\\` as `/`, so `/\t/evil.example` is
/// `//evil.example`, another site). Anything that resolves to another origin, to a path that
/// starts with `//`, or to the API goes to `/`. What is returned is the parsed URL's own
/// serialisation: no control character reaches the `Location` header.
#[cfg(feature = "server")]
pub fn safe_next(next: Option<&str>) -> String {
    const BASE: &str = "http://console.invalid/";
    let (Some(next), Ok(base)) = (next, url::Url::parse(BASE)) else {
        return "/".to_owned();
    };
    if !next.starts_with('/') {
        return "/".to_owned();
    }
    match base.join(next) {
        Ok(target)
            if target.origin() == base.origin()
                && !target.path().starts_with("//")
                && !target.path().starts_with("/api/")
                && target.path() != "/api" =>
        {
            target[url::Position::BeforePath..].to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_password_is_refused_with_its_length() {
        let message = check_new_password("alice", "short").unwrap_err();
        assert!(message.contains("at least 12"), "{message}");
        assert!(message.contains("has 5"), "{message}");
    }

    #[test]
    fn a_password_containing_the_username_is_refused() {
        assert!(check_new_password("alice", "xxALICExx-long-enough").is_err());
        assert!(check_new_password("alice", "correct horse battery").is_ok());
    }

    #[test]
    fn usernames_allow_only_a_safe_alphabet() {
        assert!(check_username("ops.admin@site-1").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").unwrap_err().contains("' '"));
        assert!(check_username(&"x".repeat(65)).is_err());
    }

    #[test]
    #[cfg(feature = "server")]
    fn next_never_leaves_the_console() {
        assert_eq!(safe_next(Some("/audit?page=2")), "/audit?page=2");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/api/v1/users")), "/");
        assert_eq!(safe_next(Some("/api")), "/");
        assert_eq!(safe_next(None), "/");
        // Issue 24, item 5: what browsers make of them.
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/./\\evil.example",
            "/.//evil.example",
            "/%2e//evil.example",
            "\\\\evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
        ] {
            let to = safe_next(Some(hostile));
            assert!(
                to.starts_with('/') && !to.starts_with("//"),
                "{hostile:?} -> {to:?}"
            );
            assert!(!to.chars().any(char::is_control), "{hostile:?} -> {to:?}");
        }
        assert_eq!(safe_next(Some("/\n")), "/");
        assert_eq!(
            safe_next(Some("/nodes/3?tab=stores#top")),
            "/nodes/3?tab=stores#top"
        );
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        assert!(!Role::Monitor.is_for_users());
    }
}

/// What signing in, setting up and the role checks refuse, in their words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("sign in first")]
    SignInFirst,
    #[error("wrong username or password")]
    WrongPassword,
    #[error("this account is disabled; ask an administrator")]
    AccountDisabled,
    #[error("use 'Authorization: Bearer <token>'")]
    BearerOnly,
    #[error("the token is unknown, revoked or expired")]
    UnknownToken,
    #[error("send 'Authorization: Bearer <token>' with a monitor token")]
    MonitorTokenNeeded,
    #[error("the {0} role cannot change anything; ask an admin")]
    ReadOnly(Role),
    #[error("the {0} role can read only metrics and alerts")]
    MetricsOnly(Role),
    #[error("a proxy instance's token reads only its own configuration and reports its state")]
    ProxyOnly,
    #[error("only a proxy instance's token may call this")]
    ProxyInstanceOnly,
    #[error("API tokens have no password")]
    TokenHasNoPassword,
    #[error("setup is closed: an administrator already exists")]
    SetupClosed,
    #[error("this setup link is not valid; use the link printed on the server's console")]
    SetupLinkInvalid,
    #[error("an administrator already exists")]
    AdminExists,
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        use crate::Failure;
        match self {
            Refused::SignInFirst
            | Refused::WrongPassword
            | Refused::BearerOnly
            | Refused::UnknownToken
            | Refused::MonitorTokenNeeded => Failure::NotSignedIn,
            Refused::AccountDisabled
            | Refused::ReadOnly(_)
            | Refused::MetricsOnly(_)
            | Refused::ProxyOnly
            | Refused::ProxyInstanceOnly
            | Refused::TokenHasNoPassword
            | Refused::SetupClosed
            | Refused::SetupLinkInvalid => Failure::NotAllowed,
            Refused::AdminExists => Failure::Conflict,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
