//! Every crate of the workspace keeps its modules in one dependency order, as the domain does
//! (`domain/tests/modules.rs`): no module depends, through any chain of others, on itself.

use std::path::Path;

#[test]
fn no_crate_of_the_workspace_has_an_import_cycle() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for member in [
        "app", "certs", "domain", "frontend", "proxymap", "server", "sim", "testkit", "vos",
    ] {
        let cycles = testkit::modules::Graph::read(&workspace.join(member).join("src")).cycles();
        if !cycles.is_empty() {
            found.push(format!(
                "{member}:\n{}",
                testkit::modules::describe(&cycles)
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Every type the OpenAPI document describes has a schema name of its own: two types under one
/// name would be one schema in the document, the later overwriting the earlier (a users' `Role`
/// once described as a certificate's, which the API fuzzer found). A type that shares its Rust
/// name with another gives its schema another with `schema(as = …)`.
#[test]
fn no_two_api_types_share_a_schema_name() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for crate_dir in ["domain", "server", "certs", "proxyconf"] {
        let mut files = Vec::new();
        collect(&workspace.join(crate_dir).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !line.contains("ToSchema") || !line.trim_start().starts_with("#[") {
                    continue;
                }
                let mut renamed = None;
                for next in lines.iter().skip(i + 1).take(8) {
                    let next = next.trim();
                    if let Some(rest) = next.split("schema(as = ").nth(1) {
                        renamed = rest.split(')').next().map(str::to_owned);
                    }
                    let declared = ["pub struct ", "pub enum "]
                        .iter()
                        .find_map(|k| next.strip_prefix(k));
                    if let Some(declared) = declared {
                        let ty: String = declared
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let name = renamed.take().unwrap_or(ty);
                        names
                            .entry(name)
                            .or_default()
                            .push(file.display().to_string());
                        break;
                    }
                }
            }
        }
    }
    let shared: Vec<String> = names
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| format!("{name}: {}", files.join(", ")))
        .collect();
    assert!(
        shared.is_empty(),
        "schema names used twice:\n{}",
        shared.join("\n")
    );
    assert!(names.len() > 50, "the scan found the API's types");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
