//! The plan that brings a BroadWorks node to seed 003's checklist: the desired state computed
//! from what was read (every list only added to), made a plan of the reconciliation engine
//! (read again, shown, confirmed, applied, verified like every other).

use super::items::{
    pair, ALLOW_CLIENT_APP, CIPHERS, CLIENT_AUTH, CLIENT_IDENTITY, DRIVEN, INTERFACE, PROTOCOLS,
    TRUSTS,
};
use super::store::{anchors, node, read, Refused, SUBJECT};
use super::{checklist, recommended, CtiRead, CTI_PORT, WEBEX_CLIENT};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::reconcile::drive::Drive;
use crate::reconcile::store::PlanNode;
use crate::reconcile::subject::Subject;
use crate::reconcile::{About, State, States, Trusted};
use crate::{Error, Services};

/// The suites a plan adds when the interface lists suites but none recommended (with none
/// listed, the system's default list applies, which has them).
const ADDED_SUITES: [&str; 2] = [
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
];

fn add(list: &mut Vec<String>, entry: String) {
    if !list.iter().any(|e| e.eq_ignore_ascii_case(&entry)) {
        list.push(entry);
    }
}

/// What the node should hold: what it holds, plus what the checklist misses (`address`: where
/// a CTI interface is added when it has none; `anchors`: the Webex CA chain's certificates).
pub fn desired(read: &CtiRead, address: &str, anchors: &[Trusted]) -> Result<States, Refused> {
    let mut want = States::new();
    if let Some(identities) = &read.client_identities {
        let mut list = identities.clone();
        add(&mut list, WEBEX_CLIENT.into());
        want.insert(CLIENT_IDENTITY.into(), State::List(list));
        return Ok(want);
    }
    let chosen = read
        .interfaces
        .iter()
        .find(|i| i.port == CTI_PORT)
        .or(read.interfaces.first());
    let mut interfaces: Vec<String> = read
        .interfaces
        .iter()
        .map(|i| pair(&i.ip, &i.port.to_string()))
        .collect();
    let ip = match chosen {
        Some(interface) => interface.ip.clone(),
        None => {
            let ip: std::net::IpAddr = address
                .parse()
                .map_err(|_| Refused::NoInterfaceAddress(address.to_owned()))?;
            interfaces.push(pair(&ip.to_string(), &CTI_PORT.to_string()));
            ip.to_string()
        }
    };
    want.insert(INTERFACE.into(), State::List(interfaces));
    let mut required: Vec<String> = read
        .interfaces
        .iter()
        .filter(|i| i.client_auth_required)
        .map(|i| i.ip.clone())
        .collect();
    add(&mut required, ip.clone());
    want.insert(CLIENT_AUTH.into(), State::List(required));
    let pairs = |of: &[(String, String)]| -> Vec<String> {
        of.iter().map(|(at, value)| pair(at, value)).collect()
    };
    let mut protocols = pairs(&read.protocols);
    add(&mut protocols, pair(&ip, "TLSv1.2"));
    want.insert(PROTOCOLS.into(), State::List(protocols));
    let mut ciphers = pairs(&read.ciphers);
    let set: Vec<&String> = read
        .ciphers
        .iter()
        .filter(|(at, _)| *at == ip)
        .map(|(_, suite)| suite)
        .collect();
    if !set.is_empty() && !set.iter().any(|s| recommended(s)) {
        for suite in ADDED_SUITES {
            add(&mut ciphers, pair(&ip, suite));
        }
    }
    want.insert(CIPHERS.into(), State::List(ciphers));
    // Only the anchors to add: a certificate item never removes, and one the node lists already
    // (by its alias) plans nothing.
    let new: Vec<Trusted> = anchors
        .iter()
        .filter(|a| !read.trusts.iter().any(|t| t.alias == a.label))
        .cloned()
        .collect();
    if !new.is_empty() {
        want.insert(TRUSTS.into(), State::Certificates(new));
    }
    want.insert(ALLOW_CLIENT_APP.into(), State::Setting("true".into()));
    Ok(want)
}

