//! Learning from constraints (ALGORITHMS.md §1–2, §5): semantic loss and EM with exact inference,
//! and fuzzy constraining.
//!
//! Each example is a tuple of instances. Its constraints are grounded once, from the observed
//! values only (the weak label), and compiled into decision diagrams. Per batch, the networks give
//! a distribution per latent application (`digit(x3)`); the diagrams give log P(φ) and the
//! posterior marginals q; the loss is a cross-entropy towards q, whose gradient p − q is exactly
//! the semantic loss's (ALGORITHMS.md §1). EM holds q fixed for `m_steps` steps, or uses the MAP
//! assignment (`hard`). Gold classes of training instances are never read: inputs go to the
//! networks, and observed values reach training only through grounded events.
//!
//! Fuzzy constraining takes each grounded constraint's truth degree under the networks'
//! distributions (`skilang_logic::fuzzy`) and its gradient, and minimises Σ weight · (1 − truth),
//! or Σ weight · −log truth (`loss: log`: 1 − t stalls where t is small, as mean absolute error
//! does, while −log t keeps its gradient; on a supervision constraint it is the cross-entropy);
//! column-wise constraints add their truth on the batch's rows, computed on tensors
//! ([`crate::columnwise`]).

use crate::columnwise::{self, Outcome};
use crate::model::{InputShape, Net};
use crate::task::Inputs;
use crate::train::{input_tensor, optimizer, Best, Epoch, Progress, Settings};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::{activation, TensorData};
use rayon::prelude::*;
use skilang_data::rng::Rng;
use skilang_data::{tuples, Data, Table, Values};
use skilang_lang::check::{Program, Scope};
use skilang_lang::spec::{ColumnType, Dataset, Spec, TruthLoss, Value};
pub use skilang_logic::Logic;
use skilang_logic::{
    argmax, compile, Diagram, FuzzyEvent, GroundError, Grounded, Grounder, Memo, Observed, NODE_LIMIT,
};
use std::collections::{BTreeMap, HashMap};

/// How a posterior becomes a training target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// −log P(φ): the gradient p − q, one step per batch.
    SemanticLoss,
    /// Posterior marginals (or the MAP assignment, `hard`) as fixed targets for `m_steps` steps.
    Em { hard: bool, m_steps: usize },
    /// Σ weight · loss(truth) with fuzzy connectives.
    Fuzzy(Logic, TruthLoss),
}

/// Truth degrees below this count as this, so that −log t stays finite.
const MIN_TRUTH: f64 = 1e-7;

/// The loss of a truth degree and its derivative.
fn penalty(loss: TruthLoss, t: f64) -> (f64, f64) {
    match loss {
        TruthLoss::Linear => (1.0 - t, -1.0),
        TruthLoss::Log if t < MIN_TRUTH => (-MIN_TRUTH.ln(), 0.0),
        TruthLoss::Log => (-t.ln(), -1.0 / t),
    }
}

/// [`penalty`] on a tensor of truth degrees.
fn penalty_tensor(loss: TruthLoss, t: Tensor<1>) -> Tensor<1> {
    match loss {
        TruthLoss::Linear => t.neg() + 1.0,
        TruthLoss::Log => t.clamp_min(MIN_TRUTH as f32).log().neg(),
    }
}

/// The constraints that hold per example, with their shares of the total weight.
#[derive(Clone, Debug)]
pub struct Knowledge {
    /// (constraint index, share)
    pub constraints: Vec<(usize, f64)>,
}

/// One constraint grounded and compiled for one example.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The constraint's position in the spec (from 0).
    pub constraint: usize,
    pub share: f64,
    pub grounded: Grounded,
    pub engine: Engine,
}

/// What a grounded constraint is compiled into.
#[derive(Clone, Debug)]
pub enum Engine {
    Exact(Diagram),
    Fuzzy(FuzzyEvent),
    /// Nothing: validation and test examples are only evaluated under the networks' most likely
    /// classes, which the grounded event answers by itself.
    Crisp,
}

/// What examples are prepared for: training by exact inference or fuzzy truth, or evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepare {
    Exact,
    Fuzzy,
    Crisp,
}

impl Compiled {
    /// Decision nodes of the exact engine's diagram.
    pub fn size(&self) -> usize {
        match &self.engine {
            Engine::Exact(d) => d.size(),
            Engine::Fuzzy(_) | Engine::Crisp => 0,
        }
    }
}

