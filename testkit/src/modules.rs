//! The module graph of a crate, read from its sources, and the cycles in it: the test that
//! keeps a crate's modules in one dependency order (`domain/tests/modules.rs`).
//!
//! A module depends on another when it names it or something in it: a `use`, or a path in its
//! code (`crate::jobs::enqueue(...)`, `super::Item`). A name re-exported by a module (`pub use
//! view::About` in `reconcile`) is followed to where it is defined, so naming
//! `crate::reconcile::About` depends on `reconcile::view`, not on all of `reconcile`. A module
//! owns its descendants: declaring them and re-exporting their names is structure, not a
//! dependency, so edges from a module into its own subtree are not counted; a child naming its
//! parent's items is. A name brought in by a glob (`use super::*`) is followed to the module
//! that provides it, and a path through an imported name (`use crate::reconcile;` then
//! `reconcile::view::About`) to where it leads; names from other crates lead nowhere. Modules
//! compiled for tests only (`#[cfg(test)] mod tests`) are left out. What macros expand to is
//! not seen (paths inside `sqlx::query!(...)` or `format!(...)`), nor `super::` inside an
//! inline module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// A module's path in its crate: `["reconcile", "drive"]`; the root is empty.
pub type Module = Vec<String>;

/// Every module of the crate whose sources are under `src` (`lib.rs` its root), with the
/// modules each depends on.
#[derive(Debug, Default)]
pub struct Graph {
    pub edges: BTreeMap<Module, BTreeSet<Module>>,
}

/// What one module's source says.
#[derive(Default)]
struct Source {
    /// Child modules declared for tests only.
    test_children: BTreeSet<String>,
    /// Its `use` items, one per name brought in.
    uses: Vec<Use>,
    /// Every path of two segments or more it names in its code, as written (`crate`, `super`
    /// and `self` made absolute).
    paths: Vec<Vec<String>>,
    /// Every one-segment name it uses in its code (found through its globs, if anywhere).
    names: BTreeSet<String>,
    /// The names of the items it defines.
    defines: BTreeSet<String>,
}

/// One name a `use` brings in.
struct Use {
    /// What it names, as written (`crate`, `super` and `self` made absolute).
    path: Vec<String>,
    /// The name it is known by here; `None` for a glob.
    binding: Option<String>,
    public: bool,
}

/// Where a name leads.
#[derive(Clone)]
enum Target {
    /// A path in this crate, from `crate`.
    Path(Vec<String>),
    /// Another crate.
    External,
}

/// A module's names as the graph needs them: what it re-exports and what its names stand for.
#[derive(Default)]
struct Scope {
    /// `pub use`: name (or `*` for a glob) → where it leads.
    exports: Vec<(String, Target)>,
    /// Every name a non-glob `use` brings in → where it leads.
    aliases: BTreeMap<String, Target>,
    /// The modules its globs bring everything of.
    globs: Vec<Vec<String>>,
}

struct Crate {
    modules: BTreeSet<Module>,
    sources: BTreeMap<Module, Source>,
    scopes: BTreeMap<Module, Scope>,
}

impl Graph {
    /// Reads the crate under `src`. Panics with the file's name on a file that does not parse.
    pub fn read(src: &Path) -> Self {
        let mut files = BTreeMap::new();
        collect(src, src, &mut files);
        let mut sources: BTreeMap<Module, Source> = BTreeMap::new();
        for (module, file) in &files {
            let text = std::fs::read_to_string(file).expect("a readable source file");
            let parsed = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
            let mut source = Source {
                defines: parsed.items.iter().filter_map(item_name).collect(),
                ..Source::default()
            };
            let mut reader = Reader {
                module,
                source: &mut source,
            };
            reader.visit_file(&parsed);
            sources.insert(module.clone(), source);
        }
        // Modules declared for tests only, and everything under them.
        let tests: Vec<Module> = sources
            .iter()
            .flat_map(|(module, source)| {
                source.test_children.iter().map(move |child| {
                    let mut path = module.clone();
                    path.push(child.clone());
                    path
                })
            })
            .collect();
        sources.retain(|module, _| !tests.iter().any(|t| module.starts_with(t)));
        let modules: BTreeSet<Module> = sources.keys().cloned().collect();
        let mut krate = Crate {
            modules,
            sources,
            scopes: BTreeMap::new(),
        };
        // Uses first, as written: an alias may lead through another alias of the same module.
        let scopes: BTreeMap<Module, Scope> = krate
            .sources
            .iter()
            .map(|(module, source)| {
                let mut scope = Scope::default();
                for used in &source.uses {
                    let target = krate.target(module, &scope, &used.path);
                    match &used.binding {
                        Some(name) => {
                            scope.aliases.insert(name.clone(), target.clone());
                        }
                        None => {
                            if let Target::Path(path) = &target {
                                scope.globs.push(path[1..].to_vec());
                            }
                        }
                    }
                    if used.public {
                        let name = used.binding.clone().unwrap_or_else(|| "*".to_owned());
                        scope.exports.push((name, target));
                    }
                }
                (module.clone(), scope)
            })
            .collect();
        krate.scopes = scopes;
        let mut graph = Graph::default();
        for (module, source) in &krate.sources {
            let scope = &krate.scopes[module];
            let mut targets = BTreeSet::new();
            let mut add = |target: Option<Module>| {
                if let Some(target) = target {
                    if !target.starts_with(module) {
                        targets.insert(target);
                    }
                }
            };
            for used in &source.uses {
                if let Target::Path(path) = krate.target(module, scope, &used.path) {
                    add(krate.resolve(&path, 0));
                }
            }
            for path in &source.paths {
                if let Target::Path(path) = krate.target(module, scope, path) {
                    add(krate.resolve(&path, 0));
                }
            }
            for name in &source.names {
                if source.defines.contains(name) || scope.aliases.contains_key(name) {
                    continue;
                }
                for glob in &scope.globs {
                    if krate.provides(glob, name, 0) {
                        let mut path = vec!["crate".to_owned()];
                        path.extend(glob.iter().cloned());
                        path.push(name.clone());
                        add(krate.resolve(&path, 0));
                        break;
                    }
                }
            }
            graph.edges.insert(module.clone(), targets);
        }
        graph
    }

