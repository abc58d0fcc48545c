//! The form that makes a pair.

use crate::components::{
    error_of, field_errors, ActionError, FieldError, Section, BUTTON, INPUT, LABEL,
};
use crate::server_fns::proxies::CreatePair;
use crate::server_fns::proxymaps::load_maps;
use leptos::prelude::*;

/// What a new pair's settings start from: one listener, the client certificate shown to the
/// components, the LAN-side status ports (every other setting has the installer's default).
const SETTINGS_TEMPLATE: &str = r#"{
  "schema": 1,
  "version": 0,
  "listeners": [
    {"address": "0.0.0.0:443",
     "certificates": [{"certificate": "/etc/gatehouse-proxy/edge.pem", "key": "/etc/gatehouse-proxy/edge.key"}]}
  ],
  "routes": [],
  "forwarders": {"addresses": [], "header": null},
  "upstream": {"client_certificate": {"certificate": "/etc/gatehouse-proxy/client.pem", "key": "/etc/gatehouse-proxy/client.key"}},
  "status": {"address": "10.0.0.10:10001", "proxymap_address": "10.0.0.10:10000"}
}"#;

/// What differs per side: each its own LAN-side addresses here.
const OVERLAYS_TEMPLATE: &str = r#"[
  {"status": {"address": "10.0.0.10:10001", "proxymap_address": "10.0.0.10:10000"}},
  {"status": {"address": "10.0.0.11:10001", "proxymap_address": "10.0.0.11:10000"}}
]"#;

/// The form that makes a pair (admins): its name, the published map it routes by, the sides'
/// names, its settings and what differs per side, as JSON documents.
#[component]
pub(super) fn NewPairForm(create: ServerAction<CreatePair>) -> impl IntoView {
    let maps = Resource::new(|| (), |_| load_maps());
    let error = error_of(create.value());
    view! {
        <Section title="New pair" description="Two gatehouse-proxy instances that route by one published proxy map. The settings are a configuration document without routes, trust or map (the console adds those from the map and the certificates it knows at each plan); file paths name files on the engines' hosts (private keys never come here). Nothing reaches an instance until a plan is applied.">
            <details>
                <summary class="cursor-pointer text-sm font-medium text-indigo-700">"Create a pair"</summary>
                <ActionForm action=create attr:class="mt-3 grid gap-4 md:grid-cols-2">
                    <div class="md:col-span-2"><ActionError error /></div>
                    <div>
                        <label for="pair-name" class=LABEL>"Name"</label>
                        <input id="pair-name" name="name" required class=INPUT placeholder="DMZ pair" autocomplete="off" />
                        <FieldError messages=field_errors(error, "name") />
                    </div>
                    <div>
                        <label for="pair-map" class=LABEL>"Proxy map it routes by"</label>
                        <select id="pair-map" name="map_id" class=INPUT>
                            <Transition fallback=|| view! { <option value="">"Loading the maps…"</option> }>
                                {move || maps.get().map(|r| match r {
                                    Ok(page) => {
                                        let published: Vec<_> = page.maps.into_iter().filter(|m| m.published_version.is_some()).collect();
                                        if published.is_empty() {
                                            view! { <option value="">"No map is published yet"</option> }.into_any()
                                        } else {
                                            published.into_iter().map(|m| view! { <option value=m.id.to_string()>{m.name}</option> }).collect_view().into_any()
                                        }
                                    }
                                    Err(_) => view! { <option value="">"The maps could not be read"</option> }.into_any(),
                                })}
                            </Transition>
                        </select>
                        <FieldError messages=field_errors(error, "map_id") />
                    </div>
                    <div>
                        <label for="pair-a" class=LABEL>"Side A's name"</label>
                        <input id="pair-a" name="side_a" required class=INPUT value="proxy-a" autocomplete="off" />
                        <FieldError messages=field_errors(error, "instances[0]") />
                    </div>
                    <div>
                        <label for="pair-b" class=LABEL>"Side B's name"</label>
                        <input id="pair-b" name="side_b" required class=INPUT value="proxy-b" autocomplete="off" />
                        <FieldError messages=field_errors(error, "instances[1]") />
                    </div>
                    <div class="md:col-span-2">
                        <label for="pair-settings" class=LABEL>"Settings (JSON)"</label>
                        <textarea id="pair-settings" name="settings" rows="14" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{SETTINGS_TEMPLATE}</textarea>
                        <FieldError messages=field_errors(error, "settings") />
                    </div>
                    <div class="md:col-span-2">
                        <label for="pair-overlays" class=LABEL>"What differs for side A and side B (JSON merge patches; empty: nothing)"</label>
                        <textarea id="pair-overlays" name="overlays" rows="5" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{OVERLAYS_TEMPLATE}</textarea>
                        <FieldError messages=field_errors(error, "overlays") />
                        <FieldError messages=field_errors(error, "overlays[0]") />
                        <FieldError messages=field_errors(error, "overlays[1]") />
                    </div>
                    <div><button type="submit" class=BUTTON>"Create the pair"</button></div>
                </ActionForm>
            </details>
        </Section>
    }
}
