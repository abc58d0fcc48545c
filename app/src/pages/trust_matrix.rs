//! A cluster's trust matrix: which certificate each of its nodes must hold in tomcat-trust
//! (rows: the nodes; columns: what they must trust), each cell judged against the stores as
//! last read, why it is red, the seed sentence behind each requirement, and the plan that
//! imports what is missing. Also the servers the console reads itself (third-party gadget and
//! script servers, the proxy map's HTTPS hosts).

use crate::components::*;
use crate::pages::policy::{admin_signal, StateWord};
use crate::server_fns::trust::{
    load_trust_matrix, AddTrustServer, PlanTrustMatrix, ReadTrustServers, RemoveTrustServer,
};
use domain::trust::matrix::{Cell, Matrix, Server};
use domain::trust::verify::Verdict;
use leptos::prelude::*;

fn word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Present => "trusted",
        Verdict::Expired => "expired",
        Verdict::Different => "different certificate",
        Verdict::NotReplicated => "not replicated",
        Verdict::Missing => "missing",
        Verdict::Unknown => "unknown",
    }
}

fn badge(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Present => "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        Verdict::Unknown | Verdict::NotReplicated => {
            "bg-slate-100 text-slate-700 ring-slate-500/30"
        }
        _ => "bg-red-50 text-red-800 ring-red-600/30",
    }
}

/// A name that may wrap after each dot (host names are long, table columns narrow).
fn breakable(name: &str) -> impl IntoView {
    name.split_inclusive('.')
        .map(|part| view! { {part.to_owned()}<wbr /> })
        .collect_view()
}

