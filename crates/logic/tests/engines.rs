//! Every inference engine against the tests' own enumeration on random small events.

use num_bigint::BigInt;
use proptest::prelude::*;
use skilang_lang::spec::Kernel;
use skilang_logic::engine::{bp::Bp, enumerate::Enumerate, exact::Exact, sample::Sample, topk::TopK};
use skilang_logic::{compile, Atom, Cmp, Engine, Event, Formula, Inference, TooLarge, NODE_LIMIT};

mod common;
use common::*;

/// The engines that are exact on small events: top-k is, once k covers every model.
fn engines() -> Vec<Box<dyn Engine>> {
    vec![
        Box::new(Exact { limit: NODE_LIMIT }),
        Box::new(Enumerate { limit: usize::MAX }),
        Box::new(TopK { k: usize::MAX, expansions: usize::MAX }),
    ]
}

/// Belief propagation as the tests run it: to a tight tolerance (damped only on loopy graphs).
fn bp() -> Bp {
    Bp { iterations: 200, damping: 0.5, tolerance: 1e-13, limit: usize::MAX }
}

/// An atom over exactly `vars`: a linear comparison or a relation.
fn atom_over(domains: &[usize], vars: Vec<usize>) -> BoxedStrategy<Atom> {
    let tables: Vec<_> = vars.iter().map(|&v| prop::collection::vec(-2i64..4, domains[v])).collect();
    let cmps = prop::sample::select(vec![Cmp::Eq, Cmp::Ne, Cmp::Le, Cmp::Ge]);
    let rows: usize = vars.iter().map(|&v| domains[v]).product();
    let over = vars.clone();
    let sum = (tables, cmps, -4i64..10).prop_map(move |(tables, cmp, rhs)| Atom::Sum {
        terms: over.iter().zip(tables).map(|(&v, t)| (v, t.into_iter().map(BigInt::from).collect())).collect(),
        cmp,
        rhs: BigInt::from(rhs),
    });
    let table = prop::collection::vec(prop::bool::weighted(0.6), rows)
        .prop_map(move |allowed| Atom::Table { vars: vars.clone(), allowed });
    prop_oneof![sum, table].boxed()
}

/// Events whose factor graph is a tree: one atom over every variable, or a chain of atoms over
/// neighbouring variables (and one over the last).
fn tree_event() -> impl Strategy<Value = Event> {
    prop::collection::vec(1usize..5, 1..7)
        .prop_flat_map(|domains| {
            let n = domains.len();
            let chain: Vec<Vec<usize>> = (1..n).map(|i| vec![i - 1, i]).chain([vec![n - 1]]).collect();
            let scopes = prop_oneof![Just(chain), Just(vec![(0..n).collect::<Vec<_>>()])];
            (Just(domains), scopes)
        })
        .prop_flat_map(|(domains, scopes)| {
            let atoms: Vec<_> = scopes.into_iter().map(|vars| atom_over(&domains, vars)).collect();
            (Just(domains), atoms)
        })
        .prop_map(|(domains, atoms)| {
            let formula = Formula::and((0..atoms.len()).map(Formula::Atom).collect());
            Event { domains, atoms, formula }
        })
}

/// One clause: a disjunction of a condition on every variable, and a second one on the first.
fn clause_event() -> impl Strategy<Value = Event> {
    prop::collection::vec(1usize..5, 1..7)
        .prop_flat_map(|domains| {
            let conditions: Vec<_> = (0..domains.len()).chain([0]).map(|v| atom_over(&domains, vec![v])).collect();
            (Just(domains), conditions)
        })
        .prop_map(|(domains, atoms)| {
            let formula = Formula::or((0..atoms.len()).map(Formula::Atom).collect());
            Event { domains, atoms, formula }
        })
}

fn with_weights(event: Event) -> impl Strategy<Value = (Event, Vec<Vec<f64>>)> {
    let w = weights(&event.domains);
    (Just(event), w)
}

