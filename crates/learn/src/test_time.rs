//! A run's test-time correction (`evaluation.correction`): the classes' ratios it aims at (the
//! training rows' gold labels, or ALG1's estimate from the weak labels), the setting that
//! satisfies the most weakly labelled validation examples, and the test predictions it corrects.

use crate::batch::{forward_all, log_probs, BatchRows, Reader};
use crate::correct::{candidates, choose, Correct};
use crate::evaluate::holds;
use crate::examples::{examples, Example, Prepare, Prepared};
use crate::metrics::log_probabilities;
use crate::model::Net;
use crate::report::CorrectionReport;
use crate::run::{class_counts, Run, RunError};
use burn::prelude::Device;
use skilang_data::rng::Rng;
use skilang_lang::check::{Corrected, Engine};
use skilang_lang::spec::Prior;
use skilang_logic::prior::{estimate, WeakLabel};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// CAROT corrects test predictions in batches of this many times the training batch size (the
/// published code's test loader).
const TEST_BATCHES: usize = 4;

/// The corrected most likely class of every test row (per learnable, as [`crate::metrics::predict`]),
/// and what the correction chose.
pub fn correct(
    run: &Run,
    plan: &Corrected,
    nets: &[Net],
    device: &Device,
) -> Result<(Vec<Vec<u32>>, CorrectionReport), RunError> {
    let started = Instant::now();
    let ratios = ratios(run, plan.prior, nets, device)?;
    // A class at ratio 0 would be forbidden outright; a floor keeps it merely unlikely.
    let log_r: Vec<Vec<f64>> = ratios.iter().map(|r| r.iter().map(|x| x.max(1e-12).ln()).collect()).collect();
    let valid = Validation::new(run, plan.validation, nets, device)?;
    let satisfied = |c: Option<&dyn Correct>| {
        valid.satisfied(|l, logp| match c {
            Some(c) => c.classes(logp, &log_r[l]),
            None => logp.iter().map(|p| skilang_logic::argmax(p)).collect(),
        })
    };
    let (chosen, score) = choose(candidates(plan.kind), |c| satisfied(Some(c)))
        .ok_or_else(|| RunError::Invalid("the correction has no setting to choose from".into()))?;
    let batch = run.settings.batch_size * TEST_BATCHES;
    let mut order = Rng::new(run.settings.seed ^ 0xC0_7E57);
    let predicted = run
        .tasks
        .iter()
        .zip(nets)
        .zip(&log_r)
        .map(|((t, net), log_r)| {
            let all: Vec<usize> = (0..t.test.len()).collect();
            let logp = log_probabilities(net, t.input, &t.test.inputs, &all, device);
            // Shuffled, so that a batch's classes are the test set's, not a run of its order.
            let shuffled = order.permutation(logp.len());
            let mut classes = vec![0u32; logp.len()];
            for chunk in shuffled.chunks(batch) {
                let rows: Vec<Vec<f64>> = chunk.iter().map(|&i| logp[i].clone()).collect();
                for (&i, c) in chunk.iter().zip(chosen.classes(&rows, log_r)) {
                    classes[i] = c as u32;
                }
            }
            classes
        })
        .collect();
    let (tau, eta) = chosen.settings();
    let names = run.tasks.iter().map(|t| t.learnable.clone());
    Ok((
        predicted,
        CorrectionReport {
            correction: plan.kind.name(),
            prior: plan.prior.name(),
            ratios: names.zip(ratios).collect(),
            tau,
            eta,
            validation_examples: valid.examples.len(),
            validation_satisfied: score,
            uncorrected_validation_satisfied: satisfied(None),
            uncorrected_symbol_accuracy: BTreeMap::new(),
            uncorrected_balanced_accuracy: BTreeMap::new(),
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

/// Per learnable, the ratios of its classes that `prior` gives (EMP's: the shares of `nets`'
/// predictions on the training examples' instances).
pub fn ratios(run: &Run, prior: Prior, nets: &[Net], device: &Device) -> Result<Vec<Vec<f64>>, RunError> {
    match prior {
        Prior::Gold => Ok(gold_ratios(run)),
        Prior::Alg1 => alg1_ratios(run),
        Prior::Emp => {
            let drawn = run.examples(Some(&Prepare::Crisp))?;
            let readers: Vec<Reader> = run.tasks.iter().map(train_reader).collect();
            Ok(crate::emp::shares(nets, &readers, &drawn.train, device))
        }
    }
}

/// What a network reads of the training rows, unmoved.
fn train_reader(t: &crate::task::Task) -> Reader<'_> {
    Reader { shape: t.input, inputs: &t.train.inputs, classes: t.classes.len(), cells: t.cells, augment: None }
}

/// Per learnable, its classes' shares among the training rows' gold labels (an oracle).
fn gold_ratios(run: &Run) -> Vec<Vec<f64>> {
    run.tasks
        .iter()
        .map(|t| {
            let counts = class_counts(&t.train.labels, t.classes.len());
            let total: usize = counts.iter().sum();
            counts.iter().map(|&n| n as f64 / total.max(1) as f64).collect()
        })
        .collect()
}

/// Per learnable, ALG1's ratios: those under which the training examples' weak labels are most
/// likely, each distinct grounding's chance computed by the exact engine.
fn alg1_ratios(run: &Run) -> Result<Vec<Vec<f64>>, RunError> {
    let drawn = run.examples(Some(&Prepare::Infer(skilang_logic::engine(Engine::Exact))))?;
    let cells: Vec<usize> = run.tasks.iter().map(|t| t.cells).collect();
    let refs: Vec<&Example> = drawn.train.iter().collect();
    let at = BatchRows::new(&refs, &cells, false).at;
    // Examples grounded alike share their prepared event: one label each, counted, in the order
    // first seen (the estimate sums over them: a run is reproducible to the bit).
    let mut seen: HashMap<(*const Prepared, Vec<usize>), usize> = HashMap::new();
    let mut counted: Vec<(Vec<usize>, &Prepared, f64)> = Vec::new();
    for (e, at) in drawn.train.iter().zip(&at) {
        for (c, at) in e.constraints.iter().zip(at) {
            let distribution: Vec<usize> = at.iter().map(|&(l, _)| l).collect();
            let next = counted.len();
            let i = *seen.entry((std::sync::Arc::as_ptr(&c.prepared), distribution.clone())).or_insert(next);
            if i == next {
                counted.push((distribution, &c.prepared, 0.0));
            }
            counted[i].2 += 1.0;
        }
    }
    let labels: Vec<WeakLabel> = counted
        .into_iter()
        .filter_map(|(distribution, prepared, count)| match prepared {
            Prepared::Inference(event) => Some(WeakLabel { event: event.as_ref(), distribution, count }),
            _ => None,
        })
        .collect();
    let classes: Vec<usize> = run.tasks.iter().map(|t| t.classes.len()).collect();
    Ok(estimate(&labels, &classes).ratios)
}

/// Weakly labelled validation examples drawn afresh from the training rows, and the networks'
/// log-probabilities on them, in batches of the training batch size.
struct Validation {
    examples: Vec<Example>,
    /// Per batch: where its variables sit, and per learnable the log-probabilities of its cells.
    batches: Vec<(BatchRows, Vec<Vec<Vec<f64>>>)>,
    batch_size: usize,
}

impl Validation {
    fn new(run: &Run, count: usize, nets: &[Net], device: &Device) -> Result<Validation, RunError> {
        let mut settings = run.settings.clone();
        settings.seed ^= 0x5A11_DA7E;
        settings.validation = 0.0;
        let mut drawn = examples(&run.spec, &run.program, &run.data, &settings, Some(&Prepare::Crisp))?.train;
        drawn.truncate(count);
        let readers: Vec<Reader> = run.tasks.iter().map(train_reader).collect();
        let cells: Vec<usize> = run.tasks.iter().map(|t| t.cells).collect();
        let batch_size = run.settings.batch_size.max(1);
        // Nothing is augmented: the draws are never read.
        let mut unused = Rng::new(0);
        let batches = drawn
            .chunks(batch_size)
            .map(|chunk| {
                let refs: Vec<&Example> = chunk.iter().collect();
                let rows = BatchRows::new(&refs, &cells, false);
                let logp = log_probs(&forward_all(nets, &readers, &rows.rows, device, &mut unused));
                (rows, logp)
            })
            .collect();
        Ok(Validation { examples: drawn, batches, batch_size })
    }

    /// The share of the examples whose constraints all hold when `classes(learnable, logp)`
    /// gives each learnable's classes on a batch's cells.
    fn satisfied(&self, classes: impl Fn(usize, &[Vec<f64>]) -> Vec<usize>) -> f64 {
        let mut held = 0;
        for ((rows, logp), examples) in self.batches.iter().zip(self.examples.chunks(self.batch_size)) {
            let classes: Vec<Vec<usize>> = logp.iter().enumerate().map(|(l, logp)| classes(l, logp)).collect();
            held += examples
                .iter()
                .zip(&rows.at)
                .filter(|(e, at)| e.constraints.iter().zip(*at).all(|(c, at)| holds(c, at, |l, i| classes[l][i])))
                .count();
        }
        held as f64 / self.examples.len().max(1) as f64
    }
}
