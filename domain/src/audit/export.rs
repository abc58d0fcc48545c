//! The audit log as files other tools read: JSON Lines, or CSV (RFC 4180, written by the `csv`
//! crate), one entry per line in the order the store streams them.

use super::AuditEntry;

/// A format the log is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

const CSV_COLUMNS: [&str; 13] = [
    "id",
    "at",
    "actor",
    "actor_role",
    "source",
    "action",
    "target",
    "outcome",
    "detail",
    "before",
    "after",
    "prev_hash",
    "hash",
];

impl Format {
    /// `jsonl` or `csv`; `None` for anything else.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "jsonl" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jsonl => "application/jsonl",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
        }
    }

    /// What comes before the first entry: the CSV header line, nothing for JSON Lines.
    pub fn header(self) -> Option<String> {
        match self {
            Self::Jsonl => None,
            Self::Csv => Some(csv_record(CSV_COLUMNS)),
        }
    }

    /// One entry, as one line ending in `\n` (a CSV field holding a line break is quoted and
    /// keeps it, as RFC 4180 allows).
    pub fn line(self, e: &AuditEntry) -> String {
        match self {
            Self::Jsonl => {
                let mut line = serde_json::to_string(e).unwrap_or_default();
                line.push('\n');
                line
            }
            Self::Csv => {
                let json = |v: &Option<serde_json::Value>| {
                    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
                };
                csv_record(
                    [
                        e.id.to_string(),
                        e.at.clone(),
                        e.actor.clone(),
                        e.actor_role.clone().unwrap_or_default(),
                        e.source.clone().unwrap_or_default(),
                        e.action.clone(),
                        e.target.clone().unwrap_or_default(),
                        e.outcome.clone(),
                        e.detail.clone().unwrap_or_default(),
                        json(&e.before),
                        json(&e.after),
                        e.prev_hash.clone(),
                        e.hash.clone(),
                    ]
                    .map(inert),
                )
            }
        }
    }
}

/// `field` as a spreadsheet shows it and never runs it: a cell that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return would be taken for a formula (CSV injection, OWASP),
/// so it gets a leading `'`, which spreadsheets read as "text" and do not show.
fn inert(field: String) -> String {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field
    }
}

fn csv_record<I: IntoIterator<Item = T>, T: AsRef<[u8]>>(fields: I) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing into memory cannot fail, and every field is UTF-8 text.
    let _ = writer.write_record(fields);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(detail: &str) -> AuditEntry {
        AuditEntry {
            id: 7,
            at: "2026-12-01T17:00:00.000001Z".into(),
            actor: "ops admin".into(),
            actor_role: Some("admin".into()),
            source: Some("192.0.2.7".into()),
            action: "node.update".into(),
            target: Some("node:a.example.com".into()),
            outcome: "success".into(),
            detail: Some(detail.into()),
            before: None,
            after: Some(serde_json::json!({"tags": ["a", "b"]})),
            prev_hash: "00".into(),
            hash: "ff".into(),
        }
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_as_formulas_are_made_text() {
        for (detail, cell) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "'=HYPERLINK(\"http://evil.example\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("plain words", "plain words"),
        ] {
            let line = Format::Csv.line(&entry(detail));
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            assert_eq!(&record[8], cell, "{detail:?}");
        }
    }

    #[test]
    fn csv_fields_with_separators_quotes_or_line_breaks_are_quoted() {
        let line = Format::Csv.line(&entry("say \"hi\", twice\nthen stop"));
        assert_eq!(
            line,
            "7,2026-12-01T17:00:00.000001Z,ops admin,admin,192.0.2.7,node.update,node:a.example.com,success,\
             \"say \"\"hi\"\", twice\nthen stop\",,\"{\"\"tags\"\":[\"\"a\"\",\"\"b\"\"]}\",00,ff\n"
        );
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[8], "say \"hi\", twice\nthen stop");
        assert_eq!(record.len(), CSV_COLUMNS.len());
    }

    #[test]
    fn the_csv_header_names_every_column_and_json_lines_have_none() {
        assert_eq!(
            Format::Csv.header().unwrap(),
            "id,at,actor,actor_role,source,action,target,outcome,detail,before,after,prev_hash,hash\n"
        );
        assert_eq!(Format::Jsonl.header(), None);
        let line = Format::Jsonl.line(&entry("plain"));
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
        assert_eq!(Format::parse("csv"), Some(Format::Csv));
        assert_eq!(Format::parse("xml"), None);
    }
}
