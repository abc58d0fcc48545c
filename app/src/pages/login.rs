//! Sign-in, and the one-time setup page that creates the first administrator.

use crate::components::{error_of, field_errors, ActionError, FieldError, BUTTON, INPUT, LABEL};
use crate::server_fns::auth::{Login, Setup};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A centred card on a plain background, for the pages seen before signing in.
#[component]
fn Card(heading: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-full flex-col justify-center px-6 py-12">
            <div class="mx-auto w-full max-w-sm">
                <div class="flex items-center justify-center gap-2">
                    <img src="/favicon.svg" alt="" class="h-9 w-9" />
                    <span class="text-2xl font-semibold tracking-tight">"Gatehouse"</span>
                </div>
                <h1 class="mt-6 text-center text-lg font-semibold text-slate-800">{heading}</h1>
                <div class="mt-6 rounded-lg border border-slate-200 bg-white px-6 py-6 shadow-sm">{children()}</div>
            </div>
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let value = login.value();
    let error = error_of(value);
    view! {
        <Title text="Sign in" />
        <Card heading="Sign in to the console">
            <ActionForm action=login attr:class="space-y-4">
                <ActionError error />
                <input type="hidden" name="next" value=next />
                <div>
                    <label for="username" class=LABEL>"Username"</label>
                    <input id="username" name="username" type="text" autocomplete="username" required autofocus class=INPUT />
                </div>
                <div>
                    <label for="password" class=LABEL>"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required class=INPUT />
                </div>
                <button type="submit" class=format!("{BUTTON} w-full") disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </Card>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let value = setup.value();
    let error = error_of(value);
    view! {
        <Title text="Set up" />
        <Card heading="Create the first administrator">
            <p class="mb-4 text-sm text-slate-600">
                "This one-time page was opened from the link the server printed at start. "
                "The account you create here can then add the other users."
            </p>
            <ActionForm action=setup attr:class="space-y-4">
                <ActionError error />
                <input type="hidden" name="token" value=token />
                <div>
                    <label for="username" class=LABEL>"Username"</label>
                    <input id="username" name="username" type="text" autocomplete="username" required class=INPUT />
                    <FieldError messages=field_errors(error, "username") />
                </div>
                <div>
                    <label for="password" class=LABEL>"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="new-password" required class=INPUT />
                    <p class="mt-1 text-xs text-slate-600">"At least 12 characters."</p>
                    <FieldError messages=field_errors(error, "password") />
                </div>
                <div>
                    <label for="confirm" class=LABEL>"Repeat the password"</label>
                    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required class=INPUT />
                    <FieldError messages=field_errors(error, "confirm") />
                </div>
                <button type="submit" class=format!("{BUTTON} w-full")>"Create administrator"</button>
            </ActionForm>
        </Card>
    }
}