    /// The cycles: each set of modules that depend on each other (a strongly connected
    /// component of more than one module), with the edges between them.
    pub fn cycles(&self) -> Vec<Vec<(Module, Module)>> {
        let mut tarjan = Tarjan {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            next: 0,
            components: Vec::new(),
        };
        for module in self.edges.keys() {
            if !tarjan.index.contains_key(module) {
                tarjan.visit(module);
            }
        }
        tarjan
            .components
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|component| {
                let within: BTreeSet<&Module> = component.iter().collect();
                let mut edges = Vec::new();
                for from in &component {
                    for to in &self.edges[from] {
                        if within.contains(to) {
                            edges.push((from.clone(), to.clone()));
                        }
                    }
                }
                edges.sort();
                edges
            })
            .collect()
    }
}

/// The cycles as a report: one block per cycle, an edge per line (`a::b -> c`).
pub fn describe(cycles: &[Vec<(Module, Module)>]) -> String {
    let name = |m: &Module| {
        if m.is_empty() {
            "crate".to_owned()
        } else {
            m.join("::")
        }
    };
    cycles
        .iter()
        .map(|edges| {
            edges
                .iter()
                .map(|(from, to)| format!("    {} -> {}", name(from), name(to)))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .enumerate()
        .map(|(i, block)| format!("cycle {}:\n{block}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `.rs` file under `dir` as the module it is (`a/b.rs` and `a/b/mod.rs`: `a::b`).
fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<Module, PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable source folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(root).expect("under the root");
        let mut module: Module = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        files.insert(module, path);
    }
}

impl Crate {
    /// Where a path written in `module` leads: itself when absolute (`crate::...`), through
    /// one of the module's children or imported names, else to another crate.
    fn target(&self, module: &Module, scope: &Scope, path: &[String]) -> Target {
        let Some(first) = path.first() else {
            return Target::External;
        };
        if first == "crate" {
            return Target::Path(path.to_vec());
        }
        let mut child = module.clone();
        child.push(first.clone());
        if self.modules.contains(&child) {
            let mut full = vec!["crate".to_owned()];
            full.extend(module.iter().cloned());
            full.extend(path.iter().cloned());
            return Target::Path(full);
        }
        match scope.aliases.get(first) {
            Some(Target::Path(alias)) => {
                let mut full = alias.clone();
                full.extend(path[1..].iter().cloned());
                Target::Path(full)
            }
            _ => Target::External,
        }
    }

    /// The module `path` (absolute, from `crate`) names: the deepest module along it,
    /// following re-exported names to where they are defined; `None` when it leads to another
    /// crate.
    fn resolve(&self, path: &[String], depth: usize) -> Option<Module> {
        let mut at: Module = Vec::new();
        for segment in path.iter().skip(1) {
            let mut child = at.clone();
            child.push(segment.clone());
            if self.modules.contains(&child) {
                at = child;
                continue;
            }
            if depth < 8 {
                match self.exported(&at, segment, depth) {
                    Some(Target::Path(target)) => return self.resolve(&target, depth + 1),
                    Some(Target::External) => return None,
                    None => {}
                }
            }
            break;
        }
        Some(at)
    }

    /// Where `name`, re-exported by `module`, leads (`None`: defined there, or unknown).
    fn exported(&self, module: &Module, name: &str, depth: usize) -> Option<Target> {
        let source = self.sources.get(module)?;
        let scope = self.scopes.get(module)?;
        if source.defines.contains(name) || depth > 8 {
            return None;
        }
        if let Some((_, target)) = scope.exports.iter().find(|(n, _)| n == name) {
            return Some(target.clone());
        }
        scope
            .exports
            .iter()
            .filter(|(n, _)| n == "*")
            .find_map(|(_, target)| match target {
                Target::Path(path) if self.provides(&path[1..], name, depth + 1) => {
                    let mut path = path.clone();
                    path.push(name.to_owned());
                    Some(Target::Path(path))
                }
                _ => None,
            })
    }

    /// Whether `module` defines `name` or re-exports it.
    fn provides(&self, module: &[String], name: &str, depth: usize) -> bool {
        let module = module.to_vec();
        self.sources
            .get(&module)
            .is_some_and(|s| s.defines.contains(name))
            || self.exported(&module, name, depth).is_some()
    }
}

/// The name an item defines, if it is one that can be named from elsewhere.
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

struct Reader<'a> {
    module: &'a Module,
    source: &'a mut Source,
}

impl Reader<'_> {
    /// `crate::a`, `super::a`, `self::a` made absolute (`crate`, then the modules); other
    /// paths as written.
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => return Some(segments.to_vec()),
            "self" | "super" => self.module.clone(),
            _ => return Some(segments.to_vec()),
        };
        let mut rest = segments;
        while let Some(head) = rest.first() {
            match head.as_str() {
                "self" => {}
                "super" => {
                    base.pop()?;
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        let mut path = vec!["crate".to_owned()];
        path.append(&mut base);
        path.extend(rest.iter().cloned());
        Some(path)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, public: bool) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, public);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                let mut path = prefix.clone();
                let binding = if name == "self" {
                    prefix.last().cloned()
                } else {
                    path.push(name.clone());
                    Some(name)
                };
                self.used(path, binding, public);
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                path.push(r.ident.to_string());
                self.used(path, Some(r.rename.to_string()), public);
            }
            syn::UseTree::Glob(_) => self.used(prefix.clone(), None, public),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item, public);
                }
            }
        }
    }

    fn used(&mut self, path: Vec<String>, binding: Option<String>, public: bool) {
        if let Some(path) = self.absolute(&path) {
            self.source.uses.push(Use {
                path,
                binding,
                public,
            });
        }
    }
}

