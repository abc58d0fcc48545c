//! The inventory as CSV: export (a download), import from a picked or pasted file with a
//! preview of every row's errors.

use super::*;

/// The largest CSV file the page loads (about 100,000 rows; the REST import takes 32 MiB).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const PAGE_FILE_LIMIT: f64 = 12.0 * 1024.0 * 1024.0;

/// CSV export (a download) and import: pick a file or paste, preview every row's errors, then
/// import.
#[component]
pub(super) fn CsvSection(action: ServerAction<ImportInventory>) -> impl IntoView {
    let error = error_of(action.value());
    let csv = RwSignal::new(String::new());
    let file_note = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_csv_file(&ev, csv, file_note);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, csv, file_note);
    };
    let report = move || match action.value().get() {
        Some(Ok(report)) => Some(view! { <ImportResult report /> }),
        _ => None,
    };
    view! {
        <Section title="Import and export (CSV)" description="Columns: cluster,kind,role,fqdn,address,version,tags,ports (tags and ports separated by ';'; empty ports: the kind's defaults). Clusters are created when missing. Nothing is written unless every row is valid.">
            <div class="mb-3"><a href="/api/v1/inventory/export" download class=BUTTON_SECONDARY>"Export the inventory as CSV"</a></div>
            <ActionForm action attr:class="space-y-3">
                <ActionError error />
                <div>
                    <label for="csv-file" class=LABEL>"CSV file"</label>
                    <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" on:change=on_file
                        class="mt-1 block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200" />
                    {move || file_note.get().map(|note| view! { <p class="mt-1 text-xs text-slate-600" data-testid="csv-file-note">{note}</p> })}
                </div>
                <label for="csv-text" class=LABEL>"CSV to import (the file's content, or paste it here)"</label>
                <textarea id="csv-text" name="csv" rows="6" required class=format!("{INPUT} font-mono text-xs")
                    prop:value=move || csv.get() on:input=move |ev| csv.set(event_target_value(&ev))
                    placeholder="cluster,kind,role,fqdn,address,version,tags,ports\nSite A,finesse,primary,finesse1.example.com,,12.6(2),side-a,"></textarea>
                <div class="flex flex-wrap items-center gap-4">
                    <label class="flex items-center gap-2 text-sm text-slate-700">
                        <input type="checkbox" name="dry_run" value="true" checked />
                        "Preview only (write nothing)"
                    </label>
                    <button type="submit" class=BUTTON>"Check and import"</button>
                </div>
                {report}
            </ActionForm>
        </Section>
    }
    .into_any()
}

/// Loads the picked file into the text box (in the browser; nothing is sent yet).
#[cfg(feature = "hydrate")]
fn read_csv_file(ev: &leptos::ev::Event, csv: RwSignal<String>, note: RwSignal<Option<String>>) {
    let Some(file) = crate::components::picked_file(ev) else {
        return;
    };
    let name = file.name();
    if file.size() > PAGE_FILE_LIMIT {
        note.set(Some(format!(
            "{name} is {:.1} MB; this page loads files up to {:.0} MB. Import larger files with POST /api/v1/inventory/import (up to 32 MiB).",
            file.size() / 1_048_576.0,
            PAGE_FILE_LIMIT / 1_048_576.0
        )));
        return;
    }
    note.set(Some(format!("Reading {name}…")));
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => {
                let text = text.as_string().unwrap_or_default();
                let rows = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .count()
                    .saturating_sub(1);
                note.set(Some(format!(
                    "{name}: {rows} row(s) loaded below. Check them, then import."
                )));
                csv.set(text);
            }
            Err(_) => note.set(Some(format!(
                "{name} could not be read (is it a text file?)."
            ))),
        }
    });
}

#[component]
pub(super) fn ImportResult(report: ImportReport) -> impl IntoView {
    let summary = match (report.valid, report.imported) {
        (_, true) => format!("Imported {} nodes ({} endpoints){}.", report.nodes, report.endpoints, created("created", &report.clusters_created)),
        (true, false) => format!("All {} rows are valid: importing would add {} nodes ({} endpoints){}. Untick \"Preview only\" to import.", report.rows, report.nodes, report.endpoints, created("create", &report.clusters_created)),
        (false, _) => format!("{} error(s) in {} rows; nothing was written.", report.error_count, report.rows),
    };
    let ok = report.valid;
    view! {
        <div role="status" data-testid="import-result"
            class=if ok { "rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" } else { "rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800" }>
            <p>{summary}</p>
            {(!report.errors.is_empty()).then(|| view! {
                <ul class="mt-2 max-h-64 space-y-0.5 overflow-y-auto font-mono text-xs" tabindex="0">
                    {report.errors.iter().map(|e| view! { <li>{format!("line {}, {}: {}", e.row, e.field, e.message)}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}

fn created(verb: &str, clusters: &[String]) -> String {
    if clusters.is_empty() {
        String::new()
    } else {
        format!(" and {verb} the clusters {}", clusters.join(", "))
    }
}
