//! CNF encodings in DIMACS ([`skilang_lang::dimacs`]), with CL-STE's `atom2idx` names.

use crate::cnf::{Cnf, Lit, Node};
pub use skilang_lang::dimacs::{Dimacs, DimacsError};

impl Cnf {
    /// The whole CNF (the constraint's clauses, the exactly-one clauses and the auxiliary atoms'
    /// definitions) in DIMACS, with each variable's name in the CL-STE `atom2idx` style: `z(v,k)`
    /// for `z_v == k`, `aux(n)` for an auxiliary atom.
    pub fn dimacs(&self) -> (Dimacs, Vec<String>) {
        let names = self
            .nodes
            .iter()
            .enumerate()
            .map(|(n, node)| match node {
                Node::Class { var, class } => format!("z({var},{class})"),
                _ => format!("aux({n})"),
            })
            .collect();
        let lit = |l: &Lit| (l.node as i64 + 1) * if l.positive { 1 } else { -1 };
        let clauses = self.clauses.iter().chain(&self.definitions()).map(|c| c.iter().map(lit).collect()).collect();
        (Dimacs { variables: self.nodes.len(), clauses }, names)
    }
}