/// An example: the row of each instance slot, and its grounded constraints (those whose guard
/// selects it).
#[derive(Clone, Debug)]
pub struct Example {
    pub rows: Vec<usize>,
    pub constraints: Vec<Compiled>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeakError {
    #[error("{0}")]
    Ground(GroundError),
    #[error("constraint {constraint}: {reason}")]
    Compile { constraint: usize, reason: String },
    #[error("{0}")]
    Setup(String),
}

/// The examples of a spec whose constraints hold per tuple of instances.
pub struct Examples<'a> {
    pub train: Vec<Example>,
    pub valid: Vec<Example>,
    pub test: TestExamples<'a>,
    /// Column-wise constraints, held per batch: (constraint index from 0, share).
    pub columnwise: Vec<(usize, f64)>,
}

/// Test examples grounded a chunk at a time when they are evaluated: a million grounded
/// examples (the Poker test set) would not fit in memory.
pub struct TestExamples<'a> {
    grounder: Grounder<'a>,
    knowledge: Knowledge,
    observations: Observations<'a>,
    tuples: Vec<Vec<usize>>,
}

impl TestExamples<'_> {
    pub fn len(&self) -> usize {
        self.tuples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tuples.is_empty()
    }

    fn chunks(&self) -> impl Iterator<Item = Result<Vec<Example>, WeakError>> + '_ {
        self.tuples
            .chunks(1 << 16)
            .map(|t| prepare_examples(&self.grounder, &self.knowledge, &self.observations, t, Prepare::Crisp))
    }
}

/// Draws the tuples of the spec's instance dataset (training, validation, test) and grounds and
/// compiles the instance-wise constraints for each.
pub fn examples<'a>(
    spec: &'a Spec,
    program: &'a Program,
    data: &'a HashMap<String, Data>,
    s: &Settings,
    method: Method,
    test_only: bool,
) -> Result<Examples<'a>, WeakError> {
    let setup = |m: String| WeakError::Setup(m);
    let fuzzy = matches!(method, Method::Fuzzy(..));
    if let Some(c) = program.constraints.iter().find(|c| c.scope == Scope::ColumnWise && !fuzzy) {
        return Err(setup(format!(
            "constraint {} is column-wise; semantic loss and EM reason per example (column-wise constraints need `injection: fuzzy`)",
            c.index
        )));
    }
    let with_instances: Vec<&Dataset> = spec.datasets.iter().filter(|d| !d.instances.is_empty()).collect();
    let [dataset] = with_instances.as_slice() else {
        return Err(setup(format!(
            "learning from constraints needs exactly one dataset with `instances:` (examples are tuples of its rows); found {}",
            with_instances.len()
        )));
    };
    if let Some(l) = program.learnables.iter().find(|l| l.dataset != dataset.name.name) {
        return Err(setup(format!(
            "learnable `{}` reads `{}`, but the examples are drawn from `{}`",
            l.name, l.dataset, dataset.name.name
        )));
    }
    let table = data.get(&dataset.name.name).ok_or_else(|| setup(format!("`{}` was not loaded", dataset.name.name)))?;
    let width = dataset.tuple_size();
    let draw = |t: &Table, count: Option<usize>, seed: u64| -> Result<Vec<Vec<usize>>, WeakError> {
        let tuples = tuples::draw(t.rows, width, count, seed);
        if tuples.is_empty() {
            return Err(setup(format!(
                "`{}` has {} rows in a split, fewer than the {width} instances an example needs",
                dataset.name.name, t.rows
            )));
        }
        Ok(tuples)
    };
    // `index` counts from 1, as people do; a constraint's share of the section's weight is its
    // share of the loss.
    let (instance, column): (Vec<_>, Vec<_>) = program.constraints.iter().partition(|c| c.scope != Scope::ColumnWise);
    let knowledge = Knowledge { constraints: instance.iter().map(|c| (c.index - 1, c.share)).collect() };
    let columnwise: Vec<(usize, f64)> = column.iter().map(|c| (c.index - 1, c.share)).collect();
    let grounder = Grounder::new(spec, program);
    let test = TestExamples {
        grounder: Grounder::new(spec, program),
        knowledge: knowledge.clone(),
        observations: Observations::new(dataset, &table.test, None),
        tuples: draw(&table.test, None, s.seed ^ 0x7E57)?,
    };
    if test_only {
        return Ok(Examples { train: Vec::new(), valid: Vec::new(), test, columnwise });
    }
    let count = dataset.examples.as_ref().map(|e| e.value as usize);
    let mut tuples = draw(&table.train, count, s.seed)?;
    let n_valid = if s.validation > 0.0 && tuples.len() >= 2 {
        ((tuples.len() as f64 * s.validation).round() as usize).clamp(1, tuples.len() - 1)
    } else {
        0
    };
    let valid_tuples = tuples.split_off(tuples.len() - n_valid);
    let observations = Observations::new(dataset, &table.train, table.labelled.as_deref());
    Ok(Examples {
        train: prepare_examples(
            &grounder,
            &knowledge,
            &observations,
            &tuples,
            if fuzzy { Prepare::Fuzzy } else { Prepare::Exact },
        )?,
        valid: prepare_examples(&grounder, &knowledge, &observations, &valid_tuples, Prepare::Crisp)?,
        test,
        columnwise,
    })
}

