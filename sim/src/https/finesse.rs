//! The Finesse REST subset a Finesse node's first listener answers (DOMAIN.md §5): Basic
//! authentication of the admin and the agents (five wrong passwords lock a user five minutes),
//! SystemInfo (with the proxy's names when asked through it), connected users, users and their
//! state changes.

use super::*;

pub(super) fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

pub(super) fn api_error(status: StatusCode, kind: &str, message: &str) -> Response {
    xml(
        status,
        format!("<ApiErrors><ApiError><ErrorType>{kind}</ErrorType><ErrorMessage>{message}</ErrorMessage></ApiError></ApiErrors>"),
    )
}

/// Who the request authenticates as.
#[derive(PartialEq, Eq)]
enum Caller {
    Admin,
    Agent(String),
}

impl Api {
    fn spec(&self) -> &NodeSpec {
        self.fleet.spec_of(self.node)
    }

    /// Basic authentication against the node's admin account and its agents; five wrong
    /// passwords for one user lock it for five minutes (401 meanwhile, as Finesse does).
    /// `None`: answer [`unauthorized`].
    fn authenticate(&self, headers: &HeaderMap) -> Option<Caller> {
        let (user, password) = basic(headers)?;
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, since)) = failures.get(&user) {
            if *count >= 5 && since.elapsed() < Duration::from_secs(300) {
                return None;
            }
        }
        let spec = self.spec();
        let caller = if user == spec.username && password == spec.password {
            Some(Caller::Admin)
        } else {
            spec.agents
                .iter()
                .find(|a| a.id == user && a.password == password)
                .map(|a| Caller::Agent(a.id.clone()))
        };
        match caller {
            Some(caller) => {
                failures.remove(&user);
                Some(caller)
            }
            None => {
                let entry = failures.entry(user).or_insert((0, Instant::now()));
                if entry.1.elapsed() >= Duration::from_secs(300) {
                    *entry = (0, Instant::now());
                }
                entry.0 += 1;
                entry.1 = Instant::now();
                None
            }
        }
    }
}

impl Api {
    fn state_of(&self, agent: &str) -> String {
        self.fleet
            .agent_state(self.node, agent)
            .unwrap_or_else(|| "NOT_READY".into())
    }

    /// 401 without valid credentials, 403 for an agent.
    #[allow(clippy::result_large_err)]
    fn admin_only(&self, headers: &HeaderMap, what: &str) -> Result<(), Response> {
        match self.authenticate(headers) {
            Some(Caller::Admin) => Ok(()),
            Some(Caller::Agent(_)) => Err(api_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("Only administrators may {what}"),
            )),
            None => Err(unauthorized()),
        }
    }
}

pub(super) fn unauthorized() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "Invalid credentials",
    )
}

