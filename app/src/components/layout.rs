//! The console's frame: navigation on the left, the signed-in user and sign-out on top.

use crate::server_fns::auth::{whoami, Logout};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

struct NavItem {
    href: &'static str,
    label: &'static str,
}

const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "Dashboard",
    },
    NavItem {
        href: "/inventory",
        label: "Inventory",
    },
    NavItem {
        href: "/certificates",
        label: "Certificates",
    },
    NavItem {
        href: "/proxy-map",
        label: "Proxy map",
    },
    NavItem {
        href: "/access-policy",
        label: "Access policy",
    },
    NavItem {
        href: "/proxies",
        label: "Proxies",
    },
    NavItem {
        href: "/agents",
        label: "Connected agents",
    },
    NavItem {
        href: "/audit",
        label: "Audit",
    },
    NavItem {
        href: "/settings",
        label: "Settings",
    },
];

fn is_current(path: &str, href: &str) -> bool {
    if href == "/" {
        path == "/"
    } else {
        path == href || path.starts_with(&format!("{href}/"))
    }
}

/// A titled block of a page.
#[component]
pub fn Section(
    title: &'static str,
    #[prop(optional, into)] description: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="border-b border-slate-200 px-5 py-3">
                <h2 class="text-sm font-semibold text-slate-800">{title}</h2>
                {description.map(|d| view! { <p class="mt-0.5 text-xs text-slate-600">{d}</p> })}
            </div>
            <div class="px-5 py-4">{children()}</div>
        </section>
    }
}

/// Every signed-in page. `admin_only` pages answer 403 with an explanation to other roles.
#[component]
pub fn Layout(
    title: &'static str,
    #[prop(optional)] admin_only: bool,
    children: ChildrenFn,
) -> impl IntoView {
    // Blocking: the response's status (403 on admin-only pages) is decided by who the user
    // is, and a status can only be set before the page starts to stream.
    let user = Resource::new_blocking(|| (), |_| whoami());
    let logout = ServerAction::<Logout>::new();
    let location = use_location();
    let children = StoredValue::new(children);

    let nav = move || {
        let path = location.pathname.get();
        NAV.iter()
            .map(|item| {
                let class = if is_current(&path, item.href) {
                    "block rounded-md bg-slate-800 px-3 py-2 text-sm font-medium text-white"
                } else {
                    "block rounded-md px-3 py-2 text-sm text-slate-300 hover:bg-slate-800 hover:text-white"
                };
                view! { <li><a href=item.href class=class>{item.label}</a></li> }
            })
            .collect_view()
    };

    view! {
        <Title text=title />
        <div class="flex min-h-full flex-col md:flex-row">
            <nav aria-label="Main" class="bg-slate-900 md:w-56 md:shrink-0">
                <div class="flex items-center gap-2 px-4 py-4">
                    <img src="/favicon.svg" alt="" class="h-7 w-7" />
                    <span class="text-lg font-semibold tracking-tight text-white">"Gatehouse"</span>
                </div>
                <Transition fallback=|| ()>
                    <ul class="flex flex-wrap gap-1 px-2 pb-3 md:flex-col md:flex-nowrap">
                        {move || user.get().map(|_| nav())}
                    </ul>
                </Transition>
            </nav>
            <div class="flex min-w-0 flex-1 flex-col">
                <header class="flex items-center justify-between gap-4 border-b border-slate-200 bg-white px-6 py-3">
                    <h1 class="truncate text-lg font-semibold text-slate-900">{title}</h1>
                    <Transition fallback=|| ()>
                        {move || {
                            user.get()
                                .and_then(|u| u.ok().flatten())
                                .map(|me| {
                                    view! {
                                        <div class="flex items-center gap-3 text-sm">
                                            <span class="text-slate-700" data-testid="whoami">{me.username.clone()}</span>
                                            <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600">
                                                {me.role.as_str()}
                                            </span>
                                            <ActionForm action=logout>
                                                <button type="submit" class="text-slate-600 underline-offset-2 hover:text-slate-900 hover:underline">
                                                    "Sign out"
                                                </button>
                                            </ActionForm>
                                        </div>
                                    }
                                })
                        }}
                    </Transition>
                </header>
                <main class="flex-1 space-y-6 px-6 py-6">
                    <Suspense fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
                        {move || {
                            user.get()
                                .map(|u| match u {
                                    Ok(Some(me)) if admin_only && !me.is_admin() => {
                                        forbidden_status();
                                        view! { <Forbidden role=me.role.as_str() /> }.into_any()
                                    }
                                    Ok(Some(_)) => children.with_value(|c| c()).into_any(),
                                    Ok(None) => view! {
                                        <p class="text-sm">"Your session has ended. "<a class="text-indigo-700 underline" href="/login">"Sign in again"</a></p>
                                    }
                                    .into_any(),
                                    Err(error) => view! { <crate::components::ErrorBox error /> }.into_any(),
                                })
                        }}
                    </Suspense>
                </main>
            </div>
        </div>
    }
}

/// Explains why the page is closed to this role.
#[component]
fn Forbidden(role: &'static str) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-lg border border-amber-200 bg-amber-50 px-5 py-4 text-sm text-amber-900">
            <p class="font-semibold">"Admins only"</p>
            <p class="mt-1">
                "Your role (" {role} ") can read the console but not manage users or tokens. "
                "Ask an admin if you need a change."
            </p>
        </div>
    }
}

fn forbidden_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
}
