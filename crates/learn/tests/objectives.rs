//! The objectives on tiny hand-made problems, where they can fail: each one's gradient on the
//! logits against finite differences of the loss it reports, hard EM's targets against the MAP
//! assignment found by enumeration, and EM with two M-steps against the semantic loss after one
//! batch of the real training loop.

use burn::prelude::*;
use burn::tensor::TensorData;
use num_bigint::BigInt;
use skilang_data::rng::Rng;
use skilang_lang::check::ConstraintId;
use skilang_lang::spec::{Layer, Optimizer, Semantics, TruthLoss};
use skilang_learn::batch::{log_probs, BatchRows, Reader};
use skilang_learn::examples::{Constraint, Example, Prepared};
use skilang_learn::input::InputShape;
use skilang_learn::model::Net;
use skilang_learn::objective::fuzzy::Fuzzy;
use skilang_learn::objective::reasoned::{Em, SemanticLoss};
use skilang_learn::objective::{Batch, Objective, Targets};
use skilang_learn::schedule::Schedule;
use skilang_learn::settings::Settings;
use skilang_learn::task::Inputs;
use skilang_learn::train::{fit, State};
use skilang_learn::weak::Constrained;
use skilang_logic::engine::exact::Exact;
use skilang_logic::{Atom, Cmp, Engine, Event, Form, Formula, FuzzyEvent, Grounded, Logic, VarRef, NODE_LIMIT};

const CLASSES: usize = 3;

/// Example `i` reads rows 2i and 2i + 1, whose classes (0, 1, 2) must sum to `sums[i]`; the
/// second constraint, on even examples only, says the first class is not 0.
fn examples(sums: &[i64], fuzzy: bool) -> Vec<Example> {
    let engine = Exact { limit: NODE_LIMIT };
    let table = |w: i64| (0..CLASSES as i64).map(|k| BigInt::from(k * w)).collect::<Vec<_>>();
    sums.iter()
        .enumerate()
        .map(|(i, &s)| {
            let sum = Event {
                domains: vec![CLASSES; 2],
                atoms: vec![Atom::Sum { terms: vec![(0, table(1)), (1, table(1))], cmp: Cmp::Eq, rhs: s.into() }],
                formula: Formula::Atom(0),
            };
            let nonzero = Event {
                domains: vec![CLASSES],
                atoms: vec![Atom::Table { vars: vec![0], allowed: vec![false, true, true] }],
                formula: Formula::Atom(0),
            };
            let events = if i % 2 == 0 { vec![(0, 0.7, sum), (1, 0.3, nonzero)] } else { vec![(0, 1.0, sum)] };
            let constraints = events
                .into_iter()
                .map(|(c, share, event)| {
                    let vars = (0..event.domains.len()).map(|slot| VarRef { learnable: 0, slot, cell: 0 }).collect();
                    let grounded = Grounded { event, vars, form: Form::Plain };
                    let prepared = if fuzzy {
                        Prepared::Fuzzy(FuzzyEvent::new(&grounded, NODE_LIMIT).unwrap())
                    } else {
                        Prepared::Inference(engine.prepare(&grounded.event).unwrap())
                    };
                    Constraint {
                        constraint: ConstraintId::at(c),
                        share,
                        grounded: grounded.into(),
                        prepared: prepared.into(),
                    }
                })
                .collect();
            Example { rows: vec![2 * i, 2 * i + 1], constraints }
        })
        .collect()
}

fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn random_logits(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n * CLASSES).map(|_| (uniform(&mut rng) * 4.0 - 2.0) as f32).collect()
}

/// The objective's loss (as it reports it, averaged over the examples) and the gradient of the
/// loss it trains with, on `logits` taken as the parameters.
fn loss_and_gradient(objective: &dyn Objective, examples: &[Example], logits: &[f32]) -> (f64, Vec<f32>) {
    let device = skilang_learn::device(1);
    let refs: Vec<&Example> = examples.iter().collect();
    let rows = BatchRows::new(&refs, &[1], false);
    assert_eq!(rows.rows[0], (0..2 * examples.len()).collect::<Vec<_>>(), "rows in order of first use");
    let n = logits.len() / CLASSES;
    let leaf = Tensor::<2>::from_data(TensorData::new(logits.to_vec(), [n, CLASSES]), &device).require_grad();
    let all = [leaf.clone()];
    let logp = log_probs(&all);
    let batch = Batch { examples: &refs, rows: &rows, logits: &all, logp: &logp, device: &device };
    let signal = objective.signal(&batch).unwrap();
    let loss = signal.targets.as_ref().and_then(|t| t.loss(&all, examples.len(), &device)).unwrap();
    let grad = leaf.grad(&loss.backward()).unwrap().into_data().try_to_vec::<f32>().unwrap();
    (signal.stats.loss / examples.len() as f64, grad)
}

fn assert_gradient_matches_finite_differences(objective: &dyn Objective, examples: &[Example], what: &str) {
    let logits = random_logits(2 * examples.len(), 7);
    let (_, grad) = loss_and_gradient(objective, examples, &logits);
    let h = 1e-2;
    for (j, g) in grad.iter().enumerate() {
        let at = |d: f32| {
            let mut l = logits.clone();
            l[j] += d;
            loss_and_gradient(objective, examples, &l).0
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h as f64);
        assert!(
            (numeric - *g as f64).abs() < 2e-3 + 1e-2 * numeric.abs(),
            "{what}: logit {j}: analytic {g} vs numeric {numeric}"
        );
    }
    assert!(grad.iter().any(|g| g.abs() > 1e-3), "{what}: a gradient that is not flat");
}