/// BP's answers equal enumeration's: log P, the marginals and the MAP score.
fn bp_is_exact(bp: &Bp, event: &Event, logw: &[Vec<f64>]) -> Result<(), TestCaseError> {
    let (total, joint) = reference(event, logw);
    let inference = bp.prepare(event).unwrap();
    let post = inference.posterior(logw);
    prop_assert_eq!(post.is_some(), total > 0.0);
    let Some(p) = post else { return Ok(()) };
    prop_assert!((p.log_prob - total.ln()).abs() < 1e-6, "log P {} vs {}", p.log_prob, total.ln());
    for (m, j) in p.marginals.iter().flatten().zip(joint.iter().flatten()) {
        prop_assert!((m - j / total).abs() < 1e-6, "marginal {m} vs {}", j / total);
    }
    let (z, s) = inference.map(logw).unwrap();
    let best = reference_map_score(event, logw).unwrap();
    prop_assert!(event.holds(&z) && (s - best).abs() < 1e-9, "MAP score {s} vs {best}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_engine_equals_enumeration((event, logw) in event_and_weights()) {
        let (total, joint) = reference(&event, &logw);
        let best = reference_map_score(&event, &logw);
        for engine in engines() {
            let name = engine.name();
            let inference = engine.prepare(&event).unwrap();
            let post = inference.posterior(&logw);
            prop_assert_eq!(post.is_some(), total > 0.0, "{}", name);
            if let Some(p) = post {
                prop_assert!((p.log_prob - total.ln()).abs() < 1e-9, "{name}: log P {} vs {}", p.log_prob, total.ln());
                prop_assert!((inference.log_prob(&logw) - p.log_prob).abs() < 1e-12, "{}", name);
                for (m, j) in p.marginals.iter().flatten().zip(joint.iter().flatten()) {
                    prop_assert!((m - j / total).abs() < 1e-9, "{name}: marginal {m} vs {}", j / total);
                }
            }
            let map = inference.map(&logw);
            prop_assert_eq!(map.is_some(), best.is_some(), "{}", name);
            if let (Some((z, s)), Some(b)) = (map, best) {
                prop_assert!((s - b).abs() < 1e-9, "{name}: MAP score {s} vs {b}");
                prop_assert!(event.holds(&z), "{name}: the MAP assignment satisfies the event");
                let own: f64 = z.iter().enumerate().map(|(v, &x)| logw[v][x]).sum();
                prop_assert!((own - s).abs() < 1e-9, "{name}: the MAP score is the assignment's");
            }
        }
    }

    /// ALGORITHMS.md §1: d(−log P)/d logit = p − q, so EM's fixed-target cross-entropy has the
    /// semantic loss's gradient. Checked against central finite differences.
    #[test]
    fn semantic_loss_gradient_is_prior_minus_posterior(
        (event, logits) in event().prop_flat_map(|e| {
            let l: Vec<_> = e.domains.iter().map(|&d| prop::collection::vec(-2.0f64..2.0, d)).collect();
            (Just(e), l)
        })
    ) {
        let d = compile(&event, NODE_LIMIT).unwrap();
        let logw = |ls: &[Vec<f64>]| ls.iter().map(|l| log_softmax(l)).collect::<Vec<_>>();
        let Some(post) = d.posterior(&logw(&logits)) else { return Ok(()) };
        for v in 0..logits.len() {
            let p: Vec<f64> = log_softmax(&logits[v]).iter().map(|x| x.exp()).collect();
            for k in 0..logits[v].len() {
                let h = 1e-5;
                let mut up = logits.clone();
                up[v][k] += h;
                let mut down = logits.clone();
                down[v][k] -= h;
                let numeric = -(d.log_prob(&logw(&up)) - d.log_prob(&logw(&down))) / (2.0 * h);
                let analytic = p[k] - post.marginals[v][k];
                prop_assert!((numeric - analytic).abs() < 1e-5, "var {v} value {k}: {numeric} vs {analytic}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Top-k's proofs (what LP pseudo-labels keep to) are the k most probable models over the
    /// variables the event reads, most probable first, each satisfying it.
    #[test]
    fn top_k_proofs_are_the_most_probable_models((event, logw) in event_and_weights()) {
        let vars = event.relevant();
        let score = |z: &[usize]| vars.iter().map(|&v| logw[v][z[v]]).sum::<f64>();
        // Every model over the relevant variables, once (the others held at 0).
        let mut all: Vec<f64> = assignments(&event.domains)
            .filter(|z| (0..z.len()).all(|v| vars.contains(&v) || z[v] == 0) && event.holds(z))
            .map(|z| score(&z))
            .collect();
        all.sort_by(|a, b| b.total_cmp(a));
        let search = TopK { k: 3, expansions: usize::MAX }.prepare(&event).unwrap();
        let proofs = search.proofs(&logw).expect("top-k gives proofs");
        prop_assert_eq!(proofs.len(), all.len().min(3));
        for (proof, want) in proofs.iter().zip(&all) {
            let mut z = vec![0; event.domains.len()];
            proof.iter().for_each(|&(v, x)| z[v] = x);
            prop_assert!(proof.iter().map(|(v, _)| *v).eq(vars.iter().copied()));
            prop_assert!(event.holds(&z));
            prop_assert!((score(&z) - want).abs() < 1e-9, "{} vs {want}", score(&z));
        }
    }

    /// The first model top-k finds is the most probable one, and with k = 1 it stands for the event.
    #[test]
    fn top_one_is_the_map_assignment((event, logw) in event_and_weights()) {
        let Some(best) = reference_map_score(&event, &logw) else { return Ok(()) };
        let first = TopK { k: 1, expansions: usize::MAX }.prepare(&event).unwrap();
        let p = first.posterior(&logw).unwrap();
        // The variables the event does not read are summed out of P, and maximised in the MAP.
        let vars = event.relevant();
        let free: f64 = (0..logw.len())
            .filter(|v| !vars.contains(v))
            .map(|v| logw[v].iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .sum();
        prop_assert!((p.log_prob + free - best).abs() < 1e-9, "{} + {free} vs {best}", p.log_prob);
        for v in vars {
            prop_assert!(p.marginals[v].iter().all(|&m| m == 0.0 || m == 1.0), "one model: one-hot marginals");
        }
    }

    /// ABC's exp kernel with a vanishing bandwidth is rejection sampling: every violated atom is at
    /// distance at least 1.
    #[test]
    fn a_narrow_exp_kernel_is_the_indicator((event, logw) in event_and_weights()) {
        let indicator = Sample { samples: 200, kernel: Kernel::Indicator, bandwidth: 1.0 }.prepare(&event).unwrap();
        let narrow = Sample { samples: 200, kernel: Kernel::Exp, bandwidth: 1e-9 }.prepare(&event).unwrap();
        if let Some(p) = indicator.posterior(&logw) {
            prop_assert_eq!(Some(p), narrow.posterior(&logw));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Rejection sampling converges to the exact posterior: at 10⁴ samples, on events of
    /// probability at least 0.1 (at least about 1,000 accepted samples), every variable's marginal
    /// is within 0.08 in total variation and P(event) within 15%.
    #[test]
    fn sampled_marginals_approach_the_exact_ones((event, logw) in event_and_weights()) {
        let (total, joint) = reference(&event, &logw);
        if total < 0.1 {
            return Ok(());
        }
        let sampler = Sample { samples: 10_000, kernel: Kernel::Indicator, bandwidth: 1.0 }.prepare(&event).unwrap();
        let p = sampler.posterior(&logw).unwrap();
        prop_assert!((p.log_prob - total.ln()).abs() < 0.15, "log P {} vs {}", p.log_prob, total.ln());
        for (m, j) in p.marginals.iter().zip(&joint) {
            let exact: Vec<f64> = j.iter().map(|x| x / total).collect();
            prop_assert!(total_variation(m, &exact) < 0.08, "{m:?} vs {exact:?}");
        }
        prop_assert_eq!(Some(p), sampler.posterior(&logw), "the same weights draw the same samples");
        let (z, _) = sampler.map(&logw).unwrap();
        prop_assert!(event.holds(&z));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// On a tree, sum-product is exact (marginals, and log P through the Bethe free energy) and
    /// max-product decodes the MAP assignment. A linear atom over all the variables is one chain
    /// factor: this is the chain against enumeration.
    #[test]
    fn belief_propagation_is_exact_on_trees((event, logw) in tree_event().prop_flat_map(with_weights)) {
        bp_is_exact(&bp(), &event, &logw)?;
    }

    /// A clause is one factor however many variables it spans (no table of their assignments):
    /// alone, it is exact.
    #[test]
    fn belief_propagation_is_exact_on_clauses((event, logw) in clause_event().prop_flat_map(with_weights)) {
        bp_is_exact(&Bp { limit: 1, ..bp() }, &event, &logw)?;
    }

    /// The negation of an event too large for one table is answered through the event's own
    /// graph: 1 − P(E), and the prior with E's share taken out; exact when that graph is a tree.
    /// Its MAP is searched near the most probable assignment: it breaks the event, and scores no
    /// better than the best that does.
    #[test]
    fn belief_propagation_negates_events_through_their_graph(
        (event, logw) in tree_event().prop_flat_map(with_weights)
    ) {
        let negated = Event { formula: Formula::negate(event.formula.clone()), ..event };
        let Ok(inference) = Bp { limit: 64, ..bp() }.prepare(&negated) else { return Ok(()) };
        let (total, joint) = reference(&negated, &logw);
        let post = inference.posterior(&logw);
        prop_assert_eq!(post.is_some(), total > 0.0);
        // Taking E's share out of the prior loses the digits P(¬E) lacks: test where it has some.
        if let Some(p) = post.filter(|_| total > 1e-3) {
            prop_assert!((p.log_prob - total.ln()).abs() < 1e-6, "log P {} vs {}", p.log_prob, total.ln());
            for (m, j) in p.marginals.iter().flatten().zip(joint.iter().flatten()) {
                prop_assert!((m - j / total).abs() < 1e-6, "marginal {m} vs {}", j / total);
            }
        }
        if let Some((z, s)) = inference.map(&logw) {
            let best = reference_map_score(&negated, &logw).unwrap();
            prop_assert!(negated.holds(&z) && s <= best + 1e-9, "MAP score {s} vs {best}");
        }
    }

    /// On any event, loopy or not, propagation ends with distributions and a finite log P when it
    /// answers. (On a loopy graph it may answer for an impossible event: locally consistent
    /// messages do not see every contradiction.)
    #[test]
    fn belief_propagation_answers_with_distributions((event, logw) in event_and_weights()) {
        if let Some(p) = bp().prepare(&event).unwrap().posterior(&logw) {
            prop_assert!(p.log_prob.is_finite());
            for m in &p.marginals {
                prop_assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9 && m.iter().all(|&x| (0.0..=1.0 + 1e-12).contains(&x)));
            }
        }
    }
}

/// `all_different` as grounding states it: `!=` between every two of n variables of n values, and
/// "value v is somewhere" for each value.
fn all_different_event(n: usize) -> Event {
    let mut atoms = Vec::new();
    let mut parts = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            atoms.push(Atom::Table { vars: vec![a, b], allowed: (0..n * n).map(|k| k / n != k % n).collect() });
            parts.push(Formula::Atom(atoms.len() - 1));
        }
    }
    for value in 0..n {
        let mut somewhere = Vec::new();
        for v in 0..n {
            atoms.push(Atom::Table { vars: vec![v], allowed: (0..n).map(|x| x == value).collect() });
            somewhere.push(Formula::Atom(atoms.len() - 1));
        }
        parts.push(Formula::or(somewhere));
    }
    Event { domains: vec![n; n], atoms, formula: Formula::and(parts) }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// BP finds the groups and makes each one permutation factor: exact, where the pairwise
    /// factors and clauses it replaces make a loopy graph that is not.
    #[test]
    fn belief_propagation_is_exact_on_all_different((event, logw) in (2usize..7).prop_flat_map(|n| with_weights(all_different_event(n)))) {
        bp_is_exact(&bp(), &event, &logw)?;
    }
}

/// Propagation says how it ended: on a tree it settles within a few rounds; on a loop of
/// inequalities (three variables all different, as in a Sudoku row) a cap of one round stops it
/// unsettled, and more rounds settle it.
#[test]
fn belief_propagation_reports_its_rounds_and_residual() {
    let ne = |a: usize, b: usize| Atom::Table { vars: vec![a, b], allowed: (0..9).map(|k| k / 3 != k % 3).collect() };
    let triangle = Event {
        domains: vec![3, 3, 3],
        atoms: vec![ne(0, 1), ne(1, 2), ne(0, 2)],
        formula: Formula::and((0..3).map(Formula::Atom).collect()),
    };
    let logw = vec![vec![-0.2, -1.9, -2.5], vec![-1.0, -0.6, -1.9], vec![-1.3, -1.1, -0.9]];
    let after = |iterations: usize| {
        let bp = Bp { iterations, damping: 0.5, tolerance: 1e-9, limit: usize::MAX };
        bp.prepare(&triangle).unwrap().posterior(&logw).unwrap().convergence.unwrap()
    };
    let capped = after(1);
    assert_eq!((capped.iterations, capped.settled), (1, false));
    assert!(capped.residual > 1e-9);
    let settled = after(1000);
    assert!(settled.settled && settled.iterations > 1 && settled.residual < 1e-9, "{settled:?}");
    let tree = Event { formula: Formula::Atom(0), ..triangle.clone() };
    let c = Bp { iterations: 100, damping: 0.5, tolerance: 1e-9, limit: usize::MAX }
        .prepare(&tree)
        .unwrap()
        .posterior(&logw)
        .unwrap()
        .convergence
        .unwrap();
    assert!(c.settled && c.iterations <= 2, "{c:?}");
}

/// Two N-digit numbers with an observed sum: `Σ 10^i (a_i + b_i) == s`.
fn addition(n: usize, sum: &BigInt) -> Event {
    let terms = (0..2 * n)
        .map(|v| {
            let w = num_traits::pow(BigInt::from(10), v % n);
            (v, (0..10).map(|d| &w * d).collect())
        })
        .collect();
    Event {
        domains: vec![10; 2 * n],
        atoms: vec![Atom::Sum { terms, cmp: Cmp::Eq, rhs: sum.clone() }],
        formula: Formula::Atom(0),
    }
}

#[test]
fn addition_compiles_to_size_linear_in_the_digits() {
    let mut sizes = Vec::new();
    for n in [4usize, 15, 100, 1000] {
        // 4…4 + 5…5 = 9…9: every digit pair summing to 9 (or carrying) stays possible.
        let a: BigInt = "4".repeat(n).parse().unwrap();
        let b: BigInt = "5".repeat(n).parse().unwrap();
        let d = compile(&addition(n, &(a + b)), NODE_LIMIT).unwrap();
        sizes.push((n, d.size()));
        assert!(d.size() <= 30 * n, "N = {n}: {} nodes", d.size());
    }
    // Linear: nodes per digit do not grow with N.
    let per: Vec<f64> = sizes.iter().map(|&(n, s)| s as f64 / n as f64).collect();
    assert!(per.last().unwrap() <= &(per[1] * 1.1), "{sizes:?}");
}

/// `max(z_0, …, z_{m−1}) == s` as one table: its prefixes leave one relation per maximum so far
/// (below s, or s reached), so the diagram has two nodes per digit, not one per prefix, and its
/// probability is the closed form F(s)^m − F(s−1)^m.
#[test]
fn a_tables_equal_residuals_share_nodes() {
    for m in 2..=5usize {
        let s = 6;
        let allowed = (0..10usize.pow(m as u32))
            .map(|i| (0..m).map(|k| i / 10usize.pow(k as u32) % 10).max() == Some(s))
            .collect();
        let vars: Vec<usize> = (0..m).collect();
        let event =
            Event { domains: vec![10; m], atoms: vec![Atom::Table { vars, allowed }], formula: Formula::Atom(0) };
        let d = compile(&event, NODE_LIMIT).unwrap();
        assert!(d.size() <= 2 * m, "M = {m}: {} nodes", d.size());
        let r: Vec<f64> = (1..=10).map(|c| c as f64 / 55.0).collect();
        let cdf = |k: usize| r[..=k].iter().sum::<f64>();
        let logw = vec![r.iter().map(|x| x.ln()).collect::<Vec<_>>(); m];
        let want = cdf(s).powi(m as i32) - cdf(s - 1).powi(m as i32);
        assert!((d.log_prob(&logw).exp() - want).abs() < 1e-12, "M = {m}");
    }
}

#[test]
fn addition_posterior_is_uniform_over_consistent_digit_pairs() {
    // One digit each, sum 8: nine pairs (0,8) … (8,0), equally likely under uniform priors.
    let e = addition(1, &BigInt::from(8));
    let logw = vec![vec![(0.1f64).ln(); 10]; 2];
    let post = compile(&e, NODE_LIMIT).unwrap().posterior(&logw).unwrap();
    assert!((post.log_prob - (0.09f64).ln()).abs() < 1e-12);
    assert!((post.marginals[0][3] - 1.0 / 9.0).abs() < 1e-12);
    assert_eq!(post.marginals[0][9], 0.0);
}

/// Digits that are nearly certain, with the sum of other digits than the most probable ones:
/// the search prunes from the leading digits and finds the models the sum allows.
#[test]
fn top_k_finds_the_models_of_fifteen_digit_sums_within_its_budget() {
    let n = 15;
    let a: BigInt = "271828182845904".parse().unwrap();
    let b: BigInt = "314159265358979".parse().unwrap();
    let digits = |x: &BigInt| x.to_string().bytes().rev().map(|c| (c - b'0') as usize).collect::<Vec<_>>();
    let (da, db) = (digits(&a), digits(&b));
    // Each digit's network is 90% sure of the true digit, except the units of `a`: it reads 3 for 4.
    let mut logw: Vec<Vec<f64>> = da
        .iter()
        .chain(&db)
        .map(|&d| (0..10).map(|x| if x == d { 0.9f64.ln() } else { (0.1f64 / 9.0).ln() }).collect())
        .collect();
    logw[0] = (0..10).map(|x| if x == 3 { 0.9f64.ln() } else { (0.1f64 / 9.0).ln() }).collect();
    let event = addition(n, &(&a + &b));
    let search = TopK { k: 3, expansions: skilang_logic::engine::topk::EXPANSION_LIMIT }.prepare(&event).unwrap();
    let p = search.posterior(&logw).unwrap();
    let (z, _) = search.map(&logw).unwrap();
    assert!(event.holds(&z));
    assert_eq!(z[0], 4, "the sum corrects the misread digit");
    assert!(p.marginals[0][4] > 0.3, "{:?}", p.marginals[0]);
    // The exact posterior agrees on the most probable reading.
    let exact = compile(&event, NODE_LIMIT).unwrap().posterior(&logw).unwrap();
    assert!(p.log_prob <= exact.log_prob + 1e-12 && p.log_prob > exact.log_prob - 1.0);
}

/// N-digit addition is one chain factor of a few states per digit: belief propagation gives the
/// exact posterior at N = 15 and 100.
#[test]
fn belief_propagation_chains_multi_digit_sums() {
    for n in [15usize, 100] {
        let a: BigInt = "4".repeat(n).parse().unwrap();
        let b: BigInt = "57".repeat(n / 2 + 1)[..n].parse().unwrap();
        let event = addition(n, &(a + b));
        let logw: Vec<Vec<f64>> = (0..2 * n)
            .map(|v| log_softmax(&(0..10).map(|x| ((v * 7 + x * 3) % 11) as f64 / 3.0).collect::<Vec<_>>()))
            .collect();
        let exact = compile(&event, NODE_LIMIT).unwrap().posterior(&logw).unwrap();
        let belief = bp().prepare(&event).unwrap().posterior(&logw).unwrap();
        assert!(
            (exact.log_prob - belief.log_prob).abs() < 1e-6 * n as f64,
            "N = {n}: {} vs {}",
            exact.log_prob,
            belief.log_prob
        );
        for (e, b) in exact.marginals.iter().flatten().zip(belief.marginals.iter().flatten()) {
            assert!((e - b).abs() < 1e-6, "N = {n}: {e} vs {b}");
        }
    }
}

#[test]
fn too_large_events_are_refused_with_the_alternatives() {
    // Weights that are distinct primes keep (almost) every partial sum apart.
    let primes = [101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157];
    let terms = primes.iter().enumerate().map(|(v, &p)| (v, (0..10).map(|d| BigInt::from(d * p)).collect())).collect();
    let e = Event {
        domains: vec![10; 12],
        atoms: vec![Atom::Sum { terms, cmp: Cmp::Eq, rhs: BigInt::from(5 * primes.iter().sum::<i64>()) }],
        formula: Formula::Atom(0),
    };
    let err = compile(&e, 1000).unwrap_err();
    assert!(err.to_string().contains("approximate inference"), "{err}");
}

#[test]
fn enumeration_refuses_events_beyond_its_limit_saying_how_many_assignments() {
    let e = addition(3, &BigInt::from(1998));
    let err = Enumerate { limit: 100_000 }.prepare(&e).unwrap_err();
    assert_eq!(err, TooLarge::Assignments { assignments: 1_000_000u32.into(), variables: 6, limit: 100_000 }, "{err}");
    assert!(err.to_string().contains("1000000 assignments of 6 variables"), "{err}");
    let fits = Enumerate { limit: 100_000 }.prepare(&addition(2, &BigInt::from(198))).unwrap();
    assert_eq!(fits.size(), 1, "only 99 + 99 sums to 198");
}

/// Central differences of `log_prob` in each log-weight against the engine's gradient.
fn gradient_matches_differences(inference: &dyn Inference, logw: &[Vec<f64>]) -> Result<(), TestCaseError> {
    let Some(g) = inference.gradient(logw) else { return Ok(()) };
    prop_assert!((g.log_prob - inference.log_prob(logw)).abs() < 1e-9);
    let h = 1e-6;
    for v in 0..logw.len() {
        for k in 0..logw[v].len() {
            let at = |delta: f64| {
                let mut w = logw.to_vec();
                w[v][k] += delta;
                inference.log_prob(&w)
            };
            let (up, down) = (at(h), at(-h));
            if !(up.is_finite() && down.is_finite()) {
                continue;
            }
            let numeric = (up - down) / (2.0 * h);
            let analytic = g.d_logw[v][k];
            prop_assert!(
                (numeric - analytic).abs() < 1e-5 * analytic.abs().max(1.0),
                "var {v} value {k}: differences {numeric} vs gradient {analytic}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// BP-std: on a tree, once settled, the derivative of the Bethe estimate is the exact
    /// posterior — the semantic loss's gradient.
    #[test]
    fn unrolled_gradient_is_the_posterior_on_trees((event, logw) in tree_event().prop_flat_map(with_weights)) {
        let (total, joint) = reference(&event, &logw);
        let g = bp().prepare(&event).unwrap().gradient(&logw);
        prop_assert_eq!(g.is_some(), total > 0.0);
        let Some(g) = g else { return Ok(()) };
        for (d, j) in g.d_logw.iter().flatten().zip(joint.iter().flatten()) {
            prop_assert!((d - j / total).abs() < 1e-6, "derivative {d} vs marginal {}", j / total);
        }
    }

    /// On loopy events, stopped after a few rounds far from settled, the gradient is that of the
    /// estimate those rounds compute: it goes through every round (a fixed-point gradient, the
    /// beliefs, fails this).
    #[test]
    fn unrolled_gradient_differentiates_the_rounds_run(
        (event, logw) in event_and_weights(),
        rounds in 1usize..6,
        damping in prop::sample::select(vec![0.0, 0.5]),
    ) {
        let bp = Bp { iterations: rounds, damping, tolerance: 0.0, limit: usize::MAX };
        gradient_matches_differences(bp.prepare(&event).unwrap().as_ref(), &logw)?;
    }

    /// Through a negation answered by its event's graph, and through permutation factors.
    #[test]
    fn unrolled_gradient_passes_negations_and_permutations(
        (event, logw) in tree_event().prop_flat_map(with_weights),
        (all_different, w) in (2usize..6).prop_flat_map(|n| with_weights(all_different_event(n))),
    ) {
        let negated = Event { formula: Formula::negate(event.formula.clone()), ..event };
        let bp = Bp { iterations: 3, damping: 0.5, tolerance: 0.0, limit: 64 };
        // 1 − P(E) loses its digits as P(E) nears 1: differences are checked where it has some.
        if let Some(inference) = bp.prepare(&negated).ok().filter(|i| i.log_prob(&logw) > 1e-3f64.ln()) {
            gradient_matches_differences(inference.as_ref(), &logw)?;
        }
        gradient_matches_differences(bp.prepare(&all_different).unwrap().as_ref(), &w)?;
    }
}
