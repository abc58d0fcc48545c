//! The chain tool: a file of several certificates (a CA's bundle, a chain from a mail) split
//! into one PEM file each, named root, intermediate or leaf, in the order VOS takes them.

use crate::components::*;
use crate::server_fns::certificates::SplitChain;
use domain::certificates::chain::{Piece, Role, Split};
use leptos::prelude::*;

/// The largest file the page reads (a bundle is a few KiB; the server takes up to 1 MiB).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const FILE_LIMIT: f64 = 512.0 * 1024.0;

#[component]
pub fn ChainToolPage() -> impl IntoView {
    let action = ServerAction::<SplitChain>::new();
    let error = error_of(action.value());
    let text = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_bundle(&ev, text, note, "Split");
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, text, note);
    };
    let result = move || match action.value().get() {
        Some(Ok(split)) => Some(view! { <SplitView split /> }),
        _ => None,
    };
    view! {
        <Layout title="Chain tool">
            <div class="space-y-6">
                <Section title="Split a certificate bundle" description="Paste or pick a file holding several certificates (a CA's bundle such as Webex's CombinedCertChain2023.txt, a chain from a mail). Each certificate comes out as its own PEM file, named root, intermediate or leaf, in the order a VOS node takes them. Nothing is stored.">
                    <ActionForm action attr:class="space-y-3">
                        <ActionError error />
                        <div>
                            <label for="chain-file" class=LABEL>"File"</label>
                            <input id="chain-file" type="file" accept=".pem,.crt,.cer,.txt,.p7b,.der" on:change=on_file
                                class="mt-1 block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200" />
                            {move || note.get().map(|note| view! { <p class="mt-1 text-xs text-slate-600" data-testid="chain-file-note">{note}</p> })}
                        </div>
                        <label for="chain-text" class=LABEL>"Certificates (the file's content, or paste them here)"</label>
                        <textarea id="chain-text" name="text" rows="8" required class=format!("{INPUT} font-mono text-xs")
                            prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))
                            placeholder="-----BEGIN CERTIFICATE-----\nMIID…\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n…"></textarea>
                        <button type="submit" class=BUTTON>"Split"</button>
                    </ActionForm>
                </Section>
                {result}
            </div>
        </Layout>
    }
}

