//! The node page's lower sections: the expiry thresholds in force, and the scan history.

use super::*;

#[component]
pub(super) fn ThresholdsSection(
    report: domain::certificates::EffectiveThresholds,
    node_id: i64,
    admin: bool,
    action: ServerAction<SetNodeThresholds>,
) -> impl IntoView {
    let error = error_of(action.value());
    let own = |value: i64, from: &str| {
        if from == "node" {
            value.to_string()
        } else {
            String::new()
        }
    };
    let rows = [
        (
            "warning_days",
            "Warning under (days)",
            report.warning_days,
            report.warning_days_from.clone(),
        ),
        (
            "critical_days",
            "Critical under (days)",
            report.critical_days,
            report.critical_days_from.clone(),
        ),
        (
            "warning_lifetime_percent",
            "Warning under (% of lifetime left)",
            report.warning_lifetime_percent,
            report.warning_lifetime_percent_from.clone(),
        ),
    ];
    view! {
        <Section title="Expiry thresholds" description="When this node's certificates turn warning and critical. Empty fields inherit the cluster's values, then the defaults (30 days, 14 days, 20%).">
            <ul class="mb-3 text-sm text-slate-700">
                {rows.clone().map(|(_, label, value, from)| view! { <li>{format!("{label}: {value} ({from})")}</li> })}
            </ul>
            {admin.then(|| view! {
                <ActionForm action attr:class="grid gap-3 sm:grid-cols-4 sm:items-start">
                    <input type="hidden" name="id" value=node_id.to_string() />
                    {rows.map(|(name, label, value, from)| view! {
                        <div>
                            <label for=format!("t-{name}") class=LABEL>{label}</label>
                            <input id=format!("t-{name}") name=name inputmode="numeric" class=INPUT value=own(value, &from) placeholder="inherit" />
                            <FieldError messages=field_errors(error, name) />
                        </div>
                    })}
                    <div class="sm:pt-6"><button type="submit" class=BUTTON>"Save thresholds"</button></div>
                </ActionForm>
            })}
        </Section>
    }
    .into_any()
}

#[component]
pub(super) fn HistorySection(history: Vec<HistoryEntry>) -> impl IntoView {
    view! {
        <Section title="Scan history" description="The latest probes of this node's endpoints, newest first.">
            {if history.is_empty() {
                view! { <p class="text-sm text-slate-600">"No probes yet."</p> }.into_any()
            } else {
                view! {
                    <Table headers=&["Probed (UTC)", "Port", "Result", "Leaf served"]>
                                {history.into_iter().map(|h| view! {
                                    <tr data-testid="history-row">
                                        <td class="py-1 pr-3 whitespace-nowrap">{minute(&h.probed_at)}</td>
                                        <td class="py-1 pr-3 font-mono text-xs">{h.port}</td>
                                        <td class="py-1 pr-3">{if h.ok { "ok".to_owned() } else { h.error_code.clone().unwrap_or_else(|| "failed".into()) }}</td>
                                        <td class="py-1">{h.fingerprint_sha256.clone().map(|sha| view! {
                                            <a class="underline" href=format!("/certificates/{sha}")>{h.subject_cn.clone().unwrap_or_else(|| sha[..16].to_owned())}</a>
                                        })}</td>
                                    </tr>
                                }).collect_view()}
                            </Table>
                }.into_any()
            }}
        </Section>
    }
    .into_any()
}