/// Observed values of a dataset's rows, as formulas see them.
pub struct Observations<'a> {
    columns: Vec<(&'a str, &'a ColumnType, &'a Values)>,
    targets: Vec<&'a str>,
    /// Per row, whether its targets are known, when not all are.
    labelled: Option<Vec<bool>>,
}

impl<'a> Observations<'a> {
    /// The rows of `table`, whose targets are known only on the rows `labelled` lists (when given).
    pub fn new(dataset: &'a Dataset, table: &'a Table, labelled: Option<&[usize]>) -> Observations<'a> {
        let columns = dataset
            .features
            .iter()
            .chain(&dataset.targets)
            .filter_map(|c| Some((c.name.name.as_str(), &c.ty, table.column(&c.name.name)?)))
            .collect();
        let labelled = labelled.map(|rows| {
            let mut known = vec![false; table.rows];
            rows.iter().for_each(|&r| known[r] = true);
            known
        });
        let targets = dataset.targets.iter().map(|c| c.name.name.as_str()).collect();
        Observations { columns, targets, labelled }
    }

    pub fn value(&self, row: usize, column: &str) -> Option<Observed> {
        if self.labelled.as_ref().is_some_and(|known| !known[row]) && self.targets.contains(&column) {
            return Some(Observed::Unknown);
        }
        let (_, ty, values) = self.columns.iter().find(|(n, _, _)| *n == column)?;
        match (ty, values) {
            (ColumnType::Category(declared), Values::Categories(v)) => {
                Some(match &declared.get(v[row] as usize)?.value {
                    Value::Int(i) => Observed::Int(*i),
                    Value::Str(s) => Observed::Str(s.clone()),
                })
            }
            (ColumnType::Int, Values::Numbers(v)) => Some(Observed::Int(v[row] as i64)),
            (ColumnType::Bool, Values::Numbers(v)) => Some(Observed::Bool(v[row] != 0.0)),
            (_, Values::Numbers(v)) => Some(Observed::Real(v[row] as f64)),
            _ => None,
        }
    }
}

/// Grounds every constraint for every tuple, in parallel, and compiles it for what the examples
/// are for (exact inference, fuzzy truth, or nothing for crisp evaluation).
pub fn prepare_examples(
    grounder: &Grounder,
    knowledge: &Knowledge,
    observations: &Observations,
    tuples: &[Vec<usize>],
    prepare: Prepare,
) -> Result<Vec<Example>, WeakError> {
    tuples
        .par_iter()
        .map(|rows| {
            let observe = |slot: usize, column: &str| observations.value(rows[slot], column);
            let (mut constraints, mut memo) = (Vec::new(), Memo::default());
            for &(c, share) in &knowledge.constraints {
                let Some(grounded) = grounder.ground_with(c, &observe, &mut memo).map_err(WeakError::Ground)? else {
                    continue;
                };
                let too_large =
                    |e: skilang_logic::TooLarge| WeakError::Compile { constraint: c + 1, reason: e.to_string() };
                let engine = match prepare {
                    Prepare::Fuzzy => Engine::Fuzzy(FuzzyEvent::new(&grounded, NODE_LIMIT).map_err(too_large)?),
                    Prepare::Exact => Engine::Exact(compile(&grounded.event, NODE_LIMIT).map_err(too_large)?),
                    Prepare::Crisp => Engine::Crisp,
                };
                constraints.push(Compiled { constraint: c, share, grounded, engine });
            }
            Ok(Example { rows: rows.clone(), constraints })
        })
        .collect()
}