/// The bundle split: what to know first, then each certificate in upload order.
#[component]
fn SplitView(split: Split) -> impl IntoView {
    let n = split.pieces.len();
    let summary = format!(
        "{n} certificate{}, {}.",
        if n == 1 { "" } else { "s" },
        if split.complete {
            "each one's issuer in the file up to a root"
        } else {
            "the chain is incomplete"
        }
    );
    view! {
        <Section title="In upload order" description="Roots and intermediates go into tomcat-trust (set cert import trust tomcat), the node's own certificate into tomcat (set cert import own tomcat), in this order (seed 002). Upload CA certificates on the publisher: they replicate to the subscribers.">
            <p class="text-sm text-slate-800" data-testid="chain-summary">{summary}</p>
            {(!split.notes.is_empty()).then(|| view! {
                <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-amber-800" data-testid="chain-notes">
                    {split.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            })}
            <ol class="mt-4 space-y-3">
                {split.pieces.into_iter().map(|piece| view! { <PieceView piece /> }).collect_view()}
            </ol>
        </Section>
    }
}

#[component]
fn PieceView(piece: Piece) -> impl IntoView {
    let badge = match piece.role {
        Role::Root => "bg-indigo-100 text-indigo-800",
        Role::Intermediate => "bg-sky-100 text-sky-800",
        Role::Leaf => "bg-emerald-100 text-emerald-800",
        Role::SelfSigned => "bg-amber-100 text-amber-800",
    };
    let signed = match piece.issued_by {
        Some(by) if by == piece.order => "signed by itself".to_owned(),
        Some(by) => format!("signed by #{by}"),
        None => "its issuer is not in the file".to_owned(),
    };
    let name = piece
        .subject_cn
        .clone()
        .unwrap_or_else(|| piece.subject.clone());
    let href = format!("data:application/x-pem-file,{}", percent_encode(&piece.pem));
    view! {
        <li class="rounded-md border border-slate-200 p-3" data-testid="chain-piece">
            <div class="flex flex-wrap items-center gap-2">
                <span class="font-mono text-sm text-slate-600">{format!("#{}", piece.order)}</span>
                <span class=format!("rounded px-2 py-0.5 text-xs font-medium {badge}")>{piece.role.as_str()}</span>
                <span class="font-medium text-slate-900 break-all">{name}</span>
                <span class="text-xs text-slate-600">{format!("→ {}", piece.store)}</span>
                <a class="ml-auto inline-flex max-w-full items-center break-all rounded-md border border-slate-300 bg-white px-3 py-1.5 text-left text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50" href=href download=piece.file_name.clone()>{format!("Download {}", piece.file_name)}</a>
            </div>
            <dl class="mt-2 grid grid-cols-1 gap-x-4 gap-y-1 text-xs text-slate-700 sm:grid-cols-2">
                <div><dt class="inline text-slate-600">"Issuer: "</dt><dd class="inline break-all">{piece.issuer_cn.clone().unwrap_or_default()}" ("{signed}")"</dd></div>
                <div><dt class="inline text-slate-600">"Valid: "</dt>
                    <dd class=if piece.expired { "inline text-red-700" } else { "inline" }>{format!("{} to {}{}", &piece.not_before[..10.min(piece.not_before.len())], &piece.not_after[..10.min(piece.not_after.len())], if piece.expired { " (expired)" } else { "" })}</dd></div>
                <div class="sm:col-span-2"><dt class="inline text-slate-600">"SHA-256: "</dt><dd class="inline font-mono break-all">{piece.fingerprint_sha256.clone()}</dd></div>
                <div class="sm:col-span-2"><dt class="inline text-slate-600">"Position in the file: "</dt><dd class="inline">{piece.position}</dd></div>
            </dl>
            <details class="mt-2">
                <summary class="cursor-pointer text-xs text-slate-700">"PEM"</summary>
                <pre class="mt-1 overflow-x-auto rounded bg-slate-50 p-2 text-xs">{piece.pem.clone()}</pre>
            </details>
        </li>
    }
}

/// `text` for a `data:` URL: letters, digits and `-_.` as they are, everything else `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Loads the picked file into the text box (in the browser; nothing is sent yet). A binary
/// file is DER or PKCS#7: said so with the conversion, since the text box holds PEM.
#[cfg(feature = "hydrate")]
/// Reads a picked PEM file into `text` (binary files told apart with their conversion); `press`
/// names the button that takes it from there.
pub(crate) fn read_bundle(
    ev: &leptos::ev::Event,
    text: RwSignal<String>,
    note: RwSignal<Option<String>>,
    press: &'static str,
) {
    let too_large = |name: &str, size: f64| {
        format!(
            "{name} is {:.0} KiB: a certificate bundle is a few KiB. Nothing was loaded.",
            size / 1024.0
        )
    };
    crate::components::read_picked_file(ev, FILE_LIMIT, too_large, note, move |name, bytes| {
        match String::from_utf8(bytes) {
            Ok(content) if !content.starts_with('0') && !content.contains('\0') => {
                text.set(content);
                note.set(Some(format!("{name} loaded: press {press}.")));
            }
            _ => note.set(Some(format!(
                "{name} is binary: a DER certificate or a PKCS#7 bundle (.p7b), not PEM text. Convert it with `openssl x509 -inform der -in {name} -out cert.pem` (one certificate) or `openssl pkcs7 -inform der -print_certs -in {name} -out chain.pem` (a bundle), then pick the .pem file."
            ))),
        }
    });
}
