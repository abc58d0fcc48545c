use super::*;

fn crate_of(files: &[(&str, &str)]) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    for (name, text) in files {
        let path = dir.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "modules-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn two_modules_naming_each_other_are_a_cycle_and_a_parent_owning_its_child_is_not() {
    let dir = crate_of(&[
        ("lib.rs", "mod a; mod b; mod c; pub use c::Thing;"),
        ("a.rs", "use crate::b::f; pub fn g() { f() }"),
        ("b.rs", "pub fn f() { crate::a::g() }"),
        ("c/mod.rs", "mod d; pub use d::Thing; pub struct Other;"),
        ("c/d.rs", "pub struct Thing(super::Other);"),
    ]);
    let cycles = Graph::read(&dir.0).cycles();
    assert_eq!(cycles.len(), 1, "{}", describe(&cycles));
    assert_eq!(describe(&cycles), "cycle 1:\n    a -> b\n    b -> a");
}

#[test]
fn names_from_a_glob_and_through_an_imported_module_are_followed() {
    // `s::a` uses `g` from its sibling `s::b` through the parent's glob re-export, and
    // `s::b` names `s::a` through an imported module: a cycle between siblings. A name
    // re-exported from another crate leads nowhere.
    let dir = crate_of(&[
        ("lib.rs", "mod s; pub use other::Thing;"),
        ("s/mod.rs", "mod a; mod b; pub use a::*; pub use b::*;"),
        ("s/a.rs", "use super::*; pub fn f() { g() }"),
        (
            "s/b.rs",
            "use crate::s; pub fn g() { s::a::f(); let _ = crate::Thing; }",
        ),
    ]);
    let graph = Graph::read(&dir.0);
    let module = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<Module>();
    assert!(graph.edges[&module(&["s", "a"])].contains(&module(&["s", "b"])));
    assert!(graph.edges[&module(&["s", "b"])].contains(&module(&["s", "a"])));
    assert!(!graph.edges[&module(&["s", "b"])].contains(&module(&[])));
    assert_eq!(graph.cycles().len(), 1, "{}", describe(&graph.cycles()));
}

#[test]
fn a_re_exported_name_is_followed_to_where_it_is_defined() {
    // `e` names `crate::Thing`, re-exported by the root from `c`, which re-exports it from
    // `c::d`; `c::d` names `e`: a cycle through `c::d`, not through the root.
    let dir = crate_of(&[
        ("lib.rs", "mod c; mod e; pub use c::Thing;"),
        ("c/mod.rs", "mod d; pub use d::*;"),
        ("c/d.rs", "pub struct Thing; fn x() { crate::e::y() }"),
        (
            "e.rs",
            "pub fn y() { let _ = crate::Thing; }\n#[cfg(test)]\nmod tests;",
        ),
        ("e/tests.rs", "fn t() { crate::c::d::Thing; }"),
    ]);
    let graph = Graph::read(&dir.0);
    assert!(graph.edges[&vec!["e".to_owned()]].contains(&vec!["c".to_owned(), "d".to_owned()]));
    assert!(!graph
        .edges
        .contains_key(&vec!["e".to_owned(), "tests".to_owned()]));
    assert_eq!(graph.cycles().len(), 1);
}
