//! The clusters behind one proxy pair share one policy: which clusters share this one, and
//! (admins) following another cluster's policy or leaving a shared one with a copy.

use crate::components::{ErrorBox, Section, BUTTON_SECONDARY, INPUT, LABEL};
use crate::server_fns::policy::{FollowPolicy, LeavePolicy};
use leptos::prelude::*;

#[component]
pub fn Sharing(
    cluster_id: i64,
    shared_with: Vec<String>,
    candidates: Vec<(i64, String)>,
    admin: bool,
    follow: ServerAction<FollowPolicy>,
    leave: ServerAction<LeavePolicy>,
) -> impl IntoView {
    let shared = !shared_with.is_empty();
    let summary = if shared {
        format!(
            "This policy is shared with {}: the clusters behind the same proxy pair. A save here changes it for all of them, and a plan covers all their nodes.",
            shared_with.join(", ")
        )
    } else {
        "This cluster's policy is its own. Clusters behind the same proxy pair can share one policy.".to_owned()
    };
    let errors = move || {
        let failed = follow.value().get().and_then(Result::err);
        failed
            .or_else(|| leave.value().get().and_then(Result::err))
            .map(|error| view! { <ErrorBox error /> })
    };
    let controls = match (admin, shared, candidates.is_empty()) {
        (false, ..) => ().into_any(),
        (true, true, _) => view! {
            <ActionForm action=leave>
                <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                <button type="submit" class=BUTTON_SECONDARY>"Stop sharing: keep a copy"</button>
            </ActionForm>
        }
        .into_any(),
        (true, false, true) => view! {
            <p class="text-sm text-slate-600">"No other cluster has a saved policy to follow yet."</p>
        }
        .into_any(),
        (true, false, false) => view! {
            <ActionForm action=follow attr:class="flex flex-wrap items-end gap-3">
                <input type="hidden" name="cluster_id" value=cluster_id.to_string() />
                <div>
                    <label for="follow-leader" class=LABEL>"Follow the policy of"</label>
                    <select id="follow-leader" name="leader_id" class=INPUT>
                        {candidates.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class=BUTTON_SECONDARY>"Follow"</button>
                <p class="w-full text-xs text-slate-600">"This cluster's own versions stay in the audit log; the next plan brings its nodes to the shared policy."</p>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <Section title="Shared with" description="One policy for the clusters behind one proxy pair.">
            <div class="space-y-3" data-testid="sharing">
                <p class="text-sm text-slate-700">{summary}</p>
                {errors}
                {controls}
            </div>
        </Section>
    }
}