#[component]
pub fn TrustMatrixPage() -> impl IntoView {
    let id = param_id("cluster");
    let plan = ServerAction::<PlanTrustMatrix>::new();
    let add = ServerAction::<AddTrustServer>::new();
    let remove = ServerAction::<RemoveTrustServer>::new();
    let read = ServerAction::<ReadTrustServers>::new();
    let page = Resource::new(
        move || {
            (
                id(),
                add.version().get(),
                remove.version().get(),
                read.version().get(),
            )
        },
        |(id, ..)| load_trust_matrix(id),
    );
    let admin = admin_signal();
    open_plan_when_made(plan.value());
    view! {
        <Layout title="Trust matrix">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(matrix) => view! { <MatrixView matrix admin=admin.get() plan add remove read /> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn MatrixView(
    matrix: Matrix,
    admin: bool,
    plan: ServerAction<PlanTrustMatrix>,
    add: ServerAction<AddTrustServer>,
    remove: ServerAction<RemoveTrustServer>,
    read: ServerAction<ReadTrustServers>,
) -> impl IntoView {
    let cluster = matrix.cluster_id;
    let total = matrix.cells.len();
    let summary = if total == 0 {
        "Nothing in the inventory asks these nodes to trust anything (no Finesse, UCCX or SocialMiner peers, no proxy with client-auth, no HTTPS proxy-map host or listed server).".to_owned()
    } else if matrix.red == 0 {
        format!("All {total} required certificates are trusted.")
    } else {
        format!(
            "{} of {total} required certificates are not trusted (or not known to be); {}",
            matrix.red,
            match matrix.fixable {
                0 => "a plan cannot import any of them: each says why below.".to_owned(),
                n => format!("a plan imports what {n} of them lack."),
            }
        )
    };
    let unread: Vec<String> = matrix
        .rows
        .iter()
        .filter(|r| r.stores_read_at.is_none())
        .map(|r| r.fqdn.clone())
        .collect();
    let red: Vec<Cell> = matrix
        .cells
        .iter()
        .filter(|c| !c.verdict.ok())
        .cloned()
        .collect();
    let cluster_name = matrix.cluster.clone();
    let latest = matrix.plan.clone();
    let servers = matrix.servers.clone();
    let grid = view! { <Grid matrix=matrix.clone() /> };
    let red_view = (!red.is_empty()).then(|| view! { <RedCells matrix=matrix.clone() red /> });
    view! {
        <div class="space-y-6">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <div>
                    <h2 class="text-lg font-semibold text-slate-900" data-testid="cluster-name">{cluster_name}</h2>
                    <p class="text-sm text-slate-700" data-testid="trust-summary">{summary}</p>
                    {latest.map(|p| view! {
                        <p class="text-sm text-slate-700">"Latest plan: "
                            <a class="text-indigo-700 underline" href=format!("/plans/{}", p.id)>{format!("#{}", p.id)}</a>" "
                            <StateWord state=p.state.as_str() /></p>
                    })}
                </div>
                {(admin && matrix.fixable > 0).then(|| view! {
                    <ActionForm action=plan>
                        <input type="hidden" name="cluster_id" value=cluster.to_string() />
                        <button type="submit" class=BUTTON disabled=move || plan.pending().get()>"Plan the imports"</button>
                    </ActionForm>
                })}
            </div>
            <ActionError error=error_of(plan.value()) />
            {(!unread.is_empty()).then(|| view! {
                <p class="rounded-md border border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900" data-testid="unread-stores">
                    {format!("Never read: the stores of {}. Their cells stay unknown until an admin reads them from the node's page (SSH credentials needed).", unread.join(", "))}
                </p>
            })}
            <Section title="What each node trusts" description="Rows: this cluster's nodes. Columns: the certificates they must hold in tomcat-trust (from this cluster and the clusters of the same DNS domain). Each cell as the node's stores were last read; hover or read below for why.">
                {grid}
            </Section>
            {red_view}
            <Requirements matrix=matrix />
            <Servers cluster servers admin add remove read />
        </div>
    }
}

/// The matrix itself: a cell per requirement, "—" where nothing is required.
#[component]
fn Grid(matrix: Matrix) -> impl IntoView {
    if matrix.columns.is_empty() {
        return view! { <p class="text-sm text-slate-600">"No requirement."</p> }.into_any();
    }
    let headers = matrix
        .columns
        .iter()
        .map(|c| view! { <th scope="col" class="min-w-24 px-2 py-2 text-left align-bottom text-xs font-medium text-slate-700">{breakable(&c.label)}</th> })
        .collect_view();
    let rows = matrix
        .rows
        .iter()
        .map(|row| {
            let cells = (0..matrix.columns.len())
                .map(|column| {
                    match matrix.cells.iter().find(|c| c.holder == row.node_id && c.column == column) {
                        Some(cell) => {
                            let class = format!("inline-flex whitespace-nowrap rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", badge(cell.verdict));
                            // A red cell links to its why (a tooltip alone reaches no keyboard).
                            let mark = if cell.verdict.ok() {
                                view! { <span class=class>{word(cell.verdict)}</span> }.into_any()
                            } else {
                                view! { <a class=format!("{class} underline") href=format!("#why-{}-{column}", row.node_id)>{word(cell.verdict)}</a> }.into_any()
                            };
                            view! { <td class="px-2 py-2" title=cell.why.clone() data-testid="trust-cell" data-verdict=word(cell.verdict)>{mark}</td> }.into_any()
                        }
                        None => view! { <td class="px-2 py-2 text-slate-400"><span aria-hidden="true">"—"</span><span class="sr-only">"not required"</span></td> }.into_any(),
                    }
                })
                .collect_view();
            let read = row
                .stores_read_at
                .as_deref()
                .map_or("stores never read".to_owned(), |at| format!("stores read {} UTC", minute(at)));
            view! {
                <tr data-testid="trust-row">
                    <th scope="row" class="py-2 pr-4 text-left align-top font-normal">
                        <a class="font-medium text-slate-900 underline" href=format!("/nodes/{}", row.node_id)>{row.fqdn.clone()}</a>
                        <div class="text-xs text-slate-600">{format!("{} · {}", row.kind, row.role)}</div>
                        <div class="text-xs text-slate-600">{read}</div>
                        {row.stores_error.clone().map(|e| view! { <div class="text-xs text-red-700">{format!("last read failed: {e}")}</div> })}
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0" role="region" aria-label="Trust matrix">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="trust-matrix">
                <thead><tr><th scope="col" class="py-2 pr-4 text-left text-xs font-medium text-slate-700">"Node"</th>{headers}</tr></thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Each cell not green: what, why, and what the plan imports.
#[component]
fn RedCells(matrix: Matrix, red: Vec<Cell>) -> impl IntoView {
    let fqdn = |id: i64| {
        matrix
            .rows
            .iter()
            .find(|r| r.node_id == id)
            .map(|r| r.fqdn.clone())
            .unwrap_or_default()
    };
    let items = red
        .into_iter()
        .map(|cell| {
            let column = &matrix.columns[cell.column];
            let fix = if cell.import.is_empty() {
                "A plan cannot fix this one: see why.".to_owned()
            } else {
                format!(
                    "The plan imports {} certificate{} here.",
                    cell.import.len(),
                    if cell.import.len() == 1 { "" } else { "s" }
                )
            };
            let what = format!("{} must trust {}", fqdn(cell.holder), column.label);
            let anchor = format!("why-{}-{}", cell.holder, cell.column);
            view! {
                <li class="py-2" data-testid="red-cell" id=anchor>
                    <div class="flex flex-wrap items-center gap-2">
                        <span class=format!("inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", badge(cell.verdict))>{word(cell.verdict)}</span>
                        <span class="font-medium text-slate-900 break-words">{breakable(&what)}</span>
                    </div>
                    <p class="mt-1 text-slate-800 break-words">{cell.why}</p>
                    <p class="mt-1 text-xs text-slate-600">{fix}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <Section title="Not trusted, and why">
            <ul class="divide-y divide-slate-100 text-sm" data-testid="red-cells">{items}</ul>
        </Section>
    }
}

/// Why each column is required (the seed's sentence) and what is known of its certificate.
#[component]
fn Requirements(matrix: Matrix) -> impl IntoView {
    let items = matrix
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let mut sources: Vec<(String, String)> = matrix
                .cells
                .iter()
                .filter(|c| c.column == index)
                .map(|c| (c.rule.clone(), c.source.clone()))
                .collect();
            sources.sort();
            sources.dedup();
            let certificate = match &column.certificate {
                Some(known) => format!(
                    "{}{}, until {} UTC, SHA-256 {}…{}",
                    known.subject_cn.clone().unwrap_or_else(|| "(no CN)".into()),
                    if known.self_signed { " (self-signed)" } else { "" },
                    minute(&known.not_after),
                    &known.fingerprint_sha256[..16.min(known.fingerprint_sha256.len())],
                    if known.issuers.is_empty() { String::new() } else { format!("; issued by {}", known.issuers.join(" → ")) }
                ),
                None => "not known".to_owned(),
            };
            view! {
                <li class="py-2" data-testid="requirement">
                    <p class="font-medium text-slate-900 break-all">{column.label.clone()}</p>
                    <p class="text-xs text-slate-700 break-words">{certificate}</p>
                    <p class="text-xs text-slate-600 break-words">{format!("Learnt from: {}", column.from)}</p>
                    {sources.into_iter().map(|(rule, source)| view! {
                        <p class="mt-1 text-xs text-slate-700 break-words"><span class="font-mono">{rule}</span>": "{source}</p>
                    }).collect_view()}
                </li>
            }
        })
        .collect_view();
    view! {
        <Section title="Why each is required" description="Each column, the certificate the console knows for it, and the sentence of the source document that requires it.">
            <ul class="divide-y divide-slate-100 text-sm">{items}</ul>
        </Section>
    }
}

/// The servers the console reads itself: listed ones (admins add and remove them) and the
/// proxy map's HTTPS hosts.
#[component]
fn Servers(
    cluster: i64,
    servers: Vec<Server>,
    admin: bool,
    add: ServerAction<AddTrustServer>,
    remove: ServerAction<RemoveTrustServer>,
    read: ServerAction<ReadTrustServers>,
) -> impl IntoView {
    let error = error_of(add.value());
    let list = if servers.is_empty() {
        view! { <p class="text-sm text-slate-600">"None listed, and the cluster's proxy map has no HTTPS config URI."</p> }.into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-100 text-sm" data-testid="trust-servers">
                {servers.into_iter().map(|s| {
                    let label = Server::label(&s.host, s.port);
                    let state = match (&s.read_at, &s.error) {
                        (_, Some(error)) => format!("last read failed: {error}"),
                        (Some(at), None) => format!("read {} UTC: {} ({} certificate{})", minute(at), s.subject_cn.clone().unwrap_or_else(|| "no CN".into()), s.chain_length, if s.chain_length == 1 { "" } else { "s" }),
                        (None, None) => "never read".to_owned(),
                    };
                    let source = if s.source == "admin" { "listed" } else { "proxy-map host" };
                    let removable = admin && s.source == "admin";
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                            <span>
                                <span class="font-medium break-all">{label.clone()}</span>
                                <span class="ml-2 text-xs text-slate-600">{format!("{source} · {state}")}</span>
                            </span>
                            {removable.then(|| view! {
                                <ActionForm action=remove>
                                    <input type="hidden" name="cluster_id" value=cluster.to_string() />
                                    <input type="hidden" name="host" value=label.clone() />
                                    <button type="submit" class=BUTTON_DANGER aria-label=format!("Remove {label}")>"Remove"</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <Section title="Servers the console reads" description="Third-party gadget and script servers the Finesse and UCCX nodes must trust (seed 000), and the HTTPS hosts of the cluster's proxy map. The console reads what each serves (a TLS handshake) when one is added or when asked.">
            <ActionError error=error_of(remove.value()) />
            <ActionError error=error_of(read.value()) />
            {move || error.get().filter(|e| e.fields.is_empty()).map(|error| view! { <ErrorBox error /> })}
            {list}
            {admin.then(|| view! {
                <div class="mt-4 flex flex-wrap items-end gap-3">
                    <ActionForm action=add attr:class="flex flex-wrap items-end gap-2">
                        <input type="hidden" name="cluster_id" value=cluster.to_string() />
                        <div>
                            <label for="trust-server" class=LABEL>"Add a server (host or host:port)"</label>
                            <input id="trust-server" name="host" required class=INPUT placeholder="gadgets.example.com:443" />
                        </div>
                        <button type="submit" class=BUTTON disabled=move || add.pending().get()>"Add and read"</button>
                    </ActionForm>
                    <ActionForm action=read>
                        <input type="hidden" name="cluster_id" value=cluster.to_string() />
                        <button type="submit" class=BUTTON_SECONDARY disabled=move || read.pending().get()>"Read every server again"</button>
                    </ActionForm>
                </div>
                <FieldError messages=field_errors(error, "host") />
            })}
        </Section>
    }
}
