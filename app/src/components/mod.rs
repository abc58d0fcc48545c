//! Pieces every page uses: the frame with navigation, empty states, error boxes.

pub mod certs;
pub mod editor;
mod layout;
pub use layout::{Layout, Section};

use crate::error::AppError;
use leptos::prelude::*;

/// What a page says when it has nothing to show yet, and what will appear there.
#[component]
pub fn EmptyState(
    title: &'static str,
    #[prop(into)] body: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
            <h2 class="text-base font-semibold text-slate-800">{title}</h2>
            <p class="mx-auto mt-2 max-w-xl text-sm text-slate-600">{body}</p>
            {children.map(|c| view! { <div class="mt-4">{c()}</div> })}
        </div>
    }
}

/// An error from the server, in words a user can act on.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let text = if error.is_invalid() {
        "Some fields need attention (see below).".to_owned()
    } else {
        error.to_string()
    };
    view! {
        <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
            {text}
        </div>
    }
}

/// The messages for one form field, under the field.
#[component]
pub fn FieldError(#[prop(into)] messages: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <For each=move || messages.get() key=|m| m.clone() let:message>
            <p class="mt-1 text-xs text-red-700">{message}</p>
        </For>
    }
}

/// The error of an action's last run, if it failed.
pub fn error_of<T, V>(value: V) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// Opens the plan page once an action has made a plan (`made`: its value, the plan's id).
pub fn open_plan_when_made<V>(made: V)
where
    V: Get<Value = Option<Result<i64, AppError>>> + Send + Sync + 'static,
{
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(plan)) = made.get() {
            navigate(&format!("/plans/{plan}"), Default::default());
        }
    });
}

/// The messages for `field` in an action's last error (empty when none).
pub fn field_errors(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Vec<String>> {
    Signal::derive(move || {
        error
            .get()
            .map(|e| e.field_messages(field))
            .unwrap_or_default()
    })
}

/// Shows an action's error, if its last run failed.
#[component]
pub fn ActionError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || error.get().map(|error| view! { <ErrorBox error /> })
}

/// A table of rows under column headings; scrolls sideways on narrow windows.
#[component]
pub fn Table(headers: &'static [&'static str], children: Children) -> impl IntoView {
    view! {
        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
            <table class="min-w-full text-sm">
                <thead>
                    <tr class="text-left text-xs uppercase tracking-wide text-slate-600">
                        {headers.iter().map(|h| view! { <th class="py-1 pr-3">{*h}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{children()}</tbody>
            </table>
        </div>
    }
}

/// Bumps `tick` (the source of a resource) `every` seconds after each answer, for as long as
/// the page is open: pages that show what changes by itself ask again.
pub fn ask_again(tick: RwSignal<u32>, every: u64, answered: impl Fn() -> bool + 'static) {
    Effect::new(move |_| {
        if answered() {
            set_timeout(
                move || tick.update(|t| *t = t.wrapping_add(1)),
                std::time::Duration::from_secs(every),
            );
        }
    });
}

/// An RFC 3339 time as `YYYY-MM-DD HH:MM` (UTC), the precision a person reads.
pub fn minute(rfc3339: &str) -> String {
    rfc3339
        .chars()
        .take(16)
        .collect::<String>()
        .replace('T', " ")
}

pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
pub const LABEL: &str = "block text-sm font-medium text-slate-700";
pub const BUTTON: &str = "inline-flex whitespace-nowrap items-center justify-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 disabled:opacity-50";
pub const BUTTON_SECONDARY: &str = "inline-flex whitespace-nowrap items-center justify-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50";
pub const BUTTON_DANGER: &str = "inline-flex whitespace-nowrap items-center justify-center rounded-md border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-700 shadow-sm hover:bg-red-50";

/// The route's numeric parameter `name` (`/nodes/:id`), 0 when it is not a number (no record
/// has id 0: the page then says that it found nothing).
pub fn param_id(name: &'static str) -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        params
            .read()
            .get(name)
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    }
}

/// Reads the file picked in the `<input type="file">` an event came from, in the browser:
/// refused with `too_large(name, size)` in `note` when over `limit` bytes, else "Reading…"
/// until `then(name, bytes)` gets its content (or `note` says it could not be read).
#[cfg(feature = "hydrate")]
pub fn read_picked_file(
    ev: &leptos::ev::Event,
    limit: f64,
    too_large: impl FnOnce(&str, f64) -> String,
    note: RwSignal<Option<String>>,
    then: impl FnOnce(String, Vec<u8>) + 'static,
) {
    let Some(file) = picked_file(ev) else {
        return;
    };
    let name = file.name();
    if file.size() > limit {
        note.set(Some(too_large(&name, file.size())));
        return;
    }
    note.set(Some(format!("Reading {name}…")));
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => then(name, web_sys::js_sys::Uint8Array::new(&buffer).to_vec()),
            Err(_) => note.set(Some(format!("{name} could not be read."))),
        }
    });
}

/// The file picked in the `<input type="file">` an event came from, if one was.
#[cfg(feature = "hydrate")]
pub fn picked_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    use web_sys::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
}
