//! Who a request acts as, and the policy every service entry point applies before it reads or
//! changes anything: admins change, admins and auditors read the console, monitor tokens (and
//! the `/metrics` allow list) read only alerts, certificates and metrics.

use super::{CurrentUser, Role};
use crate::audit::store::event::Event;
use crate::Error;

/// Who a request acts as (kept with a job that acts for it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PrincipalKind {
    User {
        id: i64,
        username: String,
    },
    Token {
        id: i64,
        name: String,
    },
    /// Gatehouse itself (e.g. `demo`: registering the simulated demo fleet).
    System {
        what: String,
    },
    /// A gatehouse-proxy instance, by its token (role [`Role::Proxy`]).
    ProxyInstance {
        id: i64,
        name: String,
    },
}

impl Principal {
    /// The name the audit log records.
    pub fn actor(&self) -> String {
        match &self.kind {
            PrincipalKind::User { username, .. } => username.clone(),
            PrincipalKind::Token { name, .. } => format!("token:{name}"),
            PrincipalKind::System { what } => format!("system:{what}"),
            PrincipalKind::ProxyInstance { name, .. } => format!("proxy:{name}"),
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self.kind {
            PrincipalKind::User { id, .. } => Some(id),
            PrincipalKind::Token { .. }
            | PrincipalKind::System { .. }
            | PrincipalKind::ProxyInstance { .. } => None,
        }
    }

    /// The proxy instance this principal is, if it is one.
    pub fn proxy_instance(&self) -> Option<i64> {
        match self.kind {
            PrincipalKind::ProxyInstance { id, .. } if self.role == Role::Proxy => Some(id),
            _ => None,
        }
    }

    pub fn as_current_user(&self) -> Option<CurrentUser> {
        match &self.kind {
            PrincipalKind::User { id, username } => Some(CurrentUser {
                id: *id,
                username: username.clone(),
                role: self.role,
            }),
            PrincipalKind::Token { .. }
            | PrincipalKind::System { .. }
            | PrincipalKind::ProxyInstance { .. } => None,
        }
    }
}

/// The least a request's principal must be for an operation: the REST route list declares one
/// per route, and the services check theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// No principal at all (signing in and out).
    Anyone,
    /// A monitor token, or any signed-in user.
    Monitor,
    /// An admin or an auditor.
    Reader,
    /// An admin.
    Admin,
    /// A gatehouse-proxy instance's token (and nothing else).
    Proxy,
}

impl Need {
    pub const ALL: [Need; 5] = [
        Need::Anyone,
        Need::Monitor,
        Need::Reader,
        Need::Admin,
        Need::Proxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Need::Anyone => "anyone",
            Need::Monitor => "monitor",
            Need::Reader => "reader",
            Need::Admin => "admin",
            Need::Proxy => "proxy",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Need::ALL.into_iter().find(|need| need.as_str() == value)
    }
}

/// What the server's middleware learned about a request before any handler runs.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub principal: Option<Principal>,
    /// The client's address as seen on the socket.
    pub source: String,
}

impl RequestContext {
    pub fn require_signed_in(&self) -> Result<&Principal, Error> {
        self.principal
            .as_ref()
            .ok_or_else(|| super::Refused::SignInFirst.into())
    }

    /// Admins only: every change to the console's state.
    pub fn require_admin(&self) -> Result<&Principal, Error> {
        let principal = self.require_signed_in()?;
        if principal.role == Role::Proxy {
            return Err(super::Refused::ProxyOnly.into());
        }
        if principal.role == Role::Admin {
            Ok(principal)
        } else {
            Err(super::Refused::ReadOnly(principal.role).into())
        }
    }

    /// Admins and auditors: reading the console's data.
    pub fn require_reader(&self) -> Result<&Principal, Error> {
        let principal = self.require_signed_in()?;
        if principal.role == Role::Proxy {
            return Err(super::Refused::ProxyOnly.into());
        }
        if principal.role.can_read_console() {
            Ok(principal)
        } else {
            Err(super::Refused::MetricsOnly(principal.role).into())
        }
    }

    /// Who acts, as the audit log and the log name them (`-` for nobody).
    pub fn actor(&self) -> String {
        self.principal
            .as_ref()
            .map_or_else(|| "-".to_owned(), Principal::actor)
    }

    /// Whether this request's principal is at least `need`.
    pub fn require(&self, need: Need) -> Result<(), Error> {
        match need {
            Need::Anyone => Ok(()),
            Need::Monitor => self.require_monitor().map(drop),
            Need::Reader => self.require_reader().map(drop),
            Need::Admin => self.require_admin().map(drop),
            Need::Proxy => self.require_proxy_instance().map(drop),
        }
    }

    /// Admins, auditors and monitor tokens: alerts and metrics (not a proxy instance).
    pub fn require_monitor(&self) -> Result<&Principal, Error> {
        let principal = self
            .principal
            .as_ref()
            .ok_or(super::Refused::MonitorTokenNeeded)?;
        if principal.role == Role::Proxy {
            return Err(super::Refused::ProxyOnly.into());
        }
        Ok(principal)
    }

