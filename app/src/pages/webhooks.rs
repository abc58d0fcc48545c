//! Webhooks: where alert state transitions are sent (admins add and remove receivers), and the
//! delivery log (every attempt's outcome, what is still being retried).

use crate::components::certs::StateBadge;
use crate::components::{
    error_of, field_errors, minute, ActionError, ErrorBox, FieldError, Layout, Section, Table,
    BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::webhooks::{load_webhooks, AddWebhook, RemoveWebhook, TestWebhook};
use domain::webhooks::{Delivery, Webhook};
use leptos::prelude::*;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let remove = ServerAction::<RemoveWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let data = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| load_webhooks(),
    );
    let me = Resource::new(|| (), |_| whoami());
    let is_admin = move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    };
    let error = error_of(add.value());
    view! {
        <Layout title="Webhooks">
            <Transition fallback=|| ()>
                {move || is_admin().then(|| view! {
                    <Section title="Add a webhook" description="Each receiver gets one message per transition: a certificate on an endpoint turning warning, critical or expired, back to ok, or no longer served. Never one per scan; muted alerts stay quiet.">
                        <ActionForm action=add attr:class="grid gap-4 md:grid-cols-4 md:items-start">
                            <div class="md:col-span-4"><ActionError error /></div>
                            <div>
                                <label for="webhook-name" class=LABEL>"Name"</label>
                                <input id="webhook-name" name="name" required class=INPUT placeholder="ops-channel" autocomplete="off" />
                                <FieldError messages=field_errors(error, "name") />
                            </div>
                            <div class="md:col-span-2">
                                <label for="webhook-url" class=LABEL>"URL"</label>
                                <input id="webhook-url" name="url" type="url" required class=INPUT placeholder="https://hooks.example.com/gatehouse" autocomplete="off" />
                                <FieldError messages=field_errors(error, "url") />
                            </div>
                            <div>
                                <label for="webhook-format" class=LABEL>"Body"</label>
                                <select id="webhook-format" name="format" class=INPUT>
                                    <option value="json">"JSON (Gatehouse)"</option>
                                    <option value="slack">"Slack-compatible text"</option>
                                </select>
                            </div>
                            <div class="md:col-span-4"><button type="submit" class=BUTTON>"Add webhook"</button></div>
                        </ActionForm>
                    </Section>
                })}
            </Transition>
            <ActionError error=error_of(remove.value()) />
            <ActionError error=error_of(test.value()) />
            {move || test.value().get().and_then(Result::ok).map(|r| view! {
                <p role="status" data-testid="webhook-test-result"
                    class=if r.delivered { "rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" } else { "rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800" }>
                    {r.message}
                </p>
            })}
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading webhooks…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(overview) => view! {
                        <Receivers webhooks=overview.webhooks admin=is_admin() remove test />
                        <DeliveryLog deliveries=overview.deliveries />
                    }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn Receivers(
    webhooks: Vec<Webhook>,
    admin: bool,
    remove: ServerAction<RemoveWebhook>,
    test: ServerAction<TestWebhook>,
) -> impl IntoView {
    view! {
        <Section title="Receivers">
            {if webhooks.is_empty() {
                view! { <p class="text-sm text-slate-600">"No webhooks yet: alert transitions are only shown in the console and in /api/v1/alerts."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {webhooks.into_iter().map(|w| view! {
                            <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-testid="webhook">
                                <span>
                                    <span class="font-medium">{w.name.clone()}</span>
                                    <span class="ml-2 break-all font-mono text-xs text-slate-600">{w.url.clone()}</span>
                                    <span class="ml-2 text-xs text-slate-600">{format!("{} · added by {} on {}", w.format, w.created_by, minute(&w.created_at))}</span>
                                </span>
                                {admin.then(|| view! {
                                    <span class="flex gap-2">
                                        <ActionForm action=test>
                                            <input type="hidden" name="id" value=w.id.to_string() />
                                            <button type="submit" class=BUTTON_SECONDARY title="Sends one message now; not queued, not retried">"Send a test message"</button>
                                        </ActionForm>
                                        <ActionForm action=remove>
                                            <input type="hidden" name="id" value=w.id.to_string() />
                                            <button type="submit" class=BUTTON_DANGER>"Remove"</button>
                                        </ActionForm>
                                    </span>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Section>
    }
    .into_any()
}

fn delivery_outcome(d: &Delivery) -> String {
    match d.state.as_str() {
        "delivered" => format!(
            "delivered {} UTC (HTTP {})",
            minute(&d.delivered_at.clone().unwrap_or_default()),
            d.last_status.unwrap_or_default()
        ),
        "pending" if d.attempts == 0 => "queued".to_owned(),
        "pending" => format!(
            "attempt {} failed: {}; next try {} UTC",
            d.attempts,
            d.last_error.clone().unwrap_or_default(),
            minute(&d.next_attempt_at)
        ),
        _ => format!(
            "gave up after {} attempts: {}",
            d.attempts,
            d.last_error.clone().unwrap_or_default()
        ),
    }
}

#[component]
fn DeliveryLog(deliveries: Vec<Delivery>) -> impl IntoView {
    view! {
        <Section title="Delivery log" description="The latest 100 deliveries, newest first. Failed deliveries are retried after 30 s, 2 min, 8 min, 32 min, about 2 h, then every 6 h, up to 8 attempts.">
            {if deliveries.is_empty() {
                view! { <p class="text-sm text-slate-600">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <Table headers=&["When (UTC)", "Webhook", "Transition", "Where", "Outcome"]>
                                {deliveries.into_iter().map(|d| {
                                    let outcome = delivery_outcome(&d);
                                    let failed = d.state != "delivered";
                                    view! {
                                        <tr data-testid="delivery" data-state=d.state.clone()>
                                            <td class="py-1.5 pr-3 whitespace-nowrap">{minute(&d.created_at)}</td>
                                            <td class="py-1.5 pr-3">{d.webhook.clone()}</td>
                                            <td class="py-1.5 pr-3 whitespace-nowrap">
                                                <span class="text-xs text-slate-600">{d.from_state.clone().unwrap_or_else(|| "new".into())}" → "</span>
                                                {if d.to_state == "gone" { view! { <span class="text-xs">"no longer served"</span> }.into_any() } else { view! { <StateBadge state=d.to_state.clone() /> }.into_any() }}
                                            </td>
                                            <td class="py-1.5 pr-3 font-mono text-xs">{format!("{}:{} {}", d.fqdn.clone().unwrap_or_default(), d.port.unwrap_or_default(), d.subject_cn.clone().unwrap_or_default())}</td>
                                            <td class=if failed { "py-1.5 text-red-700" } else { "py-1.5 text-slate-700" }>{outcome}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </Table>
                }.into_any()
            }}
        </Section>
    }
    .into_any()
}
