//! The examples of learning from constraints: tuples of instances drawn from the instance
//! dataset, each with its constraints grounded from the observed values only (the weak label) and
//! prepared for what the examples are for.

use crate::observations::Observations;
use crate::settings::Settings;
use rayon::prelude::*;
use skilang_data::rng::Rng;
use skilang_data::{tuples, Data, Table};
use skilang_lang::check::{ColumnId, ConstraintId, Program, Scope};
use skilang_lang::spec::Spec;
use skilang_logic::cnf::Cnf;
use skilang_logic::{Engine, Formulas, FuzzyEvent, GroundError, Grounded, Inference, Memo, TooLarge, NODE_LIMIT};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// The instance-wise constraints, each with its share of the section's weight.
#[derive(Clone, Debug)]
pub struct Knowledge {
    pub constraints: Vec<(ConstraintId, f64)>,
}

/// One constraint grounded and prepared for one example. Examples whose grounding is the same
/// share one copy (a Sudoku's rules ground alike for every puzzle; only its givens differ).
#[derive(Debug)]
pub struct Constraint {
    pub constraint: ConstraintId,
    pub share: f64,
    pub grounded: Arc<Grounded>,
    pub prepared: Arc<Prepared>,
}

/// What a grounded constraint is prepared into.
#[derive(Debug)]
pub enum Prepared {
    /// An inference engine's form of the event.
    Inference(Box<dyn Inference>),
    Fuzzy(FuzzyEvent),
    /// CNF over the networks' class atoms, for straight-through training.
    Cnf(Cnf),
    /// Nothing: validation examples are only evaluated under the networks' most likely
    /// classes, which the grounded event answers by itself.
    Crisp,
}

/// What examples are prepared for: training through an inference engine or fuzzy truth, or
/// evaluation.
pub enum Prepare {
    Infer(Box<dyn Engine>),
    Fuzzy,
    /// CNF, with each variable's exactly-one clauses when its binarised classes are not exclusive.
    Cnf {
        exactly_one: bool,
    },
    Crisp,
}

impl Constraint {
    /// The size of the engine's form (decision nodes, satisfying assignments) or of the CNF
    /// (literals); 0 for the others.
    pub fn size(&self) -> usize {
        match &*self.prepared {
            Prepared::Inference(i) => i.size(),
            Prepared::Cnf(cnf) => cnf.size(),
            Prepared::Fuzzy(_) | Prepared::Crisp => 0,
        }
    }
}

/// An example: the row of each instance slot, and its grounded constraints (those whose guard
/// selects it).
#[derive(Debug)]
pub struct Example {
    pub rows: Vec<usize>,
    pub constraints: Vec<Constraint>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeakError {
    #[error("{0}")]
    Ground(GroundError),
    #[error("constraint {constraint}: {reason}")]
    TooLarge { constraint: ConstraintId, reason: TooLarge },
    #[error("{0}")]
    Setup(String),
}

/// The examples of a spec whose constraints hold per tuple of instances.
pub struct Examples<'a> {
    pub train: Vec<Example>,
    pub valid: Vec<Example>,
    pub test: TestExamples<'a>,
}

/// Test examples, evaluated one at a time under given classes: their constraints are only ever
/// true or false there, so nothing is grounded or compiled.
pub struct TestExamples<'a> {
    formulas: Formulas<'a>,
    /// Every instance-wise constraint, the measured ones too.
    knowledge: Knowledge,
    /// The constraints only measured (`train: false`): reported, not part of the task accuracy.
    measured: Vec<ConstraintId>,
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

    pub(crate) fn measured(&self) -> &[ConstraintId] {
        &self.measured
    }

    /// Evaluates every test example, in parallel, when learnable `l` takes class `class(l, row, cell)`
    /// on each dataset row (at each cell of a grid it predicts), and folds each into an accumulator with `visit`, which receives per
    /// instance-wise constraint whether it holds (`None`: it does not apply to the example); the
    /// accumulators of the threads are then joined with `join`.
    pub(crate) fn fold<T: Default + Send>(
        &self,
        class: &(dyn Fn(usize, usize, usize) -> usize + Sync),
        visit: impl Fn(&mut T, &[(ConstraintId, Option<bool>)]) + Sync,
        join: impl Fn(T, T) -> T + Sync,
    ) -> Result<T, WeakError> {
        self.tuples
            .par_iter()
            .try_fold(
                || (T::default(), Vec::new(), Memo::default()),
                |(mut acc, mut outcomes, mut memo), rows| {
                    let observe = |slot: usize, column: ColumnId| self.observations.value(rows[slot], column);
                    let class_of = |l: usize, slot: usize, cell: usize| class(l, rows[slot], cell);
                    memo.clear();
                    outcomes.clear();
                    for &(c, _) in &self.knowledge.constraints {
                        let holds =
                            self.formulas.holds(c, &observe, &class_of, &mut memo).map_err(WeakError::Ground)?;
                        outcomes.push((c, holds));
                    }
                    visit(&mut acc, &outcomes);
                    Ok((acc, outcomes, memo))
                },
            )
            .map(|r| r.map(|(acc, _, _)| acc))
            .try_reduce(T::default, |a, b| Ok(join(a, b)))
    }
}

