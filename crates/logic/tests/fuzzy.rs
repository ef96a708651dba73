//! Fuzzy truth degrees: crisp agreement with boolean evaluation for every semantics and
//! implication, and gradients against finite differences.

use proptest::prelude::*;
use skilang_lang::spec::{Implication, Semantics};
use skilang_logic::{Event, Form, Formula, FuzzyEvent, Grounded, Logic, VarRef, NODE_LIMIT};

mod common;
use common::*;

const SEMANTICS: [Semantics; 3] = [Semantics::Product, Semantics::Goedel, Semantics::Lukasiewicz];
const IMPLICATIONS: [Implication; 5] = [
    Implication::Reichenbach,
    Implication::Goedel,
    Implication::Lukasiewicz,
    Implication::KleeneDienes,
    Implication::Material,
];

fn logics() -> impl Iterator<Item = Logic> {
    SEMANTICS.into_iter().flat_map(|s| IMPLICATIONS.into_iter().map(move |i| Logic::new(s, Some(i))))
}

/// A random event whose constraint is its formula, an implication or a biconditional.
fn grounded() -> impl Strategy<Value = Grounded> {
    event()
        .prop_flat_map(|e| {
            let n = e.atoms.len();
            (Just(e), 0..3usize, formula(n), formula(n))
        })
        .prop_map(|(mut event, kind, a, b)| {
            let form = match kind {
                0 => Form::Plain,
                1 => {
                    event.formula = Formula::or(vec![Formula::negate(a.clone()), b.clone()]);
                    Form::Implies(a, b)
                }
                _ => {
                    event.formula = Formula::iff(a.clone(), b.clone());
                    Form::Iff(a, b)
                }
            };
            let vars = (0..event.domains.len()).map(|slot| VarRef { learnable: 0, slot, cell: 0 }).collect();
            Grounded { event, vars, form }
        })
}

fn assignment(e: &Event) -> impl Strategy<Value = Vec<usize>> {
    e.domains.iter().map(|&d| 0..d).collect::<Vec<_>>()
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    log_softmax(logits).iter().map(|x| x.exp()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn crisp_inputs_give_boolean_truth((g, z) in grounded().prop_flat_map(|g| { let z = assignment(&g.event); (Just(g), z) })) {
        let fuzzy = FuzzyEvent::new(&g, NODE_LIMIT).unwrap();
        let p: Vec<Vec<f64>> =
            g.event.domains.iter().zip(&z).map(|(&d, &k)| (0..d).map(|j| (j == k) as u8 as f64).collect()).collect();
        let holds = g.event.holds(&z);
        for logic in logics() {
            let t = fuzzy.truth(logic, &p).value;
            prop_assert!((t - holds as u8 as f64).abs() < 1e-9, "{logic:?}: truth {t}, boolean {holds}");
        }
    }

    /// The gradient through a softmax, as training uses it, against central differences; where a
    /// connective has a kink (min, max, clipping) the one-sided differences disagree and the point
    /// is skipped.
    #[test]
    fn gradients_match_finite_differences(
        (g, logits) in grounded().prop_flat_map(|g| {
            let l: Vec<_> = g.event.domains.iter().map(|&d| prop::collection::vec(-2.0f64..2.0, d)).collect();
            (Just(g), l)
        })
    ) {
        let fuzzy = FuzzyEvent::new(&g, NODE_LIMIT).unwrap();
        let probs = |ls: &[Vec<f64>]| ls.iter().map(|l| softmax(l)).collect::<Vec<_>>();
        for logic in logics() {
            let truth = fuzzy.truth(logic, &probs(&logits));
            let f = |ls: &[Vec<f64>]| fuzzy.truth(logic, &probs(ls)).value;
            for v in 0..logits.len() {
                let p = softmax(&logits[v]);
                for j in 0..p.len() {
                    let h = 1e-6;
                    let mut up = logits.clone();
                    up[v][j] += h;
                    let mut down = logits.clone();
                    down[v][j] -= h;
                    let (fwd, bwd) = ((f(&up) - truth.value) / h, (truth.value - f(&down)) / h);
                    if (fwd - bwd).abs() > 1e-4 {
                        continue;
                    }
                    let analytic: f64 =
                        (0..p.len()).map(|k| truth.grad[v][k] * p[k] * (((k == j) as u8 as f64) - p[j])).sum();
                    prop_assert!(
                        ((fwd + bwd) / 2.0 - analytic).abs() < 1e-4,
                        "{logic:?} var {v} logit {j}: numeric {} vs analytic {analytic}", (fwd + bwd) / 2.0
                    );
                }
            }
        }
    }
}

#[test]
fn connectives_by_hand() {
    // Two one-variable atoms on a binary variable each: P(a) = 0.8, P(b) = 0.3.
    let atom = |var| skilang_logic::Atom::Table { vars: vec![var], allowed: vec![false, true] };
    let p = vec![vec![0.2, 0.8], vec![0.7, 0.3]];
    let truth = |formula: Formula, form: Form, logic: Logic| {
        let event = Event { domains: vec![2, 2], atoms: vec![atom(0), atom(1)], formula };
        let vars = vec![VarRef { learnable: 0, slot: 0, cell: 0 }, VarRef { learnable: 0, slot: 1, cell: 0 }];
        FuzzyEvent::new(&Grounded { event, vars, form }, NODE_LIMIT).unwrap().truth(logic, &p).value
    };
    let and = Formula::And(vec![Formula::Atom(0), Formula::Atom(1)]);
    let or = Formula::Or(vec![Formula::Atom(0), Formula::Atom(1)]);
    let implies = Form::Implies(Formula::Atom(0), Formula::Atom(1));
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    let product = Logic::new(Semantics::Product, None);
    let goedel = Logic::new(Semantics::Goedel, None);
    let luk = Logic::new(Semantics::Lukasiewicz, None);
    close(truth(and.clone(), Form::Plain, product), 0.24);
    close(truth(and.clone(), Form::Plain, goedel), 0.3);
    close(truth(and, Form::Plain, luk), 0.1);
    close(truth(or.clone(), Form::Plain, product), 0.86);
    close(truth(or.clone(), Form::Plain, goedel), 0.8);
    close(truth(or, Form::Plain, luk), 1.0);
    // Reichenbach 1 − a + ab, Gödel (a > b: b), Łukasiewicz min(1, 1 − a + b).
    close(truth(Formula::Const(true), implies.clone(), product), 1.0 - 0.8 + 0.24);
    close(truth(Formula::Const(true), implies.clone(), goedel), 0.3);
    close(truth(Formula::Const(true), implies, luk), 0.5);
}
