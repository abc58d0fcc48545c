//! The signed-in user's own account: change the password. The policy check runs in the browser
//! as you type (the same function the server uses to decide).

use crate::components::{
    error_of, field_errors, ActionError, FieldError, Layout, Section, BUTTON, INPUT, LABEL,
};
use crate::server_fns::auth::{whoami, ChangePassword};
use domain::auth::check_new_password;
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    let change = ServerAction::<ChangePassword>::new();
    let value = change.value();
    let error = error_of(value);
    let new_password = RwSignal::new(String::new());
    let username = move || {
        user.get()
            .and_then(|u| u.ok().flatten())
            .map(|u| u.username)
            .unwrap_or_default()
    };
    let hint = move || {
        let password = new_password.get();
        if password.is_empty() {
            return None;
        }
        Some(match check_new_password(&username(), &password) {
            Ok(()) => (
                "mt-1 text-xs text-emerald-700",
                "Meets the policy.".to_owned(),
            ),
            Err(message) => ("mt-1 text-xs text-amber-700", message),
        })
        .map(|(class, text)| view! { <p class=class data-testid="password-hint">{text}</p> })
    };
    let done = move || matches!(value.get(), Some(Ok(())));

    view! {
        <Layout title="Your account">
            <Section title="Change password" description="Your other sessions end when the password changes.">
                <ActionForm action=change attr:class="max-w-md space-y-4">
                    <ActionError error />
                    <Show when=done>
                        <div role="status" class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                            "Password changed."
                        </div>
                    </Show>
                    <div>
                        <label for="current" class=LABEL>"Current password"</label>
                        <input id="current" name="current" type="password" autocomplete="current-password" required class=INPUT />
                        <FieldError messages=field_errors(error, "current") />
                    </div>
                    <div>
                        <label for="new_password" class=LABEL>"New password"</label>
                        <input id="new_password" name="new_password" type="password" autocomplete="new-password" required class=INPUT
                            on:input=move |ev| new_password.set(event_target_value(&ev)) />
                        {hint}
                        <FieldError messages=field_errors(error, "new_password") />
                    </div>
                    <div>
                        <label for="confirm" class=LABEL>"Repeat the new password"</label>
                        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required class=INPUT />
                        <FieldError messages=field_errors(error, "confirm") />
                    </div>
                    <button type="submit" class=BUTTON>"Change password"</button>
                </ActionForm>
            </Section>
        </Layout>
    }
}