#[test]
fn semantic_loss_and_soft_em_have_the_gradient_of_minus_log_p() {
    let ex = examples(&[2, 3, 1, 4], false);
    assert_gradient_matches_finite_differences(&SemanticLoss, &ex, "semantic loss");
    assert_gradient_matches_finite_differences(&Em { hard: false, m_steps: 3 }, &ex, "soft EM");
}

#[test]
fn fuzzy_constraining_has_the_gradient_of_its_loss() {
    let ex = examples(&[2, 3, 1, 4], true);
    for semantics in [Semantics::Product, Semantics::Goedel, Semantics::Lukasiewicz] {
        for loss in [TruthLoss::Linear, TruthLoss::Log] {
            let objective = Fuzzy { logic: Logic::new(semantics, None), loss };
            assert_gradient_matches_finite_differences(&objective, &ex, &format!("fuzzy {semantics:?} {loss:?}"));
        }
    }
}

#[test]
fn hard_em_targets_are_the_map_assignment() {
    let ex = examples(&[2, 3, 1, 4, 0, 2], false);
    let logits = random_logits(2 * ex.len(), 11);
    let device = skilang_learn::device(1);
    let refs: Vec<&Example> = ex.iter().collect();
    let rows = BatchRows::new(&refs, &[1], false);
    let all = [Tensor::<2>::from_data(TensorData::new(logits, [2 * ex.len(), CLASSES]), &device)];
    let logp = log_probs(&all);
    let batch = Batch { examples: &refs, rows: &rows, logits: &all, logp: &logp, device: &device };
    let Some(Targets::Distributions(t)) = (Em { hard: true, m_steps: 1 }).signal(&batch).unwrap().targets else {
        panic!("EM gives target distributions");
    };
    for (i, e) in ex.iter().enumerate() {
        // Each constraint is its own term of the loss: it adds its share of a one-hot target at
        // its own most probable satisfying assignment, found here by enumeration.
        let mut expected = vec![vec![0.0; CLASSES]; 2];
        for c in &e.constraints {
            let width = c.grounded.vars.len();
            let score = |z: &[usize]| z.iter().enumerate().map(|(v, &k)| logp[0][2 * i + v][k]).sum::<f64>();
            let all = (0..CLASSES.pow(width as u32))
                .map(|k| (0..width).map(|v| k / CLASSES.pow(v as u32) % CLASSES).collect::<Vec<_>>());
            let map = all.filter(|z| c.grounded.event.holds(z)).max_by(|x, y| score(x).total_cmp(&score(y))).unwrap();
            for (v, &k) in map.iter().enumerate() {
                expected[v][k] += c.share;
            }
        }
        assert_eq!(t[0][2 * i], expected[0], "example {i}, first digit");
        assert_eq!(t[0][2 * i + 1], expected[1], "example {i}, second digit");
    }
}

/// One batch of the real loop, on a linear network over 4 random inputs per row: EM with two
/// M-steps moves the weights further than the semantic loss, which EM with one M-step equals.
#[test]
fn em_with_two_m_steps_differs_from_the_semantic_loss_after_one_batch() {
    let ex = examples(&[2, 3, 1, 4, 0, 2, 3, 1], false);
    let rows = 2 * ex.len();
    let mut rng = Rng::new(3);
    let inputs = Inputs::Vectors { width: 4, values: (0..rows * 4).map(|_| uniform(&mut rng) as f32).collect() };
    let reader = Reader { shape: InputShape::Vector(4), inputs: &inputs, classes: CLASSES, cells: 1, augment: None };
    let settings = Settings {
        epochs: 1,
        batch_size: ex.len(),
        learning_rate: 0.1,
        schedule: Schedule::Constant { warmup: 0.0 },
        optimizer: Optimizer::Sgd,
        weight_decay: 0.0,
        momentum: 0.0,
        seed: 1,
        validation: 0.0,
        patience: None,
        records: false,
    };
    // One initial network for all three: the device's random state is shared by the tests that
    // run beside this one, so building it three times would not give three equal networks.
    let device = skilang_learn::device(5);
    let layer = Layer::Linear { input: None, units: None, activation: None, dropout: None };
    let initial = Net::new("digit", &[layer], InputShape::Vector(4), CLASSES, 1, &device).unwrap();
    let trained = |objective: Box<dyn Objective>| {
        let objectives = [objective];
        let learner =
            Constrained { readers: &[reader], train: &ex, valid: &[], objectives: &objectives, device: &device };
        let state = State::new(vec![initial.clone()], Rng::new(1), &settings);
        let out = fit(&learner, state, &settings, &device, &mut |_| {}, &mut |_| Ok(())).unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(inputs.rows(&[0, 1, 2]), [3, 4, 1, 1]), &device);
        out.nets[0].forward(x).into_data().try_to_vec::<f32>().unwrap()
    };
    let sl = trained(Box::new(SemanticLoss));
    let em1 = trained(Box::new(Em { hard: false, m_steps: 1 }));
    let em2 = trained(Box::new(Em { hard: false, m_steps: 2 }));
    assert_eq!(sl, em1, "one M-step is one semantic-loss step");
    let gap = sl.iter().zip(&em2).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(gap > 1e-3, "a second M-step moves the network further: {sl:?} vs {em2:?}");
}