fn is_test_only(attributes: &[syn::Attribute]) -> bool {
    attributes.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Reader<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if is_test_only(&item.attrs) {
            if item.content.is_none() {
                self.source.test_children.insert(item.ident.to_string());
            }
            return;
        }
        syn::visit::visit_item_mod(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if is_test_only(&item.attrs) {
            return;
        }
        let public = !matches!(item.vis, syn::Visibility::Inherited);
        self.use_tree(&mut Vec::new(), &item.tree, public);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        match segments.as_slice() {
            [name] if path.leading_colon.is_none() => {
                self.source.names.insert(name.clone());
            }
            [_, _, ..] => {
                if let Some(path) = self.absolute(&segments) {
                    self.source.paths.push(path);
                }
            }
            _ => {}
        }
        syn::visit::visit_path(self, path);
    }
}

struct Tarjan<'a> {
    graph: &'a Graph,
    index: BTreeMap<Module, usize>,
    low: BTreeMap<Module, usize>,
    stack: Vec<Module>,
    next: usize,
    components: Vec<Vec<Module>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, module: &Module) {
        self.index.insert(module.clone(), self.next);
        self.low.insert(module.clone(), self.next);
        self.next += 1;
        self.stack.push(module.clone());
        let graph = self.graph;
        for target in graph.edges.get(module).into_iter().flatten() {
            if !graph.edges.contains_key(target) {
                continue;
            }
            if !self.index.contains_key(target) {
                self.visit(target);
                let low = self.low[module].min(self.low[target]);
                self.low.insert(module.clone(), low);
            } else if self.stack.contains(target) {
                let low = self.low[module].min(self.index[target]);
                self.low.insert(module.clone(), low);
            }
        }
        if self.low[module] == self.index[module] {
            let mut component = Vec::new();
            while let Some(top) = self.stack.pop() {
                let done = &top == module;
                component.push(top);
                if done {
                    break;
                }
            }
            component.sort();
            self.components.push(component);
        }
    }
}

#[cfg(test)]
mod tests {
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
}