/// The rows each learnable reads in a batch, and where each variable's row sits among them.
struct BatchRows {
    /// Per learnable, the rows to run it on.
    rows: Vec<Vec<usize>>,
    /// Per example, per constraint, per variable: (learnable, position in `rows[learnable]`).
    at: Vec<Vec<Vec<(usize, usize)>>>,
    /// The dataset rows of the batch, for column-wise constraints (empty without them).
    dataset_rows: Vec<usize>,
    /// Per learnable, the position of each of `dataset_rows` in `rows[learnable]`.
    column_at: Vec<Vec<usize>>,
}

fn batch_rows(examples: &[&Example], learnables: usize, columns: bool) -> BatchRows {
    let mut rows = vec![Vec::new(); learnables];
    let mut seen: Vec<HashMap<usize, usize>> = vec![Default::default(); learnables];
    let mut position = |l: usize, row: usize| {
        let next = rows[l].len();
        let pos = *seen[l].entry(row).or_insert(next);
        if pos == next {
            rows[l].push(row);
        }
        pos
    };
    let at = examples
        .iter()
        .map(|e| {
            e.constraints
                .iter()
                .map(|c| c.grounded.vars.iter().map(|v| (v.learnable, position(v.learnable, e.rows[v.slot]))).collect())
                .collect()
        })
        .collect();
    let mut dataset_rows = Vec::new();
    let mut column_at = vec![Vec::new(); learnables];
    if columns {
        let mut distinct = std::collections::HashSet::new();
        dataset_rows = examples.iter().flat_map(|e| e.rows.iter().copied()).filter(|r| distinct.insert(*r)).collect();
        for (l, at) in column_at.iter_mut().enumerate() {
            *at = dataset_rows.iter().map(|&r| position(l, r)).collect();
        }
    }
    BatchRows { rows, at, dataset_rows, column_at }
}

/// Each learnable's log-probabilities on its rows, as plain numbers.
fn log_probs(logits: &[Tensor<2>]) -> Vec<Vec<Vec<f64>>> {
    logits
        .iter()
        .map(|l| {
            let [n, k] = l.dims();
            let flat: Vec<f64> =
                activation::log_softmax(l.clone().detach(), 1).into_data().iter::<f32>().map(f64::from).collect();
            (0..n).map(|i| flat[i * k..(i + 1) * k].to_vec()).collect()
        })
        .collect()
}

/// What inference says about one batch: the training targets per learnable and row, the loss,
/// and how many examples the current predictions satisfy.
struct Inferred {
    /// Semantic loss and EM: the posterior targets of a cross-entropy. Fuzzy: ∂loss/∂p.
    targets: Vec<Vec<Vec<f64>>>,
    loss: f64,
    satisfied: usize,
    /// Examples whose constraints have probability 0 (contradictory observations).
    impossible: usize,
    /// Per constraint (from 0): the summed violation 1 − truth, and over how many groundings.
    violations: BTreeMap<usize, (f64, usize)>,
}

impl Inferred {
    fn new(logp: &[Vec<Vec<f64>>]) -> Inferred {
        Inferred {
            targets: logp.iter().map(|rows| rows.iter().map(|r| vec![0.0; r.len()]).collect()).collect(),
            loss: 0.0,
            satisfied: 0,
            impossible: 0,
            violations: BTreeMap::new(),
        }
    }
}

/// One example's contribution: (learnable, row, weight, target) per variable, its loss, whether
/// the predictions satisfy it, whether it is impossible, and its violations.
type Contribution = (Vec<(usize, usize, f64, Vec<f64>)>, f64, bool, bool, Vec<(usize, f64)>);

