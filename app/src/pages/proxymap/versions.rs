//! A map's versions (publish one, compare any two, load one into the editor to restore it as
//! a new version) and what the IdS and the proxies need from the text being edited.

use super::Section;
use crate::components::{minute, ActionError, Table, BUTTON_SECONDARY, INPUT, LABEL};
use crate::server_fns::proxymaps::{CompareVersions, LoadVersion, MapPage, PublishMap};
use domain::proxy_maps::{derived, MapNode};
use leptos::prelude::*;

/// The SSO redirect URIs for the IdS and the names the proxies need certificates for, from
/// the text as it is now.
#[component]
pub fn Derived(checked: Memo<proxymap::Map>, nodes: Vec<MapNode>) -> impl IntoView {
    let nodes = StoredValue::new(nodes);
    let both = Memo::new(move |_| nodes.with_value(|n| checked.with(|map| derived(map, n))));
    let list = |items: Vec<String>, empty: &'static str| {
        if items.is_empty() {
            return view! { <p class="text-sm text-slate-600">{empty}</p> }.into_any();
        }
        // A long map's lists scroll in their box; a long name wraps rather than widen the page.
        view! { <ul class="max-h-80 overflow-auto font-mono text-xs break-all text-slate-800" tabindex="0">{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> }.into_any()
    };
    view! {
        <Section title="What the IdS and the proxies need" description="From the text above, as it is now.">
            <div class="grid gap-6 md:grid-cols-2" data-testid="map-derived">
                <div class="min-w-0">
                    <h3 class="text-sm font-semibold text-slate-800">"SSO redirect URIs to allow in the IdS (one per Finesse line)"</h3>
                    {move || list(both.get().0, "No Finesse line (port 8445 or a Finesse node of the inventory).")}
                </div>
                <div class="min-w-0">
                    <h3 class="text-sm font-semibold text-slate-800">"External names the proxies need certificates for"</h3>
                    {move || list(both.get().1, "No mapping yet.")}
                </div>
            </div>
        </Section>
    }
}

#[component]
pub fn Versions(
    page: MapPage,
    draft: crate::components::editor::Draft,
    publish: ServerAction<PublishMap>,
    admin: bool,
) -> impl IntoView {
    if page.versions.is_empty() {
        return view! {
            <Section title="Versions"><p class="text-sm text-slate-600">"Nothing saved yet: the first save is version 1. Nothing is served until a version is published."</p></Section>
        }
        .into_any();
    }
    let id = page.map.id;
    let published = page.map.published_version;
    let versions = StoredValue::new(page.versions.clone());
    let newest = page.versions[0].version;
    let from = RwSignal::new((newest - 1).max(1));
    let to = RwSignal::new(newest);
    // Compared on the server, once the page runs in the browser (the page does not carry every
    // version's text), and again whenever either choice changes.
    let compare = ServerAction::<CompareVersions>::new();
    Effect::new(move |_| {
        compare.dispatch(CompareVersions {
            id,
            from: from.get(),
            to: to.get(),
        });
    });
    let load = ServerAction::<LoadVersion>::new();
    let loaded = RwSignal::new(None::<i32>);
    Effect::new(move |_| {
        if let Some(Ok(v)) = load.value().get() {
            draft.replace(v.text);
            loaded.set(Some(v.version));
        }
    });
    let options = move |selected: RwSignal<i32>| {
        versions.with_value(|all| {
            all.iter()
                .map(|v| {
                    let version = v.version;
                    view! { <option value=version.to_string() selected=move || selected.get() == version>{format!("version {version}")}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <Section title="Versions" description="Every save is kept. Publishing one serves it to the nodes from now on; loading one into the editor lets you save it again as the next version.">
            <ActionError error=crate::components::error_of(publish.value()) />
            <ActionError error=crate::components::error_of(load.value()) />
            <Table headers=&["Version", "Saved", "By", "Why", "Mappings", ""]>
                {page.versions.iter().map(|v| {
                    let version = v.version;
                    let is_published = published == Some(version);
                    view! {
                        <tr class="border-t border-slate-100" data-testid="map-version">
                            <td class="py-2 pr-3 font-medium">{version}
                                {is_published.then(|| view! { <span class="ml-2 rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-800 ring-1 ring-inset ring-emerald-600/30">"published"</span> })}</td>
                            <td class="py-2 pr-3">{format!("{} UTC", minute(&v.saved_at))}</td>
                            <td class="py-2 pr-3">{v.author.clone()}</td>
                            <td class="py-2 pr-3">{v.comment.clone()}</td>
                            <td class="py-2 pr-3">{v.mappings}</td>
                            <td class="py-2 pr-3">
                                <div class="flex flex-wrap justify-end gap-2">
                                    {(admin && !is_published).then(|| view! {
                                        <ActionForm action=publish>
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <input type="hidden" name="version" value=version.to_string() />
                                            <button type="submit" class=BUTTON_SECONDARY aria-label=format!("Publish version {version}")>"Publish"</button>
                                        </ActionForm>
                                    })}
                                    {admin.then(|| view! {
                                        <button type="button" class=BUTTON_SECONDARY aria-label=format!("Load into editor: version {version}")
                                            on:click=move |_| { load.dispatch(LoadVersion { id, version }); }>"Load into editor"</button>
                                    })}
                                </div>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </Table>
            {move || loaded.get().map(|v| view! { <p class="mt-2 text-sm text-slate-700" role="status">{format!("Version {v} is in the editor: save it to restore it as version {}.", newest + 1)}</p> })}
            <div class="mt-5 space-y-2" data-testid="map-diff">
                <h3 class="text-sm font-semibold text-slate-800">"Compare two versions"</h3>
                <div class="flex flex-wrap items-end gap-3">
                    <div><label for="diff-from" class=LABEL>"From"</label>
                        <select id="diff-from" class=INPUT on:change=move |ev| from.set(event_target_value(&ev).parse().unwrap_or(1))>{options(from)}</select></div>
                    <div><label for="diff-to" class=LABEL>"To"</label>
                        <select id="diff-to" class=INPUT on:change=move |ev| to.set(event_target_value(&ev).parse().unwrap_or(1))>{options(to)}</select></div>
                </div>
                {move || match compare.value().get() {
                    None => view! { <p class="text-sm text-slate-600">"Comparing…"</p> }.into_any(),
                    Some(Err(error)) => view! { <crate::components::ErrorBox error /> }.into_any(),
                    Some(Ok(lines)) if lines.is_empty() => view! { <p class="text-sm text-slate-600">"No mapping differs."</p> }.into_any(),
                    Some(Ok(lines)) => view! { <ul class="font-mono text-xs">{lines.into_iter().map(|l| {
                        let class = match l.chars().next() { Some('+') => "text-emerald-800", Some('-') => "text-red-800", _ => "text-amber-900" };
                        view! { <li class=class>{l}</li> }
                    }).collect_view()}</ul> }.into_any(),
                }}
            </div>
        </Section>
    }
    .into_any()
}
