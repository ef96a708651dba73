//! Rules over observed inputs as a network of logic units, for embedding and structuring
//! (ALGORITHMS.md §5; KBANN / KINS).
//!
//! Every guarded constraint `if: R(x)` `then: net(x) == c` whose guard reads observed values only
//! is unfolded through the knowledge rules it calls: `and` and `or` become units, `not` a negated
//! input, a call of a knowledge rule the unit of that rule (shared by every caller); everything
//! else that yields a truth value (a comparison, a builtin such as `all_different`) is a leaf
//! condition, computed from the data like KBANN's input propositions. Embedding evaluates the units
//! crisply and appends their truths to the network's input; structuring turns each unit into a
//! trainable neuron whose weights start at the rule.

use crate::eval::{Crisp, Formulas, GroundError, Memo, Observed};
use skilang_lang::check::{rule_roles, Callee, ColumnId, ConstraintId, Program, RuleRefusal, RuleRole};
use skilang_lang::formula::{unparse, BinOp, Expr, ExprKind, UnaryOp};
use skilang_lang::spec::{ConstraintKind, Spec};
use std::collections::HashMap;

/// A unit's input: a leaf condition or an earlier unit, possibly negated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Leaf(usize),
    Unit(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    And,
    Or,
}

/// A condition on observed values, evaluated from the data.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub expr: Expr,
    /// The rule arguments (and instance variables) it reads, with their instance slots.
    pub bindings: Vec<(String, usize)>,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Unit {
    /// The rule it stands for, or the sub-formula.
    pub name: String,
    pub gate: Gate,
    /// Inputs and whether each is negated; units only read leaves and earlier units.
    pub inputs: Vec<(Node, bool)>,
}

/// A guarded constraint: its guard's unit and the class its consequent names.
#[derive(Clone, Debug)]
pub struct Guard {
    pub constraint: ConstraintId,
    pub unit: usize,
    pub learnable: usize,
    pub class: usize,
}

#[derive(Clone, Debug)]
pub struct RuleNet {
    pub leaves: Vec<Leaf>,
    pub units: Vec<Unit>,
    pub guards: Vec<Guard>,
}

/// Why a spec's constraints cannot become features or units (`check` reports it first).
pub type RuleNetError = RuleRefusal;

/// Builds the rule network of every constraint of `spec`; `what` names the injection in errors.
pub fn rule_net(spec: &Spec, program: &Program, what: &str) -> Result<RuleNet, RuleNetError> {
    let mut b = Builder {
        spec,
        program,
        leaves: Vec::new(),
        leaf_of: HashMap::new(),
        units: Vec::new(),
        rule_unit: HashMap::new(),
    };
    let mut guards = Vec::new();
    for (info, role) in program.constraints.iter().zip(rule_roles(spec, program, what)) {
        let RuleRole::Guard { learnable, instance, class } = role? else {
            continue; // the supervision embedding and structuring train by anyway, or only measured
        };
        let ConstraintKind::IfThen { guard, .. } = &spec.constraints[info.id.position()].kind else {
            unreachable!("a guard's constraint is an if-then")
        };
        // The one instance variable is slot 0 of each example.
        let env = vec![(instance, 0)];
        let (node, negated) = b.literal(&guard.expr, &env);
        let unit = match (node, negated) {
            (Node::Unit(u), false) => u,
            _ => b.unit(unparse(&guard.expr), Gate::Or, vec![(node, negated)]),
        };
        guards.push(Guard { constraint: info.id, unit, learnable, class });
    }
    Ok(RuleNet { leaves: b.leaves, units: b.units, guards })
}

struct Builder<'s> {
    spec: &'s Spec,
    program: &'s Program,
    leaves: Vec<Leaf>,
    leaf_of: HashMap<(String, Vec<(String, usize)>), usize>,
    units: Vec<Unit>,
    /// A rule applied to instance slots has one unit, whoever calls it.
    rule_unit: HashMap<(usize, Vec<usize>), usize>,
}

type Env = Vec<(String, usize)>;