fn infer(examples: &[&Example], at: &BatchRows, logp: &[Vec<Vec<f64>>], method: Method) -> Inferred {
    let per_example: Vec<Contribution> = examples
        .par_iter()
        .zip(&at.at)
        .map(|(e, at)| {
            let mut targets = Vec::new();
            let mut violations = Vec::new();
            let (mut loss, mut impossible) = (0.0, false);
            let sat = satisfied(e, at, logp);
            for (c, at) in e.constraints.iter().zip(at) {
                let logw: Vec<Vec<f64>> = at.iter().map(|&(l, i)| logp[l][i].clone()).collect();
                match (&c.engine, method) {
                    (Engine::Fuzzy(f), Method::Fuzzy(logic, truth_loss)) => {
                        let p: Vec<Vec<f64>> = logw.iter().map(|w| w.iter().map(|x| x.exp()).collect()).collect();
                        let t = f.truth(logic, &p);
                        let (l_t, dl_dt) = penalty(truth_loss, t.value);
                        loss += c.share * l_t;
                        violations.push((c.constraint, 1.0 - t.value));
                        for (&(l, i), g) in at.iter().zip(t.grad) {
                            targets.push((l, i, c.share * dl_dt, g));
                        }
                    }
                    (Engine::Exact(d), _) => {
                        let q = match method {
                            Method::Em { hard: true, .. } => d.map(&logw).map(|(z, _)| {
                                let one_hot = z
                                    .iter()
                                    .zip(&logw)
                                    .map(|(&k, w)| (0..w.len()).map(|j| (j == k) as u8 as f64).collect());
                                (d.log_prob(&logw), one_hot.collect::<Vec<Vec<f64>>>())
                            }),
                            _ => d.posterior(&logw).map(|p| (p.log_prob, p.marginals)),
                        };
                        match q {
                            Some((lp, q)) => {
                                loss -= c.share * lp;
                                for (&(l, i), qv) in at.iter().zip(q) {
                                    targets.push((l, i, c.share, qv));
                                }
                            }
                            None => impossible = true,
                        }
                    }
                    (Engine::Fuzzy(_), _) => unreachable!("fuzzy events are built for fuzzy training only"),
                    (Engine::Crisp, _) => unreachable!("crisp examples are evaluated, never trained on"),
                }
            }
            (targets, loss, sat, impossible, violations)
        })
        .collect();
    let mut out = Inferred::new(logp);
    for (t, l, s, imp, violations) in per_example {
        if imp {
            out.impossible += 1;
            continue;
        }
        for (learnable, i, share, q) in t {
            for (a, b) in out.targets[learnable][i].iter_mut().zip(q) {
                *a += share * b;
            }
        }
        for (c, v) in violations {
            tally(&mut out.violations, c, v, 1);
        }
        out.loss += l;
        out.satisfied += s as usize;
    }
    out
}

/// Adds `n` groundings of constraint `c` with summed violation `v`.
fn tally(violations: &mut BTreeMap<usize, (f64, usize)>, c: usize, v: f64, n: usize) {
    let entry = violations.entry(c).or_default();
    entry.0 += v;
    entry.1 += n;
}

/// Whether an example's constraints all hold under each network's most likely classes.
fn satisfied(e: &Example, at: &[Vec<(usize, usize)>], logp: &[Vec<Vec<f64>>]) -> bool {
    e.constraints.iter().zip(at).all(|(c, at)| holds(c, at, logp))
}

fn holds(c: &Compiled, at: &[(usize, usize)], logp: &[Vec<Vec<f64>>]) -> bool {
    let z: Vec<usize> = at.iter().map(|&(l, i)| argmax(&logp[l][i])).collect();
    c.grounded.event.holds(&z)
}

/// What column-wise constraints need besides the networks: the training rows' observed values,
/// the networks' classes and the fuzzy connectives.
pub struct Columns<'a> {
    pub spec: &'a Spec,
    /// (constraint index from 0, share)
    pub constraints: Vec<(usize, f64)>,
    pub observations: Observations<'a>,
    pub domains: Vec<Vec<Value>>,
    pub logic: Logic,
}

impl Columns<'_> {
    /// The column-wise constraints' outcomes on `rows`, given each learnable's class
    /// probabilities on them.
    fn outcomes(
        &self,
        rows: &[usize],
        probs: Vec<Option<Tensor<2>>>,
        device: &Device,
    ) -> Result<Vec<(usize, f64, Option<Outcome>)>, WeakError> {
        let batch = columnwise::Batch {
            spec: self.spec,
            observations: &self.observations,
            rows,
            probs,
            domains: &self.domains,
            logic: self.logic,
            device,
        };
        self.constraints
            .iter()
            .map(|&(c, share)| Ok((c, share, batch.constraint(c).map_err(WeakError::Ground)?)))
            .collect()
    }
}