/// Draws the tuples of the spec's instance dataset (training, validation, test) and grounds the
/// instance-wise constraints for each, preparing the training examples as `train_as` says
/// (`None`: only the test examples are drawn).
pub fn examples<'a>(
    spec: &'a Spec,
    program: &'a Program,
    data: &'a HashMap<String, Data>,
    s: &Settings,
    train_as: Option<&Prepare>,
) -> Result<Examples<'a>, WeakError> {
    // `check` refuses column-wise constraints under an inference engine, and these two cases when
    // the run learns from constraints; a supervised run's report still draws test examples here.
    let setup = |m: String| WeakError::Setup(m);
    let with_instances: Vec<usize> =
        (0..spec.datasets.len()).filter(|&d| !spec.datasets[d].instances.is_empty()).collect();
    let [d] = *with_instances.as_slice() else {
        return Err(setup(format!(
            "learning from constraints needs exactly one dataset with `instances:` (examples are tuples of its rows); found {}",
            with_instances.len()
        )));
    };
    let dataset = &spec.datasets[d];
    if let Some(l) = program.learnables.iter().find(|l| l.dataset != dataset.name.name) {
        return Err(setup(format!(
            "learnable `{}` reads `{}`, but the examples are drawn from `{}`",
            l.name, l.dataset, dataset.name.name
        )));
    }
    let table = data.get(&dataset.name.name).ok_or_else(|| setup(format!("`{}` was not loaded", dataset.name.name)))?;
    let width = dataset.tuple_size();
    // A dataset that fixes its examples (a puzzle's cells) gives them, in an order of the seed
    // (a validation share is cut from the end, unless the data has validation examples of its
    // own); the others are drawn.
    let draw = |t: &Table, fixed: Option<&Vec<Vec<usize>>>, count: Option<usize>, seed: u64| {
        if let Some(fixed) = fixed {
            if let Some(other) = fixed.iter().find(|x| x.len() != width) {
                return Err(setup(format!(
                    "the examples of `{}` have {} rows each, and its `instances` declare {width}",
                    dataset.name.name,
                    other.len()
                )));
            }
            return Ok(Rng::new(seed).permutation(fixed.len()).into_iter().map(|i| fixed[i].clone()).collect());
        }
        let tuples = tuples::draw(t.rows, width, count, seed);
        if tuples.is_empty() {
            return Err(setup(format!(
                "`{}` has {} rows in a split, fewer than the {width} instances an example needs",
                dataset.name.name, t.rows
            )));
        }
        Ok(tuples)
    };
    // A constraint's share of the section's weight is its share of the loss. Column-wise
    // constraints are held per batch (`crate::columnwise`).
    // Measured constraints are evaluated on the test set only: never grounded for training.
    let instance: Vec<_> = program.constraints.iter().filter(|c| c.scope != Scope::ColumnWise).collect();
    let of = |keep: &dyn Fn(bool) -> bool| Knowledge {
        constraints: instance.iter().filter(|c| keep(c.measured)).map(|c| (c.id, c.share)).collect(),
    };
    let knowledge = of(&|measured| !measured);
    let grounder = Formulas::new(spec, program);
    let test = TestExamples {
        formulas: Formulas::new(spec, program),
        knowledge: of(&|_| true),
        measured: instance.iter().filter(|c| c.measured).map(|c| c.id).collect(),
        observations: Observations::new(spec, d, &table.test, None),
        // In row order: what evaluation counts does not depend on it, and the columns are then
        // read in order (a million shuffled rows miss the cache at every value).
        tuples: draw(&table.test, table.tuples.as_ref().map(|t| &t.test), None, s.seed ^ 0x7E57).map(|mut t| {
            t.sort_unstable();
            t
        })?,
    };
    let Some(train_as) = train_as else {
        return Ok(Examples { train: Vec::new(), valid: Vec::new(), test });
    };
    let count = dataset.examples.as_ref().map(|e| e.value as usize);
    let mut tuples = draw(&table.train, table.tuples.as_ref().map(|t| &t.train), count, s.seed)?;
    let own_valid = table.tuples.as_ref().and_then(|t| t.valid.as_ref()).filter(|_| s.validation > 0.0);
    let valid_tuples = match own_valid {
        Some(valid) => draw(&table.train, Some(valid), None, s.seed)?,
        None => {
            let n_valid = if s.validation > 0.0 && tuples.len() >= 2 {
                ((tuples.len() as f64 * s.validation).round() as usize).clamp(1, tuples.len() - 1)
            } else {
                0
            };
            tuples.split_off(tuples.len() - n_valid)
        }
    };
    let observations = Observations::new(spec, d, &table.train, table.labelled.as_deref());
    Ok(Examples {
        train: prepare_examples(&grounder, &knowledge, &observations, &tuples, train_as)?,
        valid: prepare_examples(&grounder, &knowledge, &observations, &valid_tuples, &Prepare::Crisp)?,
        test,
    })
}