/// Plans the node's missing checklist steps (`chain`: the Webex CA chain file's text, for the
/// trust anchors; without it they are left as they are). Returns the plan's id.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn plan(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
    chain: Option<&str>,
) -> Result<i64, Error> {
    context.require_admin()?;
    let node = node(services, context, node_id).await?;
    let anchors = match chain {
        Some(text) if !text.trim().is_empty() => anchors(text)?,
        _ => Vec::new(),
    };
    let read = read(services, context, node_id)
        .await?
        .map_err(Refused::Unread)?;
    let missing = checklist(&read).iter().filter(|s| !s.done).count();
    let new_anchors = anchors
        .iter()
        .filter(|a| !read.trusts.iter().any(|t| t.alias == a.label))
        .count();
    if missing == 0 && new_anchors == 0 {
        return Err(Refused::NothingToDo.into());
    }
    let desired = desired(&read, &node.address, &anchors)?;
    let mut tx = services.pool.begin().await?;
    let id = crate::reconcile::store::create(
        &mut tx,
        context,
        &CtiChecklist,
        node_id,
        0,
        &[PlanNode { node_id, desired }],
    )
    .await?;
    record(
        &mut tx,
        context
            .event("plan.create", format!("node:{}", node.fqdn))
            .detail(format!(
                "plan {id} of the CTI checklist of {}: {missing} steps missing, {new_anchors} trust anchors to add",
                node.fqdn
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A node's CTI checklist as a subject of the reconciliation engine: not a standing desired
/// state (the checklist page shows what is left).
pub struct CtiChecklist;

impl Subject for CtiChecklist {
    fn name(&self) -> &'static str {
        SUBJECT
    }

    fn items(&self) -> &'static [&'static dyn Drive] {
        &DRIVEN
    }

    fn about(&self, id: i64, _cluster: Option<i64>) -> About {
        About {
            of: "the CTI checklist".into(),
            href: format!("/nodes/{id}/cti"),
            link: "The node's CTI checklist".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cti::store::alias;
    use crate::cti::CtiInterface;

    fn interface(ip: &str, client_auth: bool) -> CtiInterface {
        CtiInterface {
            ip: ip.into(),
            port: CTI_PORT,
            secure: true,
            server_certificate: true,
            client_auth_required: client_auth,
        }
    }

    #[test]
    fn the_desired_state_only_adds_to_what_the_node_holds() {
        let read = CtiRead {
            interfaces: vec![interface("10.0.0.5", false), interface("10.0.0.6", true)],
            protocols: vec![("10.0.0.5".into(), "TLSv1.1".into())],
            ciphers: vec![(
                "10.0.0.5".into(),
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256".into(),
            )],
            allow_client_app: Some(false),
            ..CtiRead::default()
        };
        let anchor = Trusted {
            label: "webex-root-0123abcd".into(),
            der: vec![0x30, 1, 2],
        };
        let want = desired(&read, "192.0.2.1", std::slice::from_ref(&anchor)).unwrap();
        let list = |key: &str| match &want[key] {
            State::List(entries) => entries.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            list(INTERFACE),
            ["10.0.0.5 8012", "10.0.0.6 8012"],
            "no interface added"
        );
        assert_eq!(list(CLIENT_AUTH), ["10.0.0.6", "10.0.0.5"]);
        assert_eq!(list(PROTOCOLS), ["10.0.0.5 TLSv1.1", "10.0.0.5 TLSv1.2"]);
        assert_eq!(
            list(CIPHERS).len(),
            3,
            "two recommended suites added beside CBC"
        );
        assert_eq!(want[TRUSTS], State::Certificates(vec![anchor]));
        assert_eq!(want[ALLOW_CLIENT_APP], State::Setting("true".into()));

        // No interface yet: one on the node's address, or a refusal when that is a name.
        let bare = CtiRead::default();
        let want = desired(&bare, "192.0.2.1", &[]).unwrap();
        assert_eq!(want[INTERFACE], State::List(vec!["192.0.2.1 8012".into()]));
        assert!(!want.contains_key(TRUSTS), "no chain, anchors left alone");
        assert_eq!(
            want[CIPHERS],
            State::List(vec![]),
            "the system's list applies"
        );
        assert!(matches!(
            desired(&bare, "xsp.example.com", &[]),
            Err(Refused::NoInterfaceAddress(_))
        ));

        let server = CtiRead {
            client_identities: Some(vec!["other.example.com".into()]),
            ..CtiRead::default()
        };
        let want = desired(&server, "192.0.2.1", &[]).unwrap();
        assert_eq!(want.len(), 1);
        assert_eq!(
            want[CLIENT_IDENTITY],
            State::List(vec!["other.example.com".into(), WEBEX_CLIENT.into()])
        );
    }

    #[test]
    fn an_alias_is_one_word_from_the_name_and_the_fingerprint() {
        assert_eq!(
            alias(Some("Internal Private Root"), "AB12CD34EF5601234567"),
            "internal-private-root-ab12cd34ef560123"
        );
        assert_eq!(
            alias(Some("  ;rm -rf /  "), "00ff00ff11223344556677"),
            "rm-rf-00ff00ff11223344"
        );
        assert_eq!(alias(None, "0123456789abcdef01"), "anchor-0123456789abcdef");
        assert_eq!(
            alias(Some("***"), "0123456789abcdef01"),
            "anchor-0123456789abcdef"
        );
        let long = alias(Some(&"x".repeat(200)), "0123456789abcdef01");
        assert!(long.len() <= 64);
        assert!(vos::driver::cti::check_alias(&long).is_ok());
    }
}
