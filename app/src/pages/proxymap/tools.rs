//! Starting points for a map: proposed from the inventory, read from a file, or what a node
//! holds now. Each replaces the editor's text; nothing is saved until the admin saves.

use crate::components::editor::Draft;
use crate::components::{ErrorBox, BUTTON_SECONDARY, INPUT, LABEL};
use crate::server_fns::proxymaps::NodeMap;
use leptos::prelude::*;

/// Starting points: a map proposed from the inventory, a file, or what a node holds now.
#[component]
pub fn Tools(nodes: Vec<domain::proxy_maps::MapNode>, draft: Draft) -> impl IntoView {
    let pattern = RwSignal::new("{host}.example.com:{port}".to_owned());
    let note = RwSignal::new(None::<String>);
    let from_node = ServerAction::<NodeMap>::new();
    let node_choice = RwSignal::new(nodes.first().map(|n| n.id).unwrap_or(0));
    Effect::new(move |_| {
        if let Some(Ok(map)) = from_node.value().get() {
            note.set(Some(format!(
                "{} line(s) read from the node: check and save them.",
                map.lines().count()
            )));
            draft.replace(map);
        }
    });
    let stored = StoredValue::new(nodes.clone());
    let generate = move |_| {
        let made = stored.with_value(|n| domain::proxy_maps::generate(n, &pattern.get_untracked()));
        note.set(Some(
            "Proposed from the inventory: check the external names, then save.".into(),
        ));
        draft.replace(made);
    };
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_map_file(&ev, draft, note);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, note);
    };
    let has_nodes = !nodes.is_empty();
    view! {
        <details class="rounded-md border border-slate-200 px-4 py-3">
            <summary class="cursor-pointer text-sm font-medium text-slate-800">"Start from the inventory, a file or a node"</summary>
            <div class="mt-3 grid gap-4 md:grid-cols-3">
                <div>
                    <label for="map-pattern" class=LABEL>"External names: {host} is the node's first label, {port} its port"</label>
                    <input id="map-pattern" class=format!("{INPUT} font-mono") prop:value=move || pattern.get() on:input=move |ev| pattern.set(event_target_value(&ev)) />
                    <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=!has_nodes on:click=generate>"Propose from the inventory"</button>
                    {(!has_nodes).then(|| view! { <p class="mt-1 text-xs text-slate-600">"The map's cluster has no Finesse, IdS or CUIC node (the components that fetch the map)."</p> })}
                </div>
                <div>
                    <label for="map-file" class=LABEL>"A proxymap.txt file (at most 1 MiB)"</label>
                    <input id="map-file" type="file" accept=".txt,text/plain" on:change=on_file
                        class="mt-1 block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200" />
                </div>
                <div>
                    <label for="map-node" class=LABEL>"What a node holds (show-proxy-config-map)"</label>
                    <select id="map-node" class=INPUT disabled=!has_nodes on:change=move |ev| node_choice.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {nodes.into_iter().map(|n| view! { <option value=n.id.to_string()>{n.fqdn}</option> }).collect_view()}
                    </select>
                    <button type="button" class=format!("{BUTTON_SECONDARY} mt-2") disabled=move || !has_nodes || from_node.pending().get()
                        on:click=move |_| { from_node.dispatch(NodeMap { node_id: node_choice.get_untracked() }); }>"Read it over SSH"</button>
                </div>
            </div>
            {move || note.get().map(|n| view! { <p class="mt-3 text-sm text-slate-700" data-testid="tools-note">{n}</p> })}
            {move || from_node.value().get().and_then(Result::err).map(|error| view! { <div class="mt-3"><ErrorBox error /></div> })}
            <p class="mt-3 text-xs text-slate-600">"Each replaces the text above; nothing is saved until you save."</p>
        </details>
    }
}

/// Loads the picked file into the text (in the browser; nothing is sent): refused when larger
/// than a map may be, binary, or not UTF-8, with the reason.
#[cfg(feature = "hydrate")]
fn read_map_file(ev: &leptos::ev::Event, draft: Draft, note: RwSignal<Option<String>>) {
    let too_large = |name: &str, size: f64| {
        format!(
            "{name} is {:.1} MB: a proxy map is at most 1 MiB (about 15,000 lines). Nothing was loaded.",
            size / 1_048_576.0
        )
    };
    let limit = proxymap::MAX_BYTES as f64;
    crate::components::read_picked_file(ev, limit, too_large, note, move |name, bytes| {
        match proxymap::decode(&bytes) {
            Ok(decoded) => {
                draft.replace(decoded.to_owned());
                note.set(Some(format!("{name} loaded: check it, then save.")));
            }
            Err(d) => note.set(Some(format!("{name} was not loaded: {}", d.message))),
        }
    });
}