/// The observed values, classes and column-wise constraints of the instance dataset's `split`
/// (`test` or the training split).
pub fn columns<'a>(
    spec: &'a Spec,
    program: &Program,
    data: &'a HashMap<String, Data>,
    constraints: Vec<(usize, f64)>,
    logic: Logic,
    test: bool,
) -> Option<Columns<'a>> {
    let dataset = spec.datasets.iter().find(|d| !d.instances.is_empty())?;
    let table = data.get(&dataset.name.name)?;
    let grounder = Grounder::new(spec, program);
    Some(Columns {
        spec,
        constraints,
        observations: if test {
            Observations::new(dataset, &table.test, None)
        } else {
            Observations::new(dataset, &table.train, table.labelled.as_deref())
        },
        domains: (0..spec.learnables.len()).map(|l| grounder.domain(l).to_vec()).collect(),
        logic,
    })
}

/// How the test set meets the constraints under the networks' most likely classes.
pub struct Satisfaction {
    /// Share of test examples whose instance-wise constraints all hold.
    pub task_accuracy: f64,
    /// Per instance-wise constraint (from 0): examples it was grounded for, and where it holds.
    pub instance: BTreeMap<usize, (usize, usize)>,
    /// Per column-wise constraint (from 0): whether it holds on the whole test set, and its
    /// comparison's left-hand side.
    pub column: BTreeMap<usize, (bool, Option<f64>)>,
}

/// Evaluates the constraints on the test examples (and the column-wise ones on the whole test
/// set) with hard predictions.
pub fn satisfaction(
    nets: &[Net],
    readers: &[Reader],
    test: &TestExamples,
    columns: Option<&Columns>,
    device: &Device,
) -> Result<Satisfaction, WeakError> {
    let mut tally = Tally::default();
    for chunk in test.chunks() {
        tally.add(nets, readers, &chunk?, device);
    }
    let task_accuracy = tally.accuracy();
    let instance = tally.per_constraint;
    let mut column = BTreeMap::new();
    if let Some(cols) = columns.filter(|c| !c.constraints.is_empty()) {
        // Hard predictions as one-hot distributions, over every row of the split.
        let rows: Vec<usize> = (0..readers.first().map_or(0, |r| r.inputs.len())).collect();
        let probs = nets
            .iter()
            .zip(readers)
            .map(|(net, r)| {
                let mut onehot = Vec::with_capacity(rows.len() * r.classes);
                for chunk in rows.chunks(1024) {
                    let logits = net.forward(input_tensor(r.shape, r.inputs.rows(chunk), chunk.len(), device)).detach();
                    let [n, k] = logits.dims();
                    let flat: Vec<f32> = logits.into_data().iter::<f32>().collect();
                    for i in 0..n {
                        let row: Vec<f64> = flat[i * k..(i + 1) * k].iter().map(|&x| f64::from(x)).collect();
                        let best = argmax(&row);
                        onehot.extend((0..k).map(|j| (j == best) as u8 as f32));
                    }
                }
                Some(Tensor::<2>::from_data(TensorData::new(onehot, [rows.len(), r.classes]), device))
            })
            .collect();
        for (c, _, outcome) in cols.outcomes(&rows, probs, device)? {
            let (truth, lhs) = match outcome {
                Some(o) => (columnwise::scalar_value(o.truth), o.lhs),
                None => (1.0, None),
            };
            column.insert(c, (truth >= 1.0 - 1e-6, lhs));
        }
    }
    Ok(Satisfaction { task_accuracy, instance, column })
}

/// Examples whose constraints all hold under each network's most likely classes, and per
/// constraint (from 0) the examples it was grounded for and where it holds.
#[derive(Default)]
struct Tally {
    examples: usize,
    hits: usize,
    per_constraint: BTreeMap<usize, (usize, usize)>,
}

