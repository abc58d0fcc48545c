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

mod cycles;
mod read;

use cycles::Tarjan;
use read::{collect, item_name, Reader};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
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

#[cfg(test)]
mod tests;
