//! A map's way to its cluster's nodes: the rollout settings (config URIs, update frequency,
//! fetch restriction), planning their rollout (the plan page shows and applies it), and each
//! node's propagation as read from the node.

use super::Section;
use crate::components::{
    error_of, field_errors, minute, open_plan_when_made, ActionError, ErrorBox, FieldError, Table,
    BUTTON, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::error::AppError;
use crate::pages::policy::StateWord;
use crate::server_fns::proxymaps::{MapPage, PlanRollout, RolloutForm, SaveRollout};
use domain::proxy_maps::rollout::{NodePropagation, PropagationView};
use leptos::prelude::*;

/// The propagation as the page loads it: `None` until the browser asks (the nodes are read
/// over SSH, which a page render should not wait for).
pub type Propagation = Resource<Option<Result<PropagationView, AppError>>>;

#[component]
pub fn Rollout(
    page: MapPage,
    admin: bool,
    propagation: Propagation,
    check: RwSignal<u32>,
) -> impl IntoView {
    if page.cluster.is_none() {
        return view! {
            <Section title="Rollout" description="A map of no cluster is checked alone: it has no nodes to roll out to.">
                <p class="text-sm text-slate-600">"Make a map for a cluster to roll it out to that cluster's Finesse, IdS and CUIC nodes (the components that fetch it)."</p>
            </Section>
        }
        .into_any();
    }
    let id = page.map.id;
    let settings = page.rollout.clone();
    let save = ServerAction::<SaveRollout>::new();
    let plan = ServerAction::<PlanRollout>::new();
    open_plan_when_made(plan.value());
    // Planning takes the form as it stands (saved first when it differs).
    let [first_ref, fallback_ref, frequency_ref, restrict_ref] =
        [(); 4].map(|_| NodeRef::<leptos::html::Input>::new());
    let value =
        |input: NodeRef<leptos::html::Input>| input.get().map(|i| i.value()).unwrap_or_default();
    let form = move || RolloutForm {
        first_uri: value(first_ref),
        fallback_uri: value(fallback_ref),
        update_frequency: value(frequency_ref),
        restrict_to_inventory: restrict_ref
            .get()
            .filter(|i| i.checked())
            .map(|_| "on".to_owned()),
    };
    // What the form shows is the outcome of the button pressed last (a plan's error must not
    // stay beside a later save that worked).
    let planned_last = RwSignal::new(false);
    for (action_version, planned) in [(save.version(), false), (plan.version(), true)] {
        Effect::new(move |_| {
            if action_version.get() > 0 {
                planned_last.set(planned);
            }
        });
    }
    let (saved_error, plan_error) = (error_of(save.value()), error_of(plan.value()));
    let error = Signal::derive(move || match planned_last.get() {
        true => plan_error.get(),
        false => saved_error.get(),
    });
    let saved = move || {
        (!planned_last.get()).then_some(())?;
        save.value().get().and_then(Result::ok).map(|v| {
            view! { <p class="text-sm text-emerald-800" role="status">{format!("Saved (rollout settings version {}). Plan the rollout to change the nodes.", v.version)}</p> }
        })
    };
    // An empty form proposes this console's own URL for the map.
    let first = settings
        .config_uris
        .first()
        .cloned()
        .unwrap_or_else(|| settings.served_at.clone());
    let fallback = settings.config_uris.get(1).cloned().unwrap_or_default();
    let unpublished = page.map.published_version.is_none();
    view! {
        <Section title="Rollout" description="The nodes fetch the published version from their config URIs every few minutes: the first URI takes precedence, the second is the fallback when the first fails. Saving changes nothing on a node; planning shows the commands per node (an HTTPS map host's certificate is imported into tomcat-trust first), and applying runs them and reads every node again.">
            <ActionForm action=save attr:class="grid gap-4 md:grid-cols-2">
                <input type="hidden" name="id" value=id.to_string() />
                <div>
                    <label for="rollout-first" class=LABEL>"Config URI"</label>
                    <input id="rollout-first" name="form[first_uri]" node_ref=first_ref class=INPUT value=first disabled=!admin spellcheck="false" />
                    <p class="mt-1 text-xs text-slate-600">{format!("This console serves the published version at {}", settings.served_at)}</p>
                </div>
                <div>
                    <label for="rollout-fallback" class=LABEL>"Fallback URI (optional)"</label>
                    <input id="rollout-fallback" name="form[fallback_uri]" node_ref=fallback_ref class=INPUT value=fallback disabled=!admin spellcheck="false" placeholder="https://maps.example.com/proxymap.txt" />
                    <FieldError messages=field_errors(error, "config_uris") />
                </div>
                <div>
                    <label for="rollout-frequency" class=LABEL>"Update frequency (minutes, 1 to 1440)"</label>
                    <input id="rollout-frequency" name="form[update_frequency]" node_ref=frequency_ref type="number" min="1" max="1440" class=INPUT value=settings.update_frequency.to_string() disabled=!admin />
                    <FieldError messages=field_errors(error, "update_frequency") />
                </div>
                <div class="flex items-center gap-2 md:mt-6">
                    <input id="rollout-restrict" name="form[restrict_to_inventory]" node_ref=restrict_ref type="checkbox" class="h-4 w-4 rounded border-slate-300" checked=settings.restrict_to_inventory disabled=!admin />
                    <label for="rollout-restrict" class="text-sm text-slate-700">"Serve the map only to the inventory's node addresses"</label>
                </div>
                {admin.then(|| view! {
                    <div class="flex flex-wrap items-center gap-3 md:col-span-2">
                        <button type="submit" class=BUTTON_SECONDARY disabled=move || save.pending().get()>"Save rollout settings"</button>
                        <button type="button" class=BUTTON disabled=move || plan.pending().get()
                            on:click=move |_| { plan.dispatch(PlanRollout { id, form: form() }); }>"Plan rollout"</button>
                        {move || plan.pending().get().then(|| view! { <span class="text-sm text-slate-600">"Reading the nodes and the map host's certificate…"</span> })}
                    </div>
                })}
            </ActionForm>
            {unpublished.then(|| view! { <p class="mt-2 text-sm text-amber-900">"Nothing is published yet: publish a version before rolling out (a node refuses a config URI that serves no valid map)."</p> })}
            <div class="mt-3 space-y-2">
                {saved}
                <ActionError error=Signal::derive(move || error.get().filter(|e| !e.is_invalid())) />
            </div>
        </Section>
        <Section title="Propagation" description="What each Finesse, IdS and CUIC node of the cluster holds, read from the node now, against the published version.">
            <Suspense fallback=|| view! { <p class="text-sm text-slate-600">"Reading the nodes…"</p> }>
                {move || propagation.get().map(|loaded| match loaded {
                    None => view! { <p class="text-sm text-slate-600">"Reading the nodes…"</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
                    Some(Ok(view)) => view! { <PropagationTable view check /> }.into_any(),
                })}
            </Suspense>
        </Section>
    }
    .into_any()
}

#[component]
fn PropagationTable(view: PropagationView, check: RwSignal<u32>) -> impl IntoView {
    let published = match (view.published_version, &view.published_at) {
        (Some(v), Some(at)) => format!("Published: version {v} at {} UTC.", minute(at)),
        _ => "Nothing published.".to_owned(),
    };
    let header = view! {
        <div class="mb-3 flex flex-wrap items-center justify-between gap-2">
            <p class="text-sm text-slate-700" data-testid="propagation-summary">{format!("{published} Read from the nodes at {} UTC.", minute(&view.checked_at))}</p>
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| check.update(|n| *n += 1)>"Check again"</button>
        </div>
    };
    if view.nodes.is_empty() {
        return view! { {header} <p class="text-sm text-slate-600">"The cluster has no Finesse, IdS or CUIC node: nothing reads this map."</p> }.into_any();
    }
    view! {
        {header}
        <Table headers=&["Node", "State", "Config URIs", "Every", "Holds", "Last fetched here"]>
            {view.nodes.into_iter().map(|n| view! { <NodeRow node=n /> }).collect_view()}
        </Table>
    }
    .into_any()
}

#[component]
fn NodeRow(node: NodePropagation) -> impl IntoView {
    let version =
        |v: Option<i32>, none: &str| v.map_or(none.to_owned(), |v| format!("version {v}"));
    let fetched = match (node.fetched_version, &node.fetched_at) {
        (Some(v), Some(at)) => format!("version {v} at {} UTC", minute(at)),
        _ => "never".to_owned(),
    };
    view! {
        <tr class="border-t border-slate-100 align-top" data-testid="propagation-row" data-fqdn=node.fqdn.clone() data-state=node.state.as_str()>
            <td class="py-2 pr-3"><a class="font-medium text-indigo-700 hover:underline" href=format!("/nodes/{}", node.node_id)>{node.fqdn.clone()}</a>
                <span class="block text-xs text-slate-600">{node.kind.clone()}</span></td>
            <td class="py-2 pr-3"><StateWord state=node.state.as_str() /><span class="mt-1 block text-xs text-slate-700">{node.detail.clone()}</span></td>
            <td class="min-w-64 py-2 pr-3 font-mono text-xs break-all">
                {if node.config_uris.is_empty() { view! { <span class="font-sans text-slate-600">"none"</span> }.into_any() }
                 else { node.config_uris.iter().map(|u| view! { <span class="block">{u.clone()}</span> }).collect_view().into_any() }}
            </td>
            <td class="py-2 pr-3 whitespace-nowrap">{node.update_frequency.map_or("—".to_owned(), |m| format!("{m} min"))}</td>
            <td class="py-2 pr-3 whitespace-nowrap">{version(node.holds_version, "no saved version")}</td>
            <td class="py-2 pr-3">{fetched}</td>
        </tr>
    }
}
