//! The pair page's forms: a ban for both instances, the settings.

use crate::components::{
    error_of, field_errors, ActionError, FieldError, Section, BUTTON, INPUT, LABEL,
};
use crate::server_fns::proxies::PairForms;
use crate::server_fns::proxies::{AddProxyBan, SavePairSettings};
use leptos::prelude::*;

/// The forms of the pair page (admins): a ban ordered for both instances, the settings.
#[component]
pub(super) fn PairForms(
    forms: PairForms,
    id: i64,
    admin: bool,
    ban: ServerAction<AddProxyBan>,
    save: ServerAction<SavePairSettings>,
) -> impl IntoView {
    let error = error_of(ban.value());
    let PairForms {
        instance: _,
        settings,
        overlays,
    } = forms.clone();
    view! {
        {admin.then(|| view! {
            <Section title="Ban an address" description="Both instances ban it with their next pull (within a second while they follow the console). An address, an IPv6 /64 written as its network, or account:<login ID>.">
                <ActionForm action=ban attr:class="grid gap-4 md:grid-cols-4 md:items-start">
                    <input type="hidden" name="instance" value=forms.instance.to_string() />
                    <div class="md:col-span-4"><ActionError error /></div>
                    <div>
                        <label for="ban-ip" class=LABEL>"Address"</label>
                        <input id="ban-ip" name="ip" required class=INPUT placeholder="203.0.113.9" autocomplete="off" />
                        <FieldError messages=field_errors(error, "ip") />
                    </div>
                    <div>
                        <label for="ban-minutes" class=LABEL>"Minutes"</label>
                        <input id="ban-minutes" name="minutes" required class=INPUT value="30" inputmode="numeric" />
                        <FieldError messages=field_errors(error, "minutes") />
                    </div>
                    <div>
                        <label for="ban-reason" class=LABEL>"Reason"</label>
                        <input id="ban-reason" name="reason" required class=INPUT placeholder="scanning the desktop" />
                        <FieldError messages=field_errors(error, "reason") />
                    </div>
                    <div class="md:pt-6"><button type="submit" class=BUTTON>"Ban on both instances"</button></div>
                </ActionForm>
            </Section>
        })}
        <SettingsView pair_id=id settings overlays admin save />
    }
}

/// A pair's settings and overlays: edited by admins (taking effect with the next plan applied),
/// shown to auditors.
#[component]
fn SettingsView(
    pair_id: i64,
    settings: String,
    overlays: String,
    admin: bool,
    save: ServerAction<SavePairSettings>,
) -> impl IntoView {
    let error = error_of(save.value());
    let saved = move || {
        matches!(save.value().get(), Some(Ok(_))).then(|| view! {
            <p role="status" class="text-sm text-emerald-800">"Saved. Plan the configuration to see what changes for each instance."</p>
        })
    };
    view! {
        <Section title="Settings" description="What the next plan makes the configuration from, besides the map's routes and the trust: listeners and their certificate files, forwarders, authentication, limits, bans, timeouts, the client certificate, the status ports; and what differs per side. Saving changes nothing on the instances; a ready plan made before is withdrawn.">
            {if admin {
                view! {
                    <ActionForm action=save attr:class="space-y-3">
                        <input type="hidden" name="id" value=pair_id.to_string() />
                        <ActionError error />
                        {saved}
                        <div>
                            <label for="edit-settings" class=LABEL>"Settings (JSON)"</label>
                            <textarea id="edit-settings" name="settings" rows="16" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{settings}</textarea>
                            <FieldError messages=field_errors(error, "settings") />
                        </div>
                        <div>
                            <label for="edit-overlays" class=LABEL>"What differs for side A and side B (JSON merge patches)"</label>
                            <textarea id="edit-overlays" name="overlays" rows="8" spellcheck="false" class=format!("{INPUT} font-mono text-xs")>{overlays}</textarea>
                            <FieldError messages=field_errors(error, "overlays") />
                            <FieldError messages=field_errors(error, "overlays[0]") />
                            <FieldError messages=field_errors(error, "overlays[1]") />
                        </div>
                        <button type="submit" class=BUTTON>"Save the settings"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <pre class="overflow-x-auto rounded bg-slate-50 p-3 text-xs">{settings}</pre>
                    <pre class="mt-2 overflow-x-auto rounded bg-slate-50 p-3 text-xs">{overlays}</pre>
                }.into_any()
            }}
        </Section>
    }
}
