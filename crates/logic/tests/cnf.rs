//! The CNF of grounded events (CL-STE): the same models as the event, and the straight-through
//! gradient of the clause losses in the form ALGORITHMS.md §3 gives it.

use num_bigint::BigInt;
use proptest::prelude::*;
use skilang_logic::cnf::{ClauseWeights, Cnf, Lit, Node};
use skilang_logic::dimacs::Dimacs;
use skilang_logic::{Atom, Cmp, Event, Formula};

mod common;
use common::{assignments, event};

/// Every assignment of every network atom (one-hot or not) of small events.
fn bits(n: usize) -> impl Iterator<Item = Vec<bool>> {
    (0..1u32 << n).map(move |m| (0..n).map(|i| m >> i & 1 == 1).collect())
}

fn holds(clauses: &[Vec<Lit>], values: &[bool]) -> bool {
    clauses.iter().all(|c| c.iter().any(|l| values[l.node as usize] == l.positive))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Under the auxiliary atoms' definitions, the clauses hold exactly on the one-hot
    /// assignments that satisfy the event: the CNF's models, restricted to the network atoms,
    /// are the event's.
    #[test]
    fn the_cnf_has_the_events_models(event in event()) {
        let cnf = Cnf::encode(&event, true).unwrap();
        let definitions = cnf.definitions();
        let atoms: Vec<(usize, usize)> = cnf.nodes.iter().filter_map(|n| match n {
            Node::Class { var, class } => Some((*var, *class)),
            _ => None,
        }).collect();
        for z in assignments(&event.domains) {
            let values = cnf.values(&z);
            prop_assert!(holds(&definitions, &values), "definitions hold under their own values");
            prop_assert_eq!(holds(&cnf.clauses, &values), event.holds(&z), "at {:?}", z);
        }
        // Not one-hot: some exactly-one clause fails (small events only).
        if atoms.len() <= 12 {
            for b in bits(atoms.len()) {
                let values = cnf.evaluate(|v, k| b[atoms.iter().position(|&a| a == (v, k)).unwrap()]);
                let one_hot = atoms.iter().map(|a| a.0).all(|v| {
                    atoms.iter().zip(&b).filter(|(a, &on)| a.0 == v && on).count() == 1
                });
                if !one_hot {
                    prop_assert!(!holds(&cnf.clauses, &values));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The whole CNF written as DIMACS reads back the same, and its clauses (definitions
    /// included) hold under the encoding's own values exactly where the event does.
    #[test]
    fn dimacs_round_trip(event in event()) {
        let cnf = Cnf::encode(&event, true).unwrap();
        let (d, names) = cnf.dimacs();
        prop_assert_eq!(Dimacs::parse(&d.write()).unwrap(), d.clone());
        prop_assert_eq!(names.len(), d.variables);
        prop_assert_eq!(cnf.size(), d.clauses.iter().map(Vec::len).sum::<usize>(), "the size is what DIMACS writes");
        for z in assignments(&event.domains) {
            let values = cnf.values(&z);
            let holds = d.clauses.iter().all(|c| c.iter().any(|&l| values[l.unsigned_abs() as usize - 1] == (l > 0)));
            prop_assert_eq!(holds, event.holds(&z));
        }
    }
}

#[test]
fn malformed_dimacs_is_located() {
    let cases = [
        ("1 2 0\n", "line 1: a clause before the `p cnf` line"),
        ("c x\np cnf 2 1\n1 -3 0\n", "line 3: variable 3 is beyond the 2 the header declares"),
        ("p cnf 2 2\n1 2 0\n", "line 2: the header declares 2 clauses, the file has 1"),
        ("p cnf 2 1\n1 2\n", "line 2: the last clause is not ended by 0"),
        ("p cnf two 1\n", "line 1: expected `p cnf VARIABLES CLAUSES`, found `p cnf two 1`"),
        ("p cnf 2 1\n1 x 0\n", "line 2: `x` is not a literal"),
    ];
    for (text, message) in cases {
        assert_eq!(Dimacs::parse(text).unwrap_err().to_string(), message, "{text:?}");
    }
    let d = Dimacs::parse("c CL-STE style\np cnf 3 2\n1 -2 0\n3 0\n").unwrap();
    assert_eq!(d, Dimacs { variables: 3, clauses: vec![vec![1, -2], vec![3]] });
}

/// N-digit addition stays a chain: its encoding grows linearly in N, not as 10^N.
#[test]
fn multi_digit_sums_encode_linearly() {
    let size = |n: usize| {
        // Σ_i 10^i (a_i + b_i) == 10^n − 1 + 10^(n−1).
        let terms =
            (0..2 * n).map(|v| (v, (0..10).map(|d| BigInt::from(d) * BigInt::from(10).pow((v % n) as u32)).collect()));
        let rhs = BigInt::from(10).pow(n as u32) - 1 + BigInt::from(10).pow(n as u32 - 1);
        let event = Event {
            domains: vec![10; 2 * n],
            atoms: vec![Atom::Sum { terms: terms.collect(), cmp: Cmp::Eq, rhs }],
            formula: Formula::Atom(0),
        };
        Cnf::encode(&event, true).unwrap().nodes.len()
    };
    let (s15, s30, s100) = (size(15), size(30), size(100));
    assert!(s100 < 100 * 2_000, "{s100} atoms for 100 digits");
    let ratio = (s30 - s15) as f64 / (s100 - s30) as f64 * (70.0 / 15.0);
    assert!((0.8..1.25).contains(&ratio), "growth per digit {s15} {s30} {s100}");
}

/// ALGORITHMS.md §3 on a hand-made batch: a violated clause pushes each of its atoms towards
/// satisfying it by 1/(violated clauses), a satisfied one keeps its atoms where they are by
/// 1/(satisfied clauses), a unit clause adds its own −sign; through an auxiliary atom the
/// gradient is that of its product relaxation.
#[test]
fn the_straight_through_gradient_has_the_published_form() {
    // z0 + z1 == 3 over two binary... digits of 0..4, predicted 0 and 1 (binarised), so the
    // constraint clause is violated.
    let event = Event {
        domains: vec![4, 4],
        atoms: vec![Atom::Sum {
            terms: vec![(0, (0..4).map(BigInt::from).collect()), (1, (0..4).map(BigInt::from).collect())],
            cmp: Cmp::Eq,
            rhs: BigInt::from(3),
        }],
        formula: Formula::Atom(0),
    };
    let cnf = Cnf::encode(&event, true).unwrap();
    let p = [[0.7, 0.1, 0.1, 0.1], [0.2, 0.6, 0.1, 0.1]];
    let a = cnf.assess(|v, k| p[v][k] >= 0.5, |v, k| p[v][k]);
    assert!(a.violated[0], "0 + 1 is not 3");
    let violated = a.violated();
    let satisfied = a.violated.len() - violated;
    let w = ClauseWeights { unsat: 1.0 / violated as f64, sat: 1.0 / satisfied as f64, normalize: false };
    let g = cnf.gradient(&a, w);
    let at = |v: usize, k: usize| g.iter().filter(|x| x.0 == v && x.1 == k).map(|x| x.2).sum::<f64>();
    // Normalised, the violated clause's part is divided by its relaxed truth 1 − Π (1 − literal).
    let normalized = cnf.gradient(&a, ClauseWeights { normalize: true, ..w });
    let truth = 1.0 - (0..4).map(|a| 1.0 - p[0][a] * p[1][3 - a]).product::<f64>();
    let at_normalized =
        |v: usize, k: usize| normalized.iter().filter(|x| x.0 == v && x.1 == k).map(|x| x.2).sum::<f64>();
    // The constraint is one clause, over the ways to reach 3 (as CL-STE writes it): its
    // literals are the conjunctions z0 = a ∧ z1 = 3 − a, relaxed as p0[a] p1[3 − a]; violated,
    // each is pushed up by w.unsat.
    assert_eq!(cnf.constraint_clauses, 1);
    assert_eq!(cnf.clauses[0].len(), 4);
    let root = |p: &[[f64; 4]; 2]| (0..4).map(|a| p[0][a] * p[1][3 - a]).sum::<f64>();
    for v in 0..2 {
        for k in 0..4 {
            let mut q = p;
            let h = 1e-6;
            q[v][k] += h;
            let up = root(&q);
            q[v][k] -= 2.0 * h;
            let numeric = (up - root(&q)) / (2.0 * h);
            // Violated: −w.unsat through each literal's relaxation; plus the exactly-one
            // clauses: each satisfied, each atom kept at its value: w.sat (1 − 2v) per clause the
            // atom is in (one at-least-one and three at-most-one clauses).
            let kept = w.sat * (1.0 - 2.0 * (p[v][k] >= 0.5) as u8 as f64) * 4.0;
            let expected = -w.unsat * numeric + kept;
            assert!((at(v, k) - expected).abs() < 1e-6, "∂/∂p{v}[{k}]: {} vs {expected}", at(v, k));
            let expected = -w.unsat * numeric / truth + kept;
            assert!((at_normalized(v, k) - expected).abs() < 1e-6, "normalised ∂/∂p{v}[{k}]");
        }
    }
}
