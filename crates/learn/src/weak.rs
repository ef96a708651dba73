//! Learning from constraints (ALGORITHMS.md §1–2): semantic loss and EM with exact inference.
//!
//! Each example is a tuple of instances. Its constraints are grounded once, from the observed
//! values only (the weak label), and compiled into decision diagrams. Per batch, the networks give
//! a distribution per latent application (`digit(x3)`); the diagrams give log P(φ) and the
//! posterior marginals q; the loss is a cross-entropy towards q, whose gradient p − q is exactly
//! the semantic loss's (ALGORITHMS.md §1). EM holds q fixed for `m_steps` steps, or uses the MAP
//! assignment (`hard`). Gold classes of training instances are never read: inputs go to the
//! networks, and observed values reach training only through grounded events.

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
use skilang_lang::spec::{ColumnType, Dataset, Spec, Value};
use skilang_logic::{argmax, compile, Diagram, GroundError, Grounded, Grounder, Observed, NODE_LIMIT};

/// How a posterior becomes a training target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// −log P(φ): the gradient p − q, one step per batch.
    SemanticLoss,
    /// Posterior marginals (or the MAP assignment, `hard`) as fixed targets for `m_steps` steps.
    Em { hard: bool, m_steps: usize },
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
    pub share: f64,
    pub grounded: Grounded,
    pub diagram: Diagram,
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
pub struct Examples {
    pub train: Vec<Example>,
    pub valid: Vec<Example>,
    pub test: Vec<Example>,
}

