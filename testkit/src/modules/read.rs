//! Reading one source file: which module it is, the names it defines, its `use` items and the
//! paths in its code.

use super::{Module, Source, Use};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// Every `.rs` file under `dir` as the module it is (`a/b.rs` and `a/b/mod.rs`: `a::b`).
pub(super) fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<Module, PathBuf>) {
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

/// The name an item defines, if it is one that can be named from elsewhere.
pub(super) fn item_name(item: &syn::Item) -> Option<String> {
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

pub(super) struct Reader<'a> {
    pub(super) module: &'a Module,
    pub(super) source: &'a mut Source,
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
