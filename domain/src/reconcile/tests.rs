//! The planner on tables of observed and desired states, with the access policy's items.

use super::*;
use crate::access_policy::items::{
    ALLOWED_HOSTS, CLIENT_AUTH, CORS_MODE, CORS_ORIGINS, FRAME_ANCESTORS, ITEMS,
};
use crate::inventory::model::NodeKind;

fn list(values: &[&str]) -> State {
    State::List(values.iter().map(|v| v.to_string()).collect())
}

fn setting(value: &str) -> State {
    State::Setting(value.into())
}

fn states(entries: &[(&str, State)]) -> States {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn commands(plan: &NodePlan) -> Vec<String> {
    plan.steps.iter().map(|s| s.command.to_string()).collect()
}

fn plan_node(items: &[&dyn Item], kind: NodeKind, observed: &States, desired: &States) -> NodePlan {
    super::plan_node(items, kind, observed, desired).unwrap()
}

#[test]
fn a_node_already_as_desired_needs_nothing_and_no_restart() {
    let both = states(&[(ALLOWED_HOSTS, list(&["proxy.xyz.com", "10.78.95.178"]))]);
    let plan = plan_node(&ITEMS, NodeKind::Cuic, &both, &both);
    assert!(plan.is_empty());
    assert!(plan.restarts.is_empty());
}

#[test]
fn entries_that_differ_only_in_case_are_the_same_entry() {
    let observed = states(&[(ALLOWED_HOSTS, list(&["Proxy.XYZ.com"]))]);
    let desired = states(&[(ALLOWED_HOSTS, list(&["proxy.xyz.com"]))]);
    assert!(plan_node(&ITEMS, NodeKind::Ids, &observed, &desired).is_empty());
}

#[test]
fn additions_come_before_removals_so_a_replaced_proxy_is_trusted_throughout() {
    let observed = states(&[(ALLOWED_HOSTS, list(&["old.xyz.com"]))]);
    let desired = states(&[(ALLOWED_HOSTS, list(&["new.xyz.com"]))]);
    let plan = plan_node(&ITEMS, NodeKind::Ids, &observed, &desired);
    assert_eq!(
        commands(&plan),
        [
            "utils system reverse-proxy allowed-hosts add new.xyz.com",
            "utils system reverse-proxy allowed-hosts delete → 1",
        ]
    );
    assert_eq!(plan.restarts, ["Cisco Web Proxy Service"]);
}

#[test]
fn menu_numbers_shift_as_earlier_deletions_remove_entries() {
    let observed = states(&[(
        ALLOWED_HOSTS,
        list(&["a.xyz.com", "keep.xyz.com", "b.xyz.com", "c.xyz.com"]),
    )]);
    let desired = states(&[(ALLOWED_HOSTS, list(&["keep.xyz.com"]))]);
    let plan = plan_node(&ITEMS, NodeKind::LiveData, &observed, &desired);
    let removed: Vec<(&str, usize)> = plan
        .steps
        .iter()
        .map(|s| match &s.op {
            Op::Remove { value, index } => (value.as_str(), *index),
            other => panic!("only removals expected, got {other:?}"),
        })
        .collect();
    // a is 1; then keep is 1 and b is 2; then c is 2 as well.
    assert_eq!(
        removed,
        [("a.xyz.com", 1), ("b.xyz.com", 2), ("c.xyz.com", 2)]
    );
}

#[test]
fn removals_after_additions_count_the_added_entries() {
    let observed = states(&[(
        CORS_ORIGINS,
        list(&["https://old.xyz.com", "https://keep.xyz.com"]),
    )]);
    let desired = states(&[(
        CORS_ORIGINS,
        list(&["https://keep.xyz.com", "https://new.xyz.com"]),
    )]);
    let plan = plan_node(&ITEMS, NodeKind::Cuic, &observed, &desired);
    assert_eq!(
        commands(&plan),
        [
            "utils cuic cors allowed_origin add https://new.xyz.com",
            "utils cuic cors allowed_origin delete → 1",
        ]
    );
    assert_eq!(plan.restarts, ["Intelligence Center Reporting Service"]);
}

#[test]
fn finesse_adds_a_trusted_hosts_frame_ancestors_entry_by_itself_so_the_plan_does_not() {
    let observed = states(&[(ALLOWED_HOSTS, list(&[])), (FRAME_ANCESTORS, list(&[]))]);
    let desired = states(&[
        (ALLOWED_HOSTS, list(&["proxy.xyz.com"])),
        (
            FRAME_ANCESTORS,
            list(&["https://proxy.xyz.com", "https://portal.xyz.com"]),
        ),
    ]);
    let plan = plan_node(&ITEMS, NodeKind::Finesse, &observed, &desired);
    assert_eq!(
        commands(&plan),
        [
            "utils system reverse-proxy allowed-hosts add proxy.xyz.com",
            "utils finesse frame_access_allowed_list add https://portal.xyz.com",
        ]
    );
    assert_eq!(
        plan.restarts,
        [
            "Cisco Web Proxy Service",
            "Cisco Finesse Tomcat",
            "Cisco Finesse Notification Service"
        ]
    );

    // CUIC does not: the admin (here, the plan) adds it.
    let plan = plan_node(&ITEMS, NodeKind::Cuic, &observed, &desired);
    assert_eq!(
        commands(&plan)[1..],
        [
            "utils cuic frame_access_allowed_list add https://proxy.xyz.com",
            "utils cuic frame_access_allowed_list add https://portal.xyz.com",
        ]
    );
}

#[test]
fn a_removed_proxy_loses_its_origins_and_frame_entries_before_its_host() {
    let observed = states(&[
        (ALLOWED_HOSTS, list(&["gone.xyz.com", "stay.xyz.com"])),
        (
            CORS_ORIGINS,
            list(&["https://gone.xyz.com", "https://stay.xyz.com"]),
        ),
        (
            FRAME_ANCESTORS,
            list(&["https://gone.xyz.com", "https://stay.xyz.com"]),
        ),
    ]);
    let desired = states(&[
        (ALLOWED_HOSTS, list(&["stay.xyz.com"])),
        (CORS_ORIGINS, list(&["https://stay.xyz.com"])),
        (FRAME_ANCESTORS, list(&["https://stay.xyz.com"])),
    ]);
    let plan = plan_node(&ITEMS, NodeKind::Finesse, &observed, &desired);
    assert_eq!(
        commands(&plan),
        [
            "utils finesse frame_access_allowed_list delete → 1",
            "utils finesse cors allowed_origin delete → 1",
            "utils system reverse-proxy allowed-hosts delete → 1",
        ]
    );
}

#[test]
fn settings_change_last_so_cors_is_restricted_after_its_origins_are_there() {
    let observed = states(&[
        (CORS_ORIGINS, list(&[])),
        (CORS_MODE, setting("enable_all")),
        (CLIENT_AUTH, setting("enabled")),
    ]);
    let desired = states(&[
        (CORS_ORIGINS, list(&["https://proxy.xyz.com"])),
        (CORS_MODE, setting("enable")),
        (CLIENT_AUTH, setting("enabled")),
    ]);
    let plan = plan_node(&ITEMS, NodeKind::LiveData, &observed, &desired);
    assert_eq!(
        commands(&plan),
        [
            "utils live-data cors allowed_origin add https://proxy.xyz.com",
            "utils live-data cors enable",
        ]
    );
    assert_eq!(
        plan.skipped,
        [Skipped {
            item: CLIENT_AUTH.into(),
            reason: "host verification (client-auth) is set on Finesse nodes (seed 004)".into()
        }]
    );
}

#[test]
fn ids_takes_allowed_hosts_only_and_the_plan_says_why_for_the_rest() {
    let desired = crate::access_policy::desired(
        &crate::access_policy::AccessPolicy {
            proxies: vec![crate::access_policy::TrustedProxy {
                name: "A".into(),
                hosts: vec!["proxy.xyz.com".into()],
                origins: vec!["https://proxy.xyz.com".into()],
                client_certificate: None,
            }],
            ..Default::default()
        },
        NodeKind::Ids,
    );
    let plan = plan_node(&ITEMS, NodeKind::Ids, &States::new(), &desired);
    assert_eq!(
        commands(&plan),
        ["utils system reverse-proxy allowed-hosts add proxy.xyz.com"]
    );
    let skipped: Vec<&str> = plan.skipped.iter().map(|s| s.item.as_str()).collect();
    assert_eq!(
        skipped,
        [CORS_ORIGINS, FRAME_ANCESTORS, CORS_MODE, CLIENT_AUTH]
    );
    assert!(plan.skipped[0]
        .reason
        .contains("IdS takes neither CORS nor frame-ancestors"));
}

#[test]
fn items_the_policy_does_not_manage_are_left_alone() {
    let observed = states(&[(CORS_ORIGINS, list(&["https://by-hand.xyz.com"]))]);
    let desired = states(&[(ALLOWED_HOSTS, list(&[]))]);
    assert!(plan_node(&ITEMS, NodeKind::Finesse, &observed, &desired).is_empty());
}

#[test]
fn difference_compares_lists_as_sets_ignoring_case_and_settings_exactly() {
    let item = crate::access_policy::items::item(ALLOWED_HOSTS).unwrap();
    assert_eq!(
        difference(
            item,
            &list(&["a.x.com", "b.x.com"]),
            &list(&["B.x.com", "a.x.com"])
        ),
        None
    );
    assert_eq!(
        difference(item, &list(&["a.x.com"]), &list(&["a.x.com", "hand.x.com"])),
        Some(("a.x.com".into(), "a.x.com, hand.x.com".into()))
    );
    let auth = crate::access_policy::items::item(CLIENT_AUTH).unwrap();
    assert_eq!(
        difference(auth, &setting("enabled"), &setting("disabled")),
        Some(("enabled".into(), "disabled".into()))
    );
    assert_eq!(render(item, &list(&[])), "none");
}

/// Plans an earlier Gatehouse stored: a trust store as `label\nPEM` texts reads as its
/// certificates (so drift compares like with like), a step's text is shown and never run.
#[test]
fn stored_plans_of_an_earlier_version_read_as_typed_values() {
    let stored = serde_json::json!({
        "proxy-trust": {"list": ["A's client certificate\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----"]},
        "allowed-hosts": {"list": ["proxy.xyz.com"]},
    });
    let read: States = serde_json::from_value(stored).unwrap();
    assert_eq!(
        read["proxy-trust"],
        State::Certificates(vec![Trusted {
            label: "A's client certificate".into(),
            der: vec![0, 1, 2],
        }])
    );
    assert_eq!(read["allowed-hosts"], list(&["proxy.xyz.com"]));
    let step: Step = serde_json::from_value(serde_json::json!({
        "item": "allowed-hosts",
        "op": {"op": "add", "value": "proxy.xyz.com"},
        "command": "utils system reverse-proxy allowed-hosts add proxy.xyz.com",
    }))
    .unwrap();
    assert!(step.command.change().is_none());
    assert_eq!(
        step.command.to_string(),
        "utils system reverse-proxy allowed-hosts add proxy.xyz.com"
    );
    // What is planned now is what runs, stored and read back unchanged.
    let observed = states(&[(ALLOWED_HOSTS, list(&[]))]);
    let desired = states(&[(ALLOWED_HOSTS, list(&["proxy.xyz.com"]))]);
    let plan = plan_node(&ITEMS, NodeKind::Ids, &observed, &desired);
    let stored = serde_json::to_value(&plan).unwrap();
    let read: NodePlan = serde_json::from_value(stored).unwrap();
    assert_eq!(read, plan);
    assert!(read.steps[0].command.change().is_some());
}

/// A value that cannot be typed at the CLI is refused when the node is planned, not when it
/// runs.
#[test]
fn a_value_the_cli_cannot_take_fails_the_plan_of_its_node() {
    let observed = states(&[(ALLOWED_HOSTS, list(&[]))]);
    let desired = states(&[(ALLOWED_HOSTS, list(&["a.xyz.com\nutils x"]))]);
    assert!(super::plan_node(&ITEMS, NodeKind::Ids, &observed, &desired).is_err());
}
