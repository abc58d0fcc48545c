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
