//! Settings index: the areas an admin manages, and the user's own account.

use crate::components::Layout;
use crate::server_fns::auth::whoami;
use leptos::prelude::*;

#[component]
fn Tile(href: &'static str, title: &'static str, body: &'static str) -> impl IntoView {
    view! {
        <a href=href class="block rounded-lg border border-slate-200 bg-white p-5 shadow-sm hover:border-indigo-300">
            <h2 class="text-sm font-semibold text-slate-800">{title}</h2>
            <p class="mt-1 text-sm text-slate-600">{body}</p>
        </a>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <Layout title="Settings">
            <div class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
                <Tile href="/settings/account" title="Your account" body="Change your password." />
                <Tile href="/settings/webhooks" title="Webhooks" body="Where alert transitions are sent (JSON or Slack), and the delivery log." />
                <Suspense fallback=|| ()>
                    {move || {
                        let admin = user.get().and_then(|u| u.ok().flatten()).is_some_and(|u| u.is_admin());
                        admin.then(|| view! {
                            <Tile href="/settings/users" title="Users" body="Create users, change roles, reset passwords, disable accounts." />
                            <Tile href="/settings/tokens" title="API tokens" body="Tokens for automation and monitoring, with a role and an expiry." />
                        })
                    }}
                </Suspense>
            </div>
        </Layout>
    }
}
