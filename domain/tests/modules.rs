//! The domain's modules are in one dependency order: no module depends, through any chain of
//! others, on itself (`testkit::modules` reads the graph from the sources: `use` items and
//! paths, re-exports followed to where a name is defined, a module's own subtree not counted).

use std::path::Path;

#[test]
fn the_domain_crate_has_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let cycles = testkit::modules::Graph::read(&src).cycles();
    assert!(
        cycles.is_empty(),
        "modules of the domain depend on each other:\n{}",
        testkit::modules::describe(&cycles)
    );
}
