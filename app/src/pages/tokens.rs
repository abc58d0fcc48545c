//! API tokens (admins only): create one (its secret is shown once), see when each was last
//! used, revoke.

use crate::components::{
    error_of, field_errors, ActionError, EmptyState, FieldError, Layout, Section, BUTTON,
    BUTTON_DANGER, INPUT, LABEL,
};
use crate::server_fns::tokens::{list_tokens, CreateToken, RevokeToken};
use domain::tokens::TokenSummary;
use leptos::prelude::*;

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let created = create.value();
    let error = error_of(created);
    let secret = move || match created.get() {
        Some(Ok(token)) => Some(view! {
            <div role="status" class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">
                <p class="font-semibold">"Copy this token now: it is not shown again."</p>
                <code data-testid="new-token" class="mt-2 block select-all break-all rounded bg-white px-2 py-1 font-mono text-xs">{token.token}</code>
            </div>
        }),
        _ => None,
    };

    view! {
        <Layout title="API tokens" admin_only=true>
            <Section title="Create a token" description="Send it as 'Authorization: Bearer <token>'. monitor: metrics and alerts only; auditor: reads everything; admin: everything.">
                <ActionForm action=create attr:class="grid gap-4 md:grid-cols-4 md:items-start">
                    <div class="space-y-2 md:col-span-4"><ActionError error />{secret}</div>
                    <div>
                        <label for="token-name" class=LABEL>"Name"</label>
                        <input id="token-name" name="name" required class=INPUT placeholder="prometheus" autocomplete="off" />
                        <FieldError messages=field_errors(error, "name") />
                    </div>
                    <div>
                        <label for="token-role" class=LABEL>"Role"</label>
                        <select id="token-role" name="role" class=INPUT>
                            <option value="monitor">"monitor"</option>
                            <option value="auditor">"auditor"</option>
                            <option value="admin">"admin"</option>
                        </select>
                    </div>
                    <div>
                        <label for="token-expiry" class=LABEL>"Expires (optional)"</label>
                        <input id="token-expiry" name="expires_at" type="date" class=INPUT />
                        <FieldError messages=field_errors(error, "expires_at") />
                    </div>
                    <div class="md:pt-6"><button type="submit" class=BUTTON>"Create token"</button></div>
                </ActionForm>
            </Section>
            <ActionError error=error_of(revoke.value()) />
            <Section title="Tokens">
                <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading tokens…"</p> }>
                    {move || tokens.get().map(|result| match result {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No tokens" body="Monitoring systems need a monitor token to read /metrics and /api/v1/alerts." />
                        }.into_any(),
                        Ok(list) => view! { <TokenTable list revoke /> }.into_any(),
                        Err(error) => view! { <crate::components::ErrorBox error /> }.into_any(),
                    })}
                </Transition>
            </Section>
        </Layout>
    }
}

fn day(value: &Option<String>) -> String {
    value
        .as_deref()
        .map(|t| t.chars().take(10).collect())
        .unwrap_or_else(|| "—".into())
}

#[component]
fn TokenTable(list: Vec<TokenSummary>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|t| {
            let state = if t.revoked { "revoked" } else if t.expired { "expired" } else { "active" };
            let id = t.id;
            view! {
                <tr data-testid="token-row">
                    <td class="py-2 pr-4 font-medium">{t.name.clone()}</td>
                    <td class="py-2 pr-4">{t.role.as_str()}</td>
                    <td class="py-2 pr-4 font-mono text-xs">{format!("{}…", t.hint)}</td>
                    <td class="py-2 pr-4">{state}</td>
                    <td class="py-2 pr-4 text-slate-600">{day(&Some(t.created_at.clone()))}" by "{t.created_by.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="py-2 pr-4 text-slate-600">{day(&t.expires_at)}</td>
                    <td class="py-2 pr-4 text-slate-600">{day(&t.last_used_at)}</td>
                    <td class="py-2">
                        {(!t.revoked).then(|| view! {
                            <ActionForm action=revoke>
                                <input type="hidden" name="id" value=id.to_string() />
                                <button type="submit" class=BUTTON_DANGER>"Revoke"</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead>
                    <tr class="text-left text-xs uppercase tracking-wide text-slate-600">
                        <th class="py-2 pr-4">"Name"</th><th class="py-2 pr-4">"Role"</th><th class="py-2 pr-4">"Starts with"</th>
                        <th class="py-2 pr-4">"State"</th><th class="py-2 pr-4">"Created"</th><th class="py-2 pr-4">"Expires"</th>
                        <th class="py-2 pr-4">"Last used"</th><th class="py-2"></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
    }
}
