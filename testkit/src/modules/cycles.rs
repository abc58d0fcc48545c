//! The strongly connected components of the graph (Tarjan's algorithm).

use super::{Graph, Module};
use std::collections::BTreeMap;

pub(super) struct Tarjan<'a> {
    pub(super) graph: &'a Graph,
    pub(super) index: BTreeMap<Module, usize>,
    pub(super) low: BTreeMap<Module, usize>,
    pub(super) stack: Vec<Module>,
    pub(super) next: usize,
    pub(super) components: Vec<Vec<Module>>,
}

impl Tarjan<'_> {
    pub(super) fn visit(&mut self, module: &Module) {
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