    /// A gatehouse-proxy instance's token: the instance's id.
    pub fn require_proxy_instance(&self) -> Result<i64, Error> {
        let principal = self
            .principal
            .as_ref()
            .ok_or(super::Refused::MonitorTokenNeeded)?;
        principal
            .proxy_instance()
            .ok_or_else(|| super::Refused::ProxyInstanceOnly.into())
    }

    /// A request from an address the operator lets read `/metrics` without a token: it acts as
    /// a monitor (and can do nothing a monitor token could not).
    pub fn allow_listed_monitor(source: &str) -> Self {
        Self::system("metrics-allow-list", Role::Monitor, source)
    }

    /// Gatehouse itself acting (the demo, the drift check), audited as `system:<what>`.
    pub fn system(what: &str, role: Role, source: &str) -> Self {
        Self {
            principal: Some(Principal {
                kind: PrincipalKind::System { what: what.into() },
                role,
            }),
            source: source.to_owned(),
        }
    }

    /// `fields` with this request's principal and source: a job's payload, so that the job acts
    /// (and is audited) as whoever asked for it ([`OnBehalf::context`]).
    pub fn on_behalf<T>(&self, fields: T) -> OnBehalf<T> {
        OnBehalf {
            fields,
            principal: self.principal.clone(),
            source: self.source.clone(),
        }
    }

    /// An audit event acted by this request's principal (or anonymously).
    pub fn event(&self, action: &str, target: impl Into<String>) -> Event {
        let (actor, role) = match &self.principal {
            Some(p) => (p.actor(), Some(p.role)),
            None => ("-".to_owned(), None),
        };
        Event::new(action, target).by(actor, role, &self.source)
    }
}

/// A job's payload (`fields`) with who asked for it: the job acts, and is audited, as them.
/// Stored flat: `{<fields>, "principal": ..., "source": ...}`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OnBehalf<T> {
    #[serde(flatten)]
    pub fields: T,
    #[serde(default)]
    principal: Option<Principal>,
    #[serde(default = "unknown_source")]
    source: String,
}

fn unknown_source() -> String {
    "-".into()
}

impl<T> OnBehalf<T> {
    /// The context the job acts in: whoever asked, from where.
    pub fn context(&self) -> RequestContext {
        RequestContext {
            principal: self.principal.clone(),
            source: self.source.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_role(role: Option<Role>) -> RequestContext {
        RequestContext {
            principal: role.map(|role| Principal {
                kind: PrincipalKind::Token {
                    id: 1,
                    name: "t".into(),
                },
                role,
            }),
            source: "192.0.2.1".into(),
        }
    }

    /// Which check each role passes: (admin, reader, monitor).
    fn passes(role: Option<Role>) -> (bool, bool, bool) {
        let context = as_role(role);
        (
            context.require_admin().is_ok(),
            context.require_reader().is_ok(),
            context.require_monitor().is_ok(),
        )
    }

    #[test]
    fn each_role_passes_exactly_its_checks() {
        assert_eq!(passes(Some(Role::Admin)), (true, true, true));
        assert_eq!(passes(Some(Role::Auditor)), (false, true, true));
        assert_eq!(passes(Some(Role::Monitor)), (false, false, true));
        assert_eq!(passes(None), (false, false, false));
    }

    #[test]
    fn require_applies_each_need_as_its_own_check() {
        for role in [
            None,
            Some(Role::Admin),
            Some(Role::Auditor),
            Some(Role::Monitor),
        ] {
            let context = as_role(role);
            let (admin, reader, monitor) = passes(role);
            assert!(context.require(Need::Anyone).is_ok());
            assert_eq!(context.require(Need::Monitor).is_ok(), monitor, "{role:?}");
            assert_eq!(context.require(Need::Reader).is_ok(), reader, "{role:?}");
            assert_eq!(context.require(Need::Admin).is_ok(), admin, "{role:?}");
        }
        for need in Need::ALL {
            assert_eq!(Need::parse(need.as_str()), Some(need));
        }
    }

    #[test]
    fn anonymous_is_unauthorized_and_a_weaker_role_forbidden() {
        assert!(matches!(
            as_role(None).require_monitor(),
            Err(Error::NotSignedIn(_))
        ));
        assert!(matches!(
            as_role(Some(Role::Monitor)).require_reader(),
            Err(Error::NotAllowed(_))
        ));
        assert!(matches!(
            as_role(Some(Role::Auditor)).require_admin(),
            Err(Error::NotAllowed(_))
        ));
    }

    #[test]
    fn the_metrics_allow_list_acts_as_a_monitor_only() {
        let context = RequestContext::allow_listed_monitor("10.1.2.3");
        assert!(context.require_monitor().is_ok());
        assert!(context.require_reader().is_err());
        assert_eq!(
            context.principal.map(|p| p.actor()).as_deref(),
            Some("system:metrics-allow-list")
        );
    }
}