/// Draws the tuples of the spec's instance dataset (training, validation, test) and grounds and
/// compiles the instance-wise constraints for each.
pub fn examples(
    spec: &Spec,
    program: &Program,
    data: &std::collections::HashMap<String, Data>,
    s: &Settings,
    test_only: bool,
) -> Result<Examples, WeakError> {
    let setup = |m: String| WeakError::Setup(m);
    if let Some(c) = program.constraints.iter().find(|c| c.scope == Scope::ColumnWise) {
        return Err(setup(format!(
            "constraint {} is column-wise; semantic loss and EM reason per example (column-wise constraints need `injection: fuzzy`)",
            c.index
        )));
    }
    let with_instances: Vec<&Dataset> = spec.datasets.iter().filter(|d| !d.instances.is_empty()).collect();
    let [dataset] = with_instances.as_slice() else {
        return Err(setup(format!(
            "semantic loss and EM need exactly one dataset with `instances:` (examples are tuples of its rows); found {}",
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
    let knowledge = Knowledge {
        // `index` counts from 1, as people do; every constraint is instance-wise here, so its
        // share of the section's weight is its share of the loss.
        constraints: program.constraints.iter().map(|c| (c.index - 1, c.share)).collect(),
    };
    let grounder = Grounder::new(spec, program);
    let test_tuples = draw(&table.test, None, s.seed ^ 0x7E57)?;
    let test = prepare_examples(&grounder, &knowledge, &Observations::new(dataset, &table.test), &test_tuples)?;
    if test_only {
        return Ok(Examples { train: Vec::new(), valid: Vec::new(), test });
    }
    let count = dataset.examples.as_ref().map(|e| e.value as usize);
    let mut tuples = draw(&table.train, count, s.seed)?;
    let n_valid = if s.validation > 0.0 && tuples.len() >= 2 {
        ((tuples.len() as f64 * s.validation).round() as usize).clamp(1, tuples.len() - 1)
    } else {
        0
    };
    let valid_tuples = tuples.split_off(tuples.len() - n_valid);
    let observations = Observations::new(dataset, &table.train);
    Ok(Examples {
        train: prepare_examples(&grounder, &knowledge, &observations, &tuples)?,
        valid: prepare_examples(&grounder, &knowledge, &observations, &valid_tuples)?,
        test,
    })
}

/// Observed values of a dataset's rows, as formulas see them.
pub struct Observations<'a> {
    columns: Vec<(&'a str, &'a ColumnType, &'a Values)>,
}

impl<'a> Observations<'a> {
    pub fn new(dataset: &'a Dataset, table: &'a Table) -> Observations<'a> {
        let columns = dataset
            .features
            .iter()
            .chain(&dataset.targets)
            .filter_map(|c| Some((c.name.name.as_str(), &c.ty, table.column(&c.name.name)?)))
            .collect();
        Observations { columns }
    }

    pub fn value(&self, row: usize, column: &str) -> Option<Observed> {
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

/// Grounds and compiles every constraint for every tuple, in parallel.
pub fn prepare_examples(
    grounder: &Grounder,
    knowledge: &Knowledge,
    observations: &Observations,
    tuples: &[Vec<usize>],
) -> Result<Vec<Example>, WeakError> {
    tuples
        .par_iter()
        .map(|rows| {
            let observe = |slot: usize, column: &str| observations.value(rows[slot], column);
            let mut constraints = Vec::new();
            for &(c, share) in &knowledge.constraints {
                let Some(grounded) = grounder.ground(c, &observe).map_err(WeakError::Ground)? else { continue };
                let diagram = compile(&grounded.event, NODE_LIMIT)
                    .map_err(|e| WeakError::Compile { constraint: c + 1, reason: e.to_string() })?;
                constraints.push(Compiled { share, grounded, diagram });
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
}

fn batch_rows(examples: &[&Example], learnables: usize) -> BatchRows {
    let mut rows = vec![Vec::new(); learnables];
    let mut seen: Vec<std::collections::HashMap<usize, usize>> = vec![Default::default(); learnables];
    let at = examples
        .iter()
        .map(|e| {
            e.constraints
                .iter()
                .map(|c| {
                    c.grounded
                        .vars
                        .iter()
                        .map(|v| {
                            let row = e.rows[v.slot];
                            let next = rows[v.learnable].len();
                            let pos = *seen[v.learnable].entry(row).or_insert(next);
                            if pos == next {
                                rows[v.learnable].push(row);
                            }
                            (v.learnable, pos)
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    BatchRows { rows, at }
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

/// What inference says about one batch: the training targets per learnable and row, the
/// semantic loss, and how many examples the current predictions satisfy.
struct Inferred {
    targets: Vec<Vec<Vec<f64>>>,
    loss: f64,
    satisfied: usize,
    /// Examples whose constraints have probability 0 (contradictory observations).
    impossible: usize,
}

fn infer(examples: &[&Example], at: &BatchRows, logp: &[Vec<Vec<f64>>], method: Method) -> Inferred {
    let per_example: Vec<_> = examples
        .par_iter()
        .zip(&at.at)
        .map(|(e, at)| {
            let mut targets: Vec<(usize, usize, f64, Vec<f64>)> = Vec::new();
            let (mut loss, mut impossible) = (0.0, false);
            let sat = satisfied(e, at, logp);
            for (c, at) in e.constraints.iter().zip(at) {
                let logw: Vec<Vec<f64>> = at.iter().map(|&(l, i)| logp[l][i].clone()).collect();
                let q = match method {
                    Method::Em { hard: true, .. } => c.diagram.map(&logw).map(|(z, _)| {
                        let lp = c.diagram.log_prob(&logw);
                        let one_hot =
                            z.iter().zip(&logw).map(|(&k, w)| (0..w.len()).map(|j| (j == k) as u8 as f64).collect());
                        (lp, one_hot.collect::<Vec<Vec<f64>>>())
                    }),
                    _ => c.diagram.posterior(&logw).map(|p| (p.log_prob, p.marginals)),
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
            (targets, loss, sat, impossible)
        })
        .collect();
    let mut targets: Vec<Vec<Vec<f64>>> =
        logp.iter().map(|rows| rows.iter().map(|r| vec![0.0; r.len()]).collect()).collect();
    let (mut loss, mut satisfied, mut impossible) = (0.0, 0, 0);
    for (t, l, s, imp) in per_example {
        if imp {
            impossible += 1;
            continue;
        }
        for (learnable, i, share, q) in t {
            for (a, b) in targets[learnable][i].iter_mut().zip(q) {
                *a += share * b;
            }
        }
        loss += l;
        satisfied += s as usize;
    }
    Inferred { targets, loss, satisfied, impossible }
}

/// Whether an example's constraints all hold under each network's most likely classes.
fn satisfied(e: &Example, at: &[Vec<(usize, usize)>], logp: &[Vec<Vec<f64>>]) -> bool {
    e.constraints.iter().zip(at).all(|(c, at)| {
        let z: Vec<usize> = at.iter().map(|&(l, i)| argmax(&logp[l][i])).collect();
        c.grounded.event.holds(&z)
    })
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
    if examples.is_empty() {
        return 0.0;
    }
    let mut hits = 0;
    for chunk in examples.chunks(256) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let at = batch_rows(&refs, nets.len());
        let logits = forward_all(nets, readers, &at.rows, device);
        let logp = log_probs(&logits);
        hits += refs.iter().zip(&at.at).filter(|(e, at)| satisfied(e, at, &logp)).count();
    }
    hits as f64 / examples.len() as f64
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
/// validation examples, if any).
pub fn train_weak(
    readers: &[Reader],
    mut nets: Vec<Net>,
    examples: &Examples,
    method: Method,
    s: &Settings,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> TrainedWeak {
    let (train, valid) = (&examples.train, &examples.valid);
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
        impossible = 0;
        for (b, index) in order.chunks(s.batch_size).enumerate() {
            let examples: Vec<&Example> = index.iter().map(|&i| &train[i]).collect();
            let at = batch_rows(&examples, nets.len());
            let steps = match method {
                Method::SemanticLoss => 1,
                Method::Em { m_steps, .. } => m_steps.max(1),
            };
            let mut targets = None;
            for _ in 0..steps {
                let logits = forward_all(&nets, readers, &at.rows, device);
                if targets.is_none() {
                    let inferred = infer(&examples, &at, &log_probs(&logits), method);
                    loss_sum += inferred.loss;
                    satisfied += inferred.satisfied;
                    impossible += inferred.impossible;
                    targets = Some(inferred.targets);
                }
                let Some(t) = &targets else { break };
                // Cross-entropy towards the targets: its gradient is (Σ t) p − t per row.
                let mut total: Option<Tensor<1>> = None;
                for (logits, t) in logits.into_iter().zip(t) {
                    let [n, k] = logits.dims();
                    if n == 0 {
                        continue;
                    }
                    let flat: Vec<f32> = t.iter().flatten().map(|&x| x as f32).collect();
                    let target = Tensor::<2>::from_data(TensorData::new(flat, [n, k]), device);
                    let ce = (activation::log_softmax(logits, 1) * target).sum().neg() / index.len() as f32;
                    total = Some(match total {
                        Some(x) => x + ce,
                        None => ce,
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
        };
        progress(Progress::Epoch(&record));
        epochs.push(record);
        if best.stop_after(epoch, validation_accuracy, &nets) {
            break;
        }
    }
    let (nets, kept) = best.kept(nets, epochs.len());
    TrainedWeak { nets, epochs, kept, impossible }
}
