//! User management (admins only): create users, change roles, reset passwords, disable, delete.

use crate::components::{
    error_of, field_errors, minute, ActionError, EmptyState, FieldError, Layout, Section, BUTTON,
    BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::users::{list_users, CreateUser, DeleteUser, UpdateUser};
use domain::auth::Role;
use domain::users::UserSummary;
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let me = Resource::new(|| (), |_| crate::server_fns::auth::whoami());
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
            )
        },
        |_| list_users(),
    );
    let created = create.value();
    let error = error_of(created);

    view! {
        <Layout title="Users" admin_only=true>
            <Section title="Add a user" description="Admins change everything; auditors read everything, including the audit log, and change nothing.">
                <ActionForm action=create attr:class="grid gap-4 md:grid-cols-4 md:items-start">
                    <div class="md:col-span-4"><ActionError error /></div>
                    <div>
                        <label for="new-username" class=LABEL>"Username"</label>
                        <input id="new-username" name="username" required class=INPUT autocomplete="off" />
                        <FieldError messages=field_errors(error, "username") />
                    </div>
                    <div>
                        <label for="new-password" class=LABEL>"Initial password"</label>
                        <input id="new-password" name="password" type="password" required class=INPUT autocomplete="new-password" />
                        <p class="mt-1 text-xs text-slate-600">"At least 12 characters; the user can change it."</p>
                        <FieldError messages=field_errors(error, "password") />
                    </div>
                    <div>
                        <label for="new-role" class=LABEL>"Role"</label>
                        <select id="new-role" name="role" class=INPUT>
                            <option value="auditor">"auditor (read-only)"</option>
                            <option value="admin">"admin"</option>
                        </select>
                    </div>
                    <div class="md:pt-6"><button type="submit" class=BUTTON>"Add user"</button></div>
                </ActionForm>
            </Section>
            <ActionError error=error_of(update.value()) />
            <ActionError error=error_of(delete.value()) />
            <Section title="Users">
                <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading users…"</p> }>
                    {move || users.get().map(|result| (result, me.get().and_then(|m| m.ok().flatten()).map(|m| m.id))).map(|(result, me)| match result {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No users" body="Add the first user above." />
                        }.into_any(),
                        Ok(list) => view! { <UserTable list me update delete /> }.into_any(),
                        Err(error) => view! { <crate::components::ErrorBox error /> }.into_any(),
                    })}
                </Transition>
            </Section>
        </Layout>
    }
}

#[component]
fn UserTable(
    list: Vec<UserSummary>,
    /// The signed-in user's id: their own row cannot be deleted.
    me: Option<i64>,
    update: ServerAction<UpdateUser>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|user| {
            let is_me = me == Some(user.id);
            view! { <UserRow user is_me update delete /> }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto focus-visible:outline-2 focus-visible:outline-sky-600" tabindex="0">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead>
                    <tr class="text-left text-xs uppercase tracking-wide text-slate-600">
                        <th class="py-2 pr-4">"Username"</th>
                        <th class="py-2 pr-4">"Role"</th>
                        <th class="py-2 pr-4">"State"</th>
                        <th class="py-2 pr-4">"Last sign-in (UTC)"</th>
                        <th class="py-2">"Actions"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: UserSummary,
    is_me: bool,
    update: ServerAction<UpdateUser>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    let id = user.id;
    let other_role = match user.role {
        Role::Admin => Role::Auditor,
        _ => Role::Admin,
    };
    let (state, toggle_label, toggle_to) = if user.disabled {
        ("disabled", "Enable", "false")
    } else {
        ("active", "Disable", "true")
    };
    let last = user
        .last_login_at
        .as_deref()
        .map(minute)
        .unwrap_or_else(|| "never".into());
    view! {
        <tr data-testid="user-row">
            <td class="py-2 pr-4 font-medium">
                {user.username.clone()}
                {is_me.then(|| view! { <span class="ml-1 text-xs font-normal text-slate-600">"(you)"</span> })}
            </td>
            <td class="py-2 pr-4">{user.role.as_str()}</td>
            <td class="py-2 pr-4">{state}</td>
            <td class="py-2 pr-4 text-slate-600">{last}</td>
            <td class="py-2">
                <div class="flex flex-wrap items-center gap-2">
                    <ActionForm action=update>
                        <input type="hidden" name="id" value=id.to_string() />
                        <input type="hidden" name="update[role]" value=other_role.as_str() />
                        <button type="submit" class=BUTTON_SECONDARY>{format!("Make {other_role}")}</button>
                    </ActionForm>
                    <ActionForm action=update>
                        <input type="hidden" name="id" value=id.to_string() />
                        <input type="hidden" name="update[disabled]" value=toggle_to />
                        <button type="submit" class=BUTTON_SECONDARY>{toggle_label}</button>
                    </ActionForm>
                    <details class="relative">
                        <summary class=format!("{BUTTON_SECONDARY} cursor-pointer list-none")>"Reset password"</summary>
                        <ActionForm action=update attr:class="absolute z-10 mt-1 flex w-72 gap-2 rounded-md border border-slate-200 bg-white p-3 shadow-lg">
                            <input type="hidden" name="id" value=id.to_string() />
                            <input name="update[password]" type="password" required placeholder="New password" class=INPUT aria-label="New password" autocomplete="new-password" />
                            <button type="submit" class=BUTTON>"Set"</button>
                        </ActionForm>
                    </details>
                    {(!is_me).then(|| view! {
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=id.to_string() />
                            <button type="submit" class=BUTTON_DANGER>"Delete"</button>
                        </ActionForm>
                    })}
                </div>
            </td>
        </tr>
    }
}