impl Builder<'_> {
    fn unit(&mut self, name: String, gate: Gate, inputs: Vec<(Node, bool)>) -> usize {
        self.units.push(Unit { name, gate, inputs });
        self.units.len() - 1
    }

    /// The node of a condition, and whether it is negated.
    fn literal(&mut self, e: &Expr, env: &Env) -> (Node, bool) {
        match &e.kind {
            ExprKind::Unary { op: UnaryOp::Not, operand } => {
                let (n, neg) = self.literal(operand, env);
                (n, !neg)
            }
            ExprKind::Binary { op: op @ (BinOp::And | BinOp::Or), .. } => {
                let mut parts = Vec::new();
                flatten(e, *op, &mut parts);
                let inputs = parts.into_iter().map(|p| self.literal(p, env)).collect();
                let gate = if *op == BinOp::And { Gate::And } else { Gate::Or };
                (Node::Unit(self.unit(unparse(e), gate, inputs)), false)
            }
            ExprKind::Call { func, args } => match self.rule_call(func, args, env) {
                Some(unit) => (Node::Unit(unit), false),
                None => (self.leaf(e, env), false),
            },
            _ => (self.leaf(e, env), false),
        }
    }

    /// The unit of a knowledge rule called on instances, unfolded once per instance tuple.
    fn rule_call(&mut self, func: &Expr, args: &[Expr], env: &Env) -> Option<usize> {
        let Some(&Callee::Rule(r)) = self.program.calls.get(&func.id) else { return None };
        let slots: Vec<usize> = args
            .iter()
            .map(|a| match &a.kind {
                ExprKind::Name(n) => env.iter().rev().find(|(k, _)| k == n).map(|&(_, s)| s),
                _ => None,
            })
            .collect::<Option<_>>()?;
        if let Some(&u) = self.rule_unit.get(&(r, slots.clone())) {
            return Some(u);
        }
        let rule = &self.spec.rules[r];
        let inner: Env = rule.args.iter().map(|a| a.name.clone()).zip(slots.iter().copied()).collect();
        let unit = match self.literal(&rule.clause.expr, &inner) {
            (Node::Unit(u), false) if self.units[u].name == unparse(&rule.clause.expr) => {
                self.units[u].name = rule.name.name.clone();
                u
            }
            lit => self.unit(rule.name.name.clone(), Gate::Or, vec![lit]),
        };
        self.rule_unit.insert((r, slots), unit);
        Some(unit)
    }

    fn leaf(&mut self, e: &Expr, env: &Env) -> Node {
        let text = unparse(e);
        // The same text over the same instances is the same condition.
        let key = (text.clone(), env.clone());
        let next = self.leaves.len();
        let i = *self.leaf_of.entry(key).or_insert(next);
        if i == next {
            self.leaves.push(Leaf { expr: e.clone(), bindings: env.clone(), text });
        }
        Node::Leaf(i)
    }
}

fn flatten<'e>(e: &'e Expr, op: BinOp, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary { op: o, lhs, rhs } if *o == op => {
            flatten(lhs, op, out);
            flatten(rhs, op, out);
        }
        _ => out.push(e),
    }
}

impl RuleNet {
    /// The leaves' truths (0 or 1) for one example.
    pub fn leaf_values(
        &self,
        formulas: &Formulas,
        observe: &dyn Fn(usize, ColumnId) -> Option<Observed>,
    ) -> Result<Vec<f32>, GroundError> {
        let mut memo = Memo::default();
        self.leaves
            .iter()
            .map(|leaf| {
                let bindings: Vec<(&str, usize)> = leaf.bindings.iter().map(|(n, s)| (n.as_str(), *s)).collect();
                match formulas.evaluate(&leaf.expr, &bindings, observe, &mut memo)? {
                    Crisp::Bool(b) => Ok(b as u8 as f32),
                    Crisp::Number(_) => Err(GroundError {
                        span: leaf.expr.span,
                        message: format!("`{}` is a number where a condition is expected", leaf.text),
                    }),
                }
            })
            .collect()
    }

    /// Every unit's crisp truth, given the leaves' truths.
    pub fn unit_values(&self, leaves: &[f32]) -> Vec<f32> {
        let mut values: Vec<f32> = Vec::with_capacity(self.units.len());
        for unit in &self.units {
            let mut inputs = unit.inputs.iter().map(|&(n, neg)| {
                let v = match n {
                    Node::Leaf(i) => leaves[i] > 0.5,
                    Node::Unit(u) => values[u] > 0.5,
                };
                v != neg
            });
            let truth = match unit.gate {
                Gate::And => inputs.all(|x| x),
                Gate::Or => inputs.any(|x| x),
            };
            values.push(truth as u8 as f32);
        }
        values
    }

    /// A unit's neuron at the start of structuring (KBANN): weights ±ω on its inputs and a bias
    /// that puts the threshold half-way, so that σ(w·x + b) is near 1 exactly where the rule holds.
    pub fn initial_weights(&self, unit: usize, omega: f32) -> (Vec<f32>, f32) {
        let u = &self.units[unit];
        let negated = u.inputs.iter().filter(|(_, neg)| *neg).count() as f32;
        let weights = u.inputs.iter().map(|&(_, neg)| if neg { -omega } else { omega }).collect();
        // Σ literals − (n − ½) for `and`, Σ literals − ½ for `or`; a negated literal is 1 − x.
        let threshold = match u.gate {
            Gate::And => u.inputs.len() as f32 - 0.5,
            Gate::Or => 0.5,
        };
        (weights, omega * (negated - threshold))
    }
}
