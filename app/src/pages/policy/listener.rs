//! A proxy's certificate read from its listener: the admin names `host:port`, the console makes
//! a TLS handshake there and puts the certificate it was shown into the proxy's field, with its
//! fingerprint to compare with the proxy's own before saving (the network between could have
//! shown another).

use crate::components::{
    error_of, field_errors, minute, ActionError, FieldError, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::policy::ReadListenerCertificate;
use leptos::prelude::*;

#[component]
pub fn ListenerReader(
    /// The field the certificate goes to.
    certificate: RwSignal<String>,
    /// The proxy's names, the first of which is offered as the listener.
    hosts: RwSignal<String>,
    /// Marks the form edited once a certificate is filled in.
    edited: RwSignal<bool>,
    id: String,
) -> impl IntoView {
    let read = ServerAction::<ReadListenerCertificate>::new();
    let listener = RwSignal::new(String::new());
    let offered = move || {
        let first = hosts.get();
        let first = first
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("proxy-a.example.com");
        format!("{first}:443")
    };
    Effect::new(move |_| {
        if let Some(Ok(found)) = read.value().get() {
            certificate.set(found.pem.clone());
            edited.set(true);
        }
    });
    let error = error_of(read.value());
    let ask = move |_| {
        let typed = listener.get_untracked();
        let listener = if typed.trim().is_empty() {
            offered()
        } else {
            typed
        };
        read.dispatch(ReadListenerCertificate { listener });
    };
    view! {
        <div class="mt-2 flex flex-wrap items-end gap-2">
            <div class="min-w-56 flex-1">
                <label for=id.clone() class=LABEL>"Or read it from its listener (host:port)"</label>
                <input id=id class=format!("{INPUT} font-mono") placeholder=offered prop:value=move || listener.get()
                    on:input=move |ev| listener.set(event_target_value(&ev)) />
            </div>
            <button type="button" class=BUTTON_SECONDARY on:click=ask disabled=move || read.pending().get()>
                {move || if read.pending().get() { "Reading…" } else { "Read its certificate" }}
            </button>
        </div>
        {move || read.value().get().and_then(Result::ok).map(|found| view! {
            <p class="mt-1 text-xs text-amber-900" data-testid="listener-certificate">
                {format!("Read from {}: {}, valid until {} UTC. SHA-256 ", found.listener, found.subject, minute(&found.not_after))}
                <code class="break-all">{found.fingerprint}</code>
                ". Compare it with the proxy's own (openssl x509 -noout -fingerprint -sha256 on the proxy) before saving: whoever answered at that address chose what was shown."
            </p>
        })}
        <FieldError messages=field_errors(error, "listener") />
        <FieldError messages=field_errors(error, "host") />
        <ActionError error />
    }
}
