//! One endpoint of the node: its latest probe, the chain it served (findings, details, PEM
//! download) and the forms that mute or acknowledge an alert.

use super::*;

fn probe_line(p: &ProbeSummary) -> String {
    let mut parts = vec![
        p.protocol.clone().unwrap_or_default(),
        p.cipher_suite.clone().unwrap_or_default(),
    ];
    if let Some(alpn) = &p.alpn {
        parts.push(format!("ALPN {alpn}"));
    }
    if p.client_certificate_requested == Some(true) {
        parts.push("asks for a client certificate".into());
    }
    if let Some(ms) = p.handshake_ms {
        parts.push(format!("handshake {ms:.0} ms"));
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" · ")
}

#[component]
pub(super) fn EndpointCard(
    endpoint: EndpointReport,
    node_id: i64,
    admin: bool,
    actions: NodeActions,
) -> impl IntoView {
    let port = endpoint.port;
    let probe = endpoint.probe.clone();
    let summary = match &probe {
        None => view! { <p class="text-sm text-slate-600">"Not scanned yet."</p> }.into_any(),
        Some(p) if !p.ok => view! {
            <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="probe-error">
                <span class="font-mono font-semibold">{p.error_code.clone().unwrap_or_default()}</span>": "{p.error_message.clone().unwrap_or_default()}
                <span class="ml-1 text-xs text-red-700">{format!("(probed {} UTC)", minute(&p.probed_at))}</span>
            </div>
        }.into_any(),
        Some(p) => {
            let trust = if p.publicly_trusted {
                "Chain verifies for this FQDN against the system roots.".to_owned()
            } else {
                format!("Not publicly trusted: {}.", p.public_trust_error.as_ref().map(TrustFailure::words).unwrap_or_default())
            };
            let cluster = match (p.cluster_trusted, &p.cluster_trust_error) {
                (None, _) => None,
                (Some(true), _) => Some("Verifies against the cluster's CA certificates.".to_owned()),
                (Some(false), e) => Some(format!("Does not verify against the cluster's CA certificates: {}.", e.as_ref().map(TrustFailure::words).unwrap_or_default())),
            };
            view! {
                <p class="text-sm text-slate-700">{probe_line(p)}<span class="ml-1 text-xs text-slate-600">{format!("(probed {} UTC)", minute(&p.probed_at))}</span></p>
                <p class="text-xs text-slate-600">{trust}{cluster.map(|c| format!(" {c}"))}</p>
            }.into_any()
        }
    };
    let title = if endpoint.purpose.is_empty() {
        format!("Port {port}")
    } else {
        format!("Port {port} · {}", endpoint.purpose)
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="endpoint" data-port=port.to_string()>
            <div class="border-b border-slate-200 px-5 py-3">
                <h2 class="text-sm font-semibold text-slate-800">{title}</h2>
                <div class="mt-1">{summary}</div>
            </div>
            {(!endpoint.chain.is_empty()).then(|| view! {
                <ol class="divide-y divide-slate-100">
                    {endpoint.chain.into_iter().map(|c| view! { <ChainRow cert=c node_id port admin actions /> }).collect_view()}
                </ol>
            })}
        </section>
    }
    .into_any()
}

