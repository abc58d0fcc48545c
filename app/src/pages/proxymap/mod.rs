//! Proxy maps: the list with a form for a new one (`/proxy-map`), and one map's page
//! (`/proxy-map/:id`): the editor (text checked as it is typed, by the same `proxymap` crate
//! the server uses, and a table view), its versions (publish, compare, restore) and what the
//! IdS and the proxies need from it, its rollout to the cluster's nodes and their propagation.

mod editor;
mod rollout;
mod tools;
mod versions;

use crate::components::{
    minute, ActionError, EmptyState, ErrorBox, Layout, Section, Table, BUTTON, INPUT, LABEL,
};
use crate::pages::policy::admin_signal;
use crate::server_fns::proxymaps::{
    load_map, load_maps, load_propagation, CreateMap, MapsPage, PublishMap, SaveMap,
};
use domain::proxy_maps::MapView;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn ProxyMapsPage() -> impl IntoView {
    let create = ServerAction::<CreateMap>::new();
    let data = Resource::new(|| (), |_| load_maps());
    let admin = admin_signal();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(map)) = create.value().get() {
            navigate(&format!("/proxy-map/{}", map.id), Default::default());
        }
    });
    view! {
        <Layout title="Proxy maps">
            <p class="text-sm text-slate-700">"A proxy map tells Finesse, IdS and CUIC, which fetch it, which internal host:port of each component (LiveData's too) the VPN-less reverse proxy exposes as which external host:port. Each map is checked as you type, saved in versions, published at a fixed URL the nodes fetch, and rolled out to its cluster's nodes."</p>
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(page) => view! { <MapList page=page.clone() /> {admin.get().then(|| view! { <NewMap clusters=page.clusters create /> })} }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn MapList(page: MapsPage) -> impl IntoView {
    if page.maps.is_empty() {
        return view! {
            <EmptyState title="No proxy map yet" body="Make one below for a cluster: Gatehouse can propose its lines from the inventory, or import what a node holds today." />
        }
        .into_any();
    }
    let cluster_name = move |id: Option<i64>| {
        id.and_then(|id| page.clusters.iter().find(|(c, _)| *c == id))
            .map_or("—".to_owned(), |(_, name)| name.clone())
    };
    view! {
        <Table headers=&["Map", "Cluster", "Latest version", "Published", "Served at"]>
            {page.maps.iter().map(|m| view! {
                <tr class="border-t border-slate-100" data-testid="map-row">
                    <td class="py-2 pr-3"><a class="font-medium text-indigo-700 hover:underline" href=format!("/proxy-map/{}", m.id)>{m.name.clone()}</a></td>
                    <td class="py-2 pr-3">{cluster_name(m.cluster_id)}</td>
                    <td class="py-2 pr-3">{if m.latest_version == 0 { "none saved".to_owned() } else { format!("version {}", m.latest_version) }}</td>
                    <td class="py-2 pr-3">{published(m)}</td>
                    <td class="py-2 pr-3 font-mono text-xs">{m.path.clone()}</td>
                </tr>
            }).collect_view()}
        </Table>
    }
    .into_any()
}

/// "version 3 by admin at 2026-12-02 10:00 UTC", or that nothing is.
fn published(map: &MapView) -> String {
    match (map.published_version, &map.published_by, &map.published_at) {
        (Some(v), Some(by), Some(at)) => format!("version {v} by {by} at {} UTC", minute(at)),
        (Some(v), ..) => format!("version {v}"),
        _ => "nothing published".into(),
    }
}

#[component]
fn NewMap(clusters: Vec<(i64, String)>, create: ServerAction<CreateMap>) -> impl IntoView {
    let error = crate::components::error_of(create.value());
    view! {
        <Section title="New proxy map" description="Its path (/maps/<name>/proxymap.txt) comes from the name. A map of a cluster is checked against its nodes, proxies and their certificates, and rolled out to its nodes.">
            <ActionForm action=create attr:class="grid gap-4 md:grid-cols-3 md:items-end">
                <div>
                    <label for="map-name" class=LABEL>"Name"</label>
                    <input id="map-name" name="name" required maxlength="100" class=INPUT placeholder="Site A VPN-less" />
                    <crate::components::FieldError messages=crate::components::field_errors(error, "name") />
                    <crate::components::FieldError messages=crate::components::field_errors(error, "slug") />
                </div>
                <div>
                    <label for="map-cluster" class=LABEL>"Cluster"</label>
                    <select id="map-cluster" name="cluster_id" class=INPUT>
                        <option value="">"None (checked alone)"</option>
                        {clusters.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </div>
                <div><button type="submit" class=BUTTON disabled=move || create.pending().get()>"Create map"</button></div>
            </ActionForm>
            <div class="mt-3"><ActionError error=Signal::derive(move || error.get().filter(|e| !e.is_invalid())) /></div>
        </Section>
    }
}

#[component]
pub fn ProxyMapPage() -> impl IntoView {
    let id = crate::components::param_id("id");
    let save = ServerAction::<SaveMap>::new();
    let publish = ServerAction::<PublishMap>::new();
    // Reloaded only after a change that worked: a refused save keeps the admin's text.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        // Both read every time (an `||` would stop tracking the second once the first held).
        let saved_ok = matches!(save.value().get(), Some(Ok(_)));
        let published_ok = matches!(publish.value().get(), Some(Ok(_)));
        if saved_ok || published_ok {
            saved.update(|n| *n += 1);
        }
    });
    let page = Resource::new(move || (id(), saved.get()), |(id, _)| load_map(id));
    // The nodes are read over SSH: only once the page runs in the browser, and again on request.
    let check = RwSignal::new(0u32);
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let propagation: rollout::Propagation = Resource::new(
        move || (id(), check.get(), in_browser.get()),
        |(id, _, asked)| async move {
            match asked {
                true => Some(load_propagation(id).await),
                false => None,
            }
        },
    );
    let admin = admin_signal();
    view! {
        <Layout title="Proxy map">
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                {move || page.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(p) => {
                        let draft = crate::components::editor::Draft::new(p.latest.clone());
                        let checked = crate::components::editor::checked(draft, p.context.clone());
                        let cluster = p.cluster.clone().map_or("no cluster: checked alone, not rolled out".to_owned(), |c| format!("cluster {c}"));
                        view! {
                            <div>
                                <h2 class="text-lg font-semibold text-slate-900" data-testid="map-name">{p.map.name.clone()}</h2>
                                <p class="text-sm text-slate-700">{cluster}" · served at "<a class="font-mono text-indigo-700 underline" href=p.map.path.clone()>{p.map.path.clone()}</a></p>
                                <p class="text-sm text-slate-700" data-testid="map-published">{format!("Latest: {}. Published: {}.",
                                    if p.map.latest_version == 0 { "nothing saved yet".to_owned() } else { format!("version {}", p.map.latest_version) }, published(&p.map))}</p>
                            </div>
                            <editor::MapEditor page=p.clone() draft checked save admin=admin.get() />
                            <versions::Derived checked nodes=p.nodes.clone() />
                            <versions::Versions page=p.clone() draft publish admin=admin.get() />
                            <rollout::Rollout page=p admin=admin.get() propagation check />
                        }.into_any()
                    }
                })}
            </Transition>
        </Layout>
    }
}
