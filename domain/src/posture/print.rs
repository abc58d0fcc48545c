//! The posture report as one printable HTML document, for a security team to hand to an
//! auditor: no script, no external file, its one style block allowed by its hash (the
//! Content-Security-Policy that goes with it). Every value is escaped.

use super::{Fix, PosturePoint, PostureReport, Severity};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt::Write;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#111;margin:2rem auto;max-width:60rem;padding:0 1rem}\
h1{font-size:1.5rem;margin:0}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#eee}\
.critical{color:#8b0000;font-weight:700}.high{color:#b22222;font-weight:700}.medium{color:#8a5a00}.low{color:#333}\
.score{font-size:2rem;font-weight:700}small,.muted{color:#555}code{font-size:.9em;white-space:pre-wrap}\
@media print{body{margin:0}a{color:inherit;text-decoration:none}}";

/// The document and the Content-Security-Policy it needs.
pub fn printable(report: &PostureReport, trend: &[PosturePoint]) -> (String, String) {
    let mut h = String::with_capacity(16 * 1024);
    let e = escape;
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Security posture: {}</title><style>{STYLE}</style></head><body>",
        e(&report.cluster)
    );
    let _ = write!(
        h,
        "<h1>Security posture: {}</h1><p class=\"muted\">Scanned {} · {} nodes · report {} · Gatehouse {}</p>",
        e(&report.cluster),
        e(&when(&report.scanned_at)),
        report.nodes.len(),
        report.id.map_or_else(|| "unsaved".into(), |id| id.to_string()),
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(
        h,
        "<p><span class=\"score\">{} / 100</span> grade {:?} — {} critical, {} high, {} medium, {} low</p>",
        report.score,
        report.grade,
        report.count(Severity::Critical),
        report.count(Severity::High),
        report.count(Severity::Medium),
        report.count(Severity::Low)
    );
    if !report.complete {
        let _ = write!(
            h,
            "<p><strong>Incomplete:</strong> {} check(s) could not run (see “Not looked at”); the score counts only what this scan saw.</p>",
            report.gaps.len()
        );
    }
    h.push_str("<p class=\"muted\">Score = max(0, 100 − 20 × critical − 10 × high − 4 × medium − 1 × low). Grade A from 90, B from 75, C from 50, D below.</p>");
    h.push_str("<h2>Findings</h2>");
    if report.findings.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<table><thead><tr><th>Severity</th><th>Node</th><th>Finding</th><th>Observed</th><th>Source</th><th>Fix</th></tr></thead><tbody>");
        for f in &report.findings {
            let fix = match &f.fix {
                Fix::Plan { item, to } => format!("Posture plan: set {} to {}", e(item), e(to)),
                Fix::Page { label, .. } => format!("Change it on {}", e(label)),
                Fix::Command { command } => format!("<code>{}</code>", e(command)),
            };
            let fix = match &f.advice {
                Some(advice) => format!("{fix}<br><small>{}</small>", e(advice)),
                None => fix,
            };
            let sentence = match f.sentence.is_empty() {
                true => String::new(),
                false => format!("<br><small>“{}”</small>", e(&f.sentence)),
            };
            let _ = write!(
                h,
                "<tr><td class=\"{sev}\">{sev}</td><td>{}{}</td><td>{}<br><small>{}</small></td><td>{}</td><td>{}{sentence}</td><td>{fix}</td></tr>",
                e(&f.node),
                f.port.map(|p| format!(":{p}")).unwrap_or_default(),
                e(&f.title),
                e(&f.rule),
                e(&f.observed),
                e(&f.source),
                sev = f.severity.as_str(),
            );
        }
        h.push_str("</tbody></table>");
    }
    if !report.gaps.is_empty() {
        h.push_str("<h2>Not looked at</h2><table><thead><tr><th>Node</th><th>What</th><th>Why</th></tr></thead><tbody>");
        for g in &report.gaps {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&g.node),
                e(&g.what),
                e(&g.why)
            );
        }
        h.push_str("</tbody></table>");
    }
    if !trend.is_empty() {
        h.push_str("<h2>Trend</h2><table><thead><tr><th>Scanned</th><th>Score</th><th>Critical</th><th>High</th><th>Medium</th><th>Low</th></tr></thead><tbody>");
        for p in trend.iter().rev().take(30) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&when(&p.scanned_at)),
                p.score,
                p.critical,
                p.high,
                p.medium,
                p.low
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("<h2>Nodes looked at</h2><p>");
    h.push_str(
        &report
            .nodes
            .iter()
            .map(|n| e(n))
            .collect::<Vec<_>>()
            .join(", "),
    );
    h.push_str("</p></body></html>");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
    (h, csp)
}

/// `2026-12-06T19:39:03.630151Z` as `2026-12-06 19:39 UTC`.
fn when(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(minute) => format!("{} UTC", minute.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

/// Text as HTML text or attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