#[component]
pub(super) fn ChainRow(
    cert: ChainCertificate,
    node_id: i64,
    port: i32,
    admin: bool,
    actions: NodeActions,
) -> impl IntoView {
    let role = if cert.position == 0 {
        "Leaf".to_owned()
    } else {
        format!("Chain #{}", cert.position)
    };
    let name = cert
        .subject_cn
        .clone()
        .unwrap_or_else(|| cert.details.subject.clone());
    let sha = cert.fingerprint_sha256.clone();
    let alerting = cert.state != "ok";
    let mute_info = cert.mute.clone();
    view! {
        <li class="px-5 py-3" data-testid="chain-certificate">
            <div class="flex flex-wrap items-center gap-2 text-sm">
                <span class="text-xs text-slate-600">"Expiry"</span>
                <StateBadge state=cert.state.clone() />
                <span class="text-xs text-slate-600">{role}</span>
                <a class="font-medium underline" href=format!("/certificates/{sha}")>{name}</a>
                <span class="text-slate-600">{format!("issued by {}", cert.issuer_cn.clone().unwrap_or_else(|| cert.details.issuer.clone()))}</span>
                <span class="whitespace-nowrap text-slate-700">{format!("{} (until {} UTC)", days_text(cert.days_left), minute(&cert.not_after))}</span>
            </div>
            <div class="mt-2"><Findings findings=cert.findings.clone() /></div>
            {mute_info.map(|m| {
                let sha = sha.clone();
                view! {
                    <div class="mt-2 flex flex-wrap items-center gap-2 rounded bg-slate-50 px-3 py-2 text-xs text-slate-700" data-testid="mute-info">
                        <span>{format!("{} until {} UTC by {}; owner {}", if m.kind == "ack" { "Acknowledged (still alerting)" } else { "Alert muted" }, minute(&m.until), m.muted_by, m.owner)}{(!m.note.is_empty()).then(|| format!(" — {}", m.note))}</span>
                        {admin.then(|| view! {
                            <ActionForm action=actions.unmute>
                                <input type="hidden" name="node_id" value=node_id.to_string() />
                                <input type="hidden" name="port" value=port.to_string() />
                                <input type="hidden" name="fingerprint_sha256" value=sha.clone() />
                                <button type="submit" class=BUTTON_SECONDARY>{if m.kind == "ack" { "Clear acknowledgement" } else { "Unmute" }}</button>
                            </ActionForm>
                        })}
                    </div>
                }
            })}
            <details class="mt-2">
                <summary class="cursor-pointer text-xs font-medium text-slate-600">"Details"</summary>
                <div class="mt-2 space-y-2">
                    <CertDetails info=cert.details.clone() />
                    <a href=format!("/api/v1/certificates/{sha}/pem") download class=BUTTON_SECONDARY>"Download PEM"</a>
                </div>
            </details>
            {(admin && alerting && cert.mute.is_none()).then(|| view! { <MuteForm node_id port sha=sha.clone() action=actions.mute /> })}
        </li>
    }
    .into_any()
}

#[component]
pub(super) fn MuteForm(
    node_id: i64,
    port: i32,
    sha: String,
    action: ServerAction<MuteAlert>,
) -> impl IntoView {
    let error = error_of(action.value());
    let id = format!("{}-{port}-{}", node_id, &sha[..8.min(sha.len())]);
    view! {
        <details class="mt-2">
            <summary class="cursor-pointer text-xs font-medium text-slate-600">"Acknowledge or mute this alert…"</summary>
            <ActionForm action attr:class="mt-2 grid gap-3 sm:grid-cols-5 sm:items-start">
                <div>
                    <label for=format!("kind-{id}") class=LABEL>"Action"</label>
                    <select id=format!("kind-{id}") name="kind" class=INPUT>
                        <option value="ack">"Acknowledge (keeps alerting)"</option>
                        <option value="mute">"Mute (silence)"</option>
                    </select>
                </div>
                <input type="hidden" name="node_id" value=node_id.to_string() />
                <input type="hidden" name="port" value=port.to_string() />
                <input type="hidden" name="fingerprint_sha256" value=sha />
                <div>
                    <label for=format!("owner-{id}") class=LABEL>"Owner"</label>
                    <input id=format!("owner-{id}") name="owner" required class=INPUT placeholder="PKI team" />
                    <FieldError messages=field_errors(error, "owner") />
                </div>
                <div>
                    <label for=format!("note-{id}") class=LABEL>"Note"</label>
                    <input id=format!("note-{id}") name="note" class=INPUT placeholder="renewal ordered, CHG0042" />
                    <FieldError messages=field_errors(error, "note") />
                </div>
                <div>
                    <label for=format!("until-{id}") class=LABEL>"Until"</label>
                    <input id=format!("until-{id}") name="until" type="date" required class=INPUT />
                    <FieldError messages=field_errors(error, "until") />
                </div>
                <div class="sm:pt-6"><button type="submit" class=BUTTON>"Save"</button></div>
                <div class="sm:col-span-5"><ActionError error /></div>
            </ActionForm>
        </details>
    }
    .into_any()
}