/// Grounds every constraint for every tuple, in parallel, and prepares it for what the examples
/// are for: once per distinct grounding.
pub fn prepare_examples(
    grounder: &Formulas,
    knowledge: &Knowledge,
    observations: &Observations,
    tuples: &[Vec<usize>],
    prepare: &Prepare,
) -> Result<Vec<Example>, WeakError> {
    let shared = Shared::default();
    tuples.par_iter().map(|rows| example(grounder, knowledge, observations, rows, prepare, &shared)).collect()
}

/// The distinct groundings prepared so far, by a hash of (constraint, grounding).
#[derive(Default)]
struct Shared(Mutex<HashMap<u64, Vec<Ready>>>);

/// A grounding and what it was prepared into.
type Ready = (Arc<Grounded>, Arc<Prepared>);

impl Shared {
    fn key(c: ConstraintId, g: &Grounded) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        (c, g).hash(&mut h);
        h.finish()
    }

    fn find(&self, key: u64, g: &Grounded) -> Option<Ready> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&key)?.iter().find(|(known, _)| **known == *g).cloned()
    }

    fn insert(&self, key: u64, entry: Ready) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().push(entry);
    }
}

/// The example of the instances in `rows`: each constraint whose guard selects it, grounded and
/// prepared (or shared with an example grounded alike).
fn example(
    grounder: &Formulas,
    knowledge: &Knowledge,
    observations: &Observations,
    rows: &[usize],
    prepare: &Prepare,
    shared: &Shared,
) -> Result<Example, WeakError> {
    let observe = |slot: usize, column: ColumnId| observations.value(rows[slot], column);
    let (mut constraints, mut memo) = (Vec::new(), Memo::default());
    for &(c, share) in &knowledge.constraints {
        let Some(grounded) = grounder.ground_with(c, &observe, &mut memo).map_err(WeakError::Ground)? else {
            continue;
        };
        let key = Shared::key(c, &grounded);
        let (grounded, prepared) = match shared.find(key, &grounded) {
            Some(known) => known,
            None => {
                let too_large = |reason| WeakError::TooLarge { constraint: c, reason };
                let prepared = match prepare {
                    Prepare::Infer(engine) => Prepared::Inference(engine.prepare(&grounded.event).map_err(too_large)?),
                    Prepare::Fuzzy => Prepared::Fuzzy(FuzzyEvent::new(&grounded, NODE_LIMIT).map_err(too_large)?),
                    &Prepare::Cnf { exactly_one } => {
                        Prepared::Cnf(Cnf::encode(&grounded.event, exactly_one).map_err(too_large)?)
                    }
                    Prepare::Crisp => Prepared::Crisp,
                };
                let entry = (Arc::new(grounded), Arc::new(prepared));
                shared.insert(key, entry.clone());
                entry
            }
        };
        constraints.push(Constraint { constraint: c, share, grounded, prepared });
    }
    Ok(Example { rows: rows.to_vec(), constraints })
}