impl Tally {
    fn add(&mut self, nets: &[Net], readers: &[Reader], examples: &[Example], device: &Device) {
        for chunk in examples.chunks(256) {
            let refs: Vec<&Example> = chunk.iter().collect();
            let at = batch_rows(&refs, nets.len(), false);
            let logp = log_probs(&forward_all(nets, readers, &at.rows, device));
            for (e, at) in refs.iter().zip(&at.at) {
                let mut all = true;
                for (c, at) in e.constraints.iter().zip(at) {
                    let ok = holds(c, at, &logp);
                    let entry = self.per_constraint.entry(c.constraint).or_default();
                    entry.0 += 1;
                    entry.1 += ok as usize;
                    all &= ok;
                }
                self.hits += all as usize;
            }
        }
        self.examples += examples.len();
    }

    fn accuracy(&self) -> f64 {
        self.hits as f64 / self.examples.max(1) as f64
    }
}

/// What one network reads: the shape and values of its inputs, and nothing else (no gold class),
/// so that learning from constraints cannot see a label.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub shape: InputShape,
    pub inputs: &'a Inputs,
    pub classes: usize,
}

/// Share of examples whose constraints all hold under each network's most likely classes.
pub fn task_accuracy(nets: &[Net], readers: &[Reader], examples: &[Example], device: &Device) -> f64 {
    let mut tally = Tally::default();
    tally.add(nets, readers, examples, device);
    tally.accuracy()
}

fn forward_all(nets: &[Net], readers: &[Reader], rows: &[Vec<usize>], device: &Device) -> Vec<Tensor<2>> {
    nets.iter()
        .zip(readers)
        .zip(rows)
        .map(|((net, r), rows)| {
            if rows.is_empty() {
                return Tensor::zeros([0, r.classes], device);
            }
            net.forward(input_tensor(r.shape, r.inputs.rows(rows), rows.len(), device))
        })
        .collect()
}

pub struct TrainedWeak {
    pub nets: Vec<Net>,
    pub epochs: Vec<Epoch>,
    pub kept: usize,
    /// Training examples whose constraints could not hold (skipped).
    pub impossible: usize,
}