pub(super) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The cluster's Finesse nodes as SystemInfo names them; through the proxy (the request's
/// Host is a right-hand side of the proxy map) the proxy's names.
pub(super) async fn system_info(State(api): State<Api>, headers: HeaderMap) -> Response {
    let secure = api
        .fleet
        .read(api.node, |s| s.properties.get("secureSystemInfo").cloned())
        .is_some_and(|v| v == "true");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let map = api.fleet.read(api.node, |s| s.proxy_map.clone());
    let via_proxy = map.iter().any(|line| {
        line.split_once('=').is_some_and(|(_, external)| {
            external == host || external.split(':').next() == Some(&host)
        })
    });
    if (secure || via_proxy) && api.authenticate(&headers).is_none() {
        return unauthorized();
    }
    let spec = api.spec();
    let peers: Vec<&NodeSpec> = api
        .fleet
        .spec
        .clusters
        .iter()
        .find(|c| c.nodes.iter().any(|n| n.fqdn == spec.fqdn))
        .map(|c| c.nodes.iter().filter(|n| n.is_finesse()).collect())
        .unwrap_or_default();
    let name_of = |fqdn: &str| -> (String, String) {
        if via_proxy {
            let internal = format!("{fqdn}:8445");
            if let Some((_, external)) = map
                .iter()
                .filter_map(|l| l.split_once('='))
                .find(|(i, _)| i.eq_ignore_ascii_case(&internal) || i.eq_ignore_ascii_case(fqdn))
            {
                let (h, p) = external.split_once(':').unwrap_or((external, "443"));
                return (h.to_owned(), p.to_owned());
            }
        }
        (fqdn.to_owned(), "8445".to_owned())
    };
    let node_xml = |tag: &str, node: Option<&&NodeSpec>| {
        node.map(|n| {
            let (host, port) = name_of(&n.fqdn);
            format!("<{tag}><host>{host}</host><httpsPort>{port}</httpsPort><xmppPort>5222</xmppPort><xmppSecurePort>5223</xmppSecurePort></{tag}>")
        })
        .unwrap_or_default()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let domain = spec
        .fqdn
        .split_once('.')
        .map(|(_, d)| d)
        .unwrap_or(&spec.fqdn);
    xml(
        StatusCode::OK,
        format!(
            "<SystemInfo><currentTimestamp>{now}</currentTimestamp><deploymentType>UCCE</deploymentType><status>IN_SERVICE</status><systemAuthMode>NON_SSO</systemAuthMode><xmppDomain>{fqdn}</xmppDomain><xmppPubSubDomain>pubsub.{fqdn}</xmppPubSubDomain>{primary}{secondary}<uri>/finesse/api/SystemInfo</uri><domain>{domain}</domain></SystemInfo>",
            fqdn = spec.fqdn,
            primary = node_xml("primaryNode", peers.first()),
            secondary = node_xml("secondaryNode", peers.get(1)),
        ),
    )
}

pub(super) async fn connected_users(State(api): State<Api>, headers: HeaderMap) -> Response {
    if let Err(denied) = api.admin_only(&headers, "read connected users") {
        return denied;
    }
    let u: Users = api.fleet.users(api.node);
    xml(
        StatusCode::OK,
        format!(
            "<ConnectedUsersInfo><userSummary><desktopUsers>{}</desktopUsers><fippaUsers>{}</fippaUsers><thirdPartyUsers>{}</thirdPartyUsers><totalConnectedUsers>{}</totalConnectedUsers><totalConnectedUsersViaProxy>{}</totalConnectedUsersViaProxy></userSummary><uri>/finesse/api/ConnectedUsersInfo</uri></ConnectedUsersInfo>",
            u.desktop, u.fippa, u.third_party, u.total(), u.proxy
        ),
    )
}

impl Api {
    /// An agent's `<User>` with its current state.
    fn agent_xml(&self, a: &crate::fleet::Agent) -> String {
        let (id, first, last) = (&a.id, &a.first_name, &a.last_name);
        let state = self.state_of(id);
        format!("<User><uri>/finesse/api/User/{id}</uri><loginId>{id}</loginId><loginName>{id}</loginName><firstName>{first}</firstName><lastName>{last}</lastName><roles><role>Agent</role></roles><state>{state}</state></User>")
    }
}

pub(super) async fn user(
    State(api): State<Api>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(caller) = api.authenticate(&headers) else {
        return unauthorized();
    };
    if let Caller::Agent(me) = &caller {
        if *me != id {
            return api_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Agents may read only their own user",
            );
        }
    }
    match api.spec().agents.iter().find(|a| a.id == id) {
        Some(a) => xml(StatusCode::OK, api.agent_xml(a)),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", "User not found"),
    }
}

/// `PUT /finesse/api/User/<id>` with `<User><state>READY</state></User>`: the agent's own
/// state change (202, as Finesse answers).
pub(super) async fn set_state(
    State(api): State<Api>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    match api.authenticate(&headers) {
        Some(Caller::Agent(me)) if me == id => {}
        Some(_) => {
            return api_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Agents may change only their own state",
            )
        }
        None => return unauthorized(),
    }
    let state = body
        .split_once("<state>")
        .and_then(|(_, rest)| rest.split_once("</state>"))
        .map(|(state, _)| state.trim().to_owned());
    match state {
        Some(state) if ["READY", "NOT_READY", "LOGOUT"].contains(&state.as_str()) => {
            api.fleet.set_agent_state(api.node, &id, &state);
            StatusCode::ACCEPTED.into_response()
        }
        _ => api_error(
            StatusCode::BAD_REQUEST,
            "Invalid Input",
            "state must be READY, NOT_READY or LOGOUT",
        ),
    }
}

pub(super) async fn users(State(api): State<Api>, headers: HeaderMap) -> Response {
    if let Err(denied) = api.admin_only(&headers, "list users") {
        return denied;
    }
    let body: String = api.spec().agents.iter().map(|a| api.agent_xml(a)).collect();
    xml(StatusCode::OK, format!("<Users>{body}</Users>"))
}