/// Trains every network from the constraints of the training examples (validated on the
/// validation examples, if any); column-wise constraints, if any, hold on each batch's rows.
#[allow(clippy::too_many_arguments)]
pub fn train_weak(
    readers: &[Reader],
    mut nets: Vec<Net>,
    examples: &Examples,
    columns: Option<&Columns>,
    method: Method,
    s: &Settings,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainedWeak, WeakError> {
    let (train, valid) = (&examples.train, &examples.valid);
    let columns = columns.filter(|c| !c.constraints.is_empty());
    let truth_loss = match method {
        Method::Fuzzy(_, loss) => loss,
        _ => TruthLoss::Linear,
    };
    let mut rng = Rng::new(s.seed);
    let mut optims: Vec<_> = nets.iter().map(|_| optimizer(s)).collect();
    let mut epochs = Vec::new();
    let mut best = Best::new(s.patience);
    let batches = train.len().div_ceil(s.batch_size);
    let mut impossible = 0;
    for epoch in 1..=s.epochs {
        let start = std::time::Instant::now();
        let order = rng.permutation(train.len());
        let (mut loss_sum, mut satisfied, mut seen) = (0.0, 0usize, 0usize);
        let mut violations: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
        impossible = 0;
        for (b, index) in order.chunks(s.batch_size).enumerate() {
            let examples: Vec<&Example> = index.iter().map(|&i| &train[i]).collect();
            let at = batch_rows(&examples, nets.len(), columns.is_some());
            let steps = match method {
                Method::Em { m_steps, .. } => m_steps.max(1),
                _ => 1,
            };
            let mut targets = None;
            for _ in 0..steps {
                let logits = forward_all(&nets, readers, &at.rows, device);
                let mut total: Option<Tensor<1>> = None;
                let mut add = |x: Tensor<1>| {
                    total = Some(match total.take() {
                        Some(t) => t + x,
                        None => x,
                    })
                };
                if targets.is_none() {
                    let inferred = infer(&examples, &at, &log_probs(&logits), method);
                    loss_sum += inferred.loss;
                    satisfied += inferred.satisfied;
                    impossible += inferred.impossible;
                    for (c, (v, n)) in inferred.violations {
                        tally(&mut violations, c, v, n);
                    }
                    if let Some(cols) = columns {
                        let probs = logits
                            .iter()
                            .zip(&at.column_at)
                            .map(|(l, positions)| {
                                let idx = Tensor::<1, Int>::from_data(
                                    TensorData::new(positions.iter().map(|&p| p as i64).collect(), [positions.len()]),
                                    device,
                                );
                                Some(activation::softmax(l.clone(), 1).select(0, idx))
                            })
                            .collect();
                        for (c, share, outcome) in cols.outcomes(&at.dataset_rows, probs, device)? {
                            let Some(o) = outcome else { continue };
                            let truth = columnwise::scalar_value(o.truth.clone());
                            let penalty = penalty_tensor(truth_loss, o.truth);
                            loss_sum += share * columnwise::scalar_value(penalty.clone()) * index.len() as f64;
                            tally(&mut violations, c, 1.0 - truth, 1);
                            add(penalty * share as f32);
                        }
                    }
                    targets = Some(inferred.targets);
                }
                let Some(t) = &targets else { break };
                for (logits, t) in logits.into_iter().zip(t) {
                    let [n, k] = logits.dims();
                    if n == 0 {
                        continue;
                    }
                    let flat: Vec<f32> = t.iter().flatten().map(|&x| x as f32).collect();
                    let target = Tensor::<2>::from_data(TensorData::new(flat, [n, k]), device);
                    add(match method {
                        // Σ (∂loss/∂p) · p: the fuzzy loss's gradient, through the softmax.
                        Method::Fuzzy(..) => (activation::softmax(logits, 1) * target).sum() / index.len() as f32,
                        // Cross-entropy towards the targets: its gradient is (Σ t) p − t per row.
                        _ => (activation::log_softmax(logits, 1) * target).sum().neg() / index.len() as f32,
                    });
                }
                let Some(loss) = total else { break };
                let mut grads = loss.backward();
                nets = nets
                    .into_iter()
                    .zip(optims.iter_mut())
                    .map(|(net, optim)| {
                        let g = GradientsParams::from_module(&mut grads, &net);
                        optim.step(s.learning_rate, net, g)
                    })
                    .collect();
            }
            seen += index.len();
            progress(Progress::Batch { epoch, done: b + 1, total: batches, loss: loss_sum / seen as f64 });
        }
        let validation_accuracy = (!valid.is_empty()).then(|| {
            let v: Vec<Net> = nets.iter().map(|n| n.valid()).collect();
            task_accuracy(&v, readers, valid, device)
        });
        let record = Epoch {
            epoch,
            loss: loss_sum / train.len().max(1) as f64,
            train_accuracy: satisfied as f64 / train.len().max(1) as f64,
            validation_accuracy,
            seconds: start.elapsed().as_secs_f64(),
            constraint_violations: violations.into_iter().map(|(c, (v, n))| (c + 1, v / n.max(1) as f64)).collect(),
        };
        progress(Progress::Epoch(&record));
        epochs.push(record);
        if best.stop_after(epoch, validation_accuracy, &nets) {
            break;
        }
    }
    let (nets, kept) = best.kept(nets, epochs.len());
    Ok(TrainedWeak { nets, epochs, kept, impossible })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both losses and their derivatives, against central finite differences; −log t stays
    /// finite (and flat) below the smallest truth it counts.
    #[test]
    fn truth_losses_and_their_derivatives() {
        for loss in [TruthLoss::Linear, TruthLoss::Log] {
            for t in [0.01, 0.3, 0.9, 1.0 - 1e-4] {
                let (_, d) = penalty(loss, t);
                let h = 1e-6;
                let numeric = (penalty(loss, t + h).0 - penalty(loss, t - h).0) / (2.0 * h);
                assert!((d - numeric).abs() < 1e-4 * d.abs().max(1.0), "{loss:?} at {t}: {d} vs {numeric}");
            }
        }
        assert_eq!(penalty(TruthLoss::Log, 1.0).0, 0.0);
        assert_eq!(penalty(TruthLoss::Log, 0.0), (-MIN_TRUTH.ln(), 0.0));
        let device = Device::default();
        let t = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, 0.0], [2]), &device);
        let v: Vec<f32> = penalty_tensor(TruthLoss::Log, t).into_data().try_to_vec::<f32>().unwrap();
        assert!((v[0] - 2f32.ln()).abs() < 1e-6 && (v[1] - (-(MIN_TRUTH as f32).ln())).abs() < 1e-3, "{v:?}");
    }
}
