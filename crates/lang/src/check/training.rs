//! Which injection a spec trains with, and which of its constraints that injection trains: no
//! constraint is silently left out, and whatever `train` would refuse about the choice is refused
//! here first, at its place.

use super::program::{LearnableInfo, Program, Scope};
use super::rule_roles::{rule_roles, supervised_learnable, RuleRole};
use crate::diag::Diagnostic;
use crate::limits::{ENUMERATION_LIMIT, EXACT_GRID_CELLS};
use crate::source::Span;
use crate::spec::{
    Activation, Binarize, ConstraintKind, Correction, Estimator, Implication, Inference, Injection, Kernel, Layer,
    Model, Optimization, Prior, Semantics, Spec, TruthLoss,
};

/// How a run trains: the plan `check` validates and `train` executes, with every default of the
/// `optimization` section in one place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Training {
    /// Each learnable on its output column.
    Supervised,
    /// From the constraints through exact inference: the semantic loss, or EM.
    Reasoned { objective: Reasoning, engine: Engine },
    /// Fuzzy constraining: truth degrees under `semantics`, the loss `loss(truth)`.
    Fuzzy { semantics: Semantics, implication: Option<Implication>, loss: TruthLoss },
    /// CL-STE: the constraints as CNF over binarised outputs, the loss
    /// `alpha · L_cnf + beta · L_bound` through a straight-through estimator.
    Ste { binarize: Binarize, estimator: Estimator, alpha: f64, beta: f64, normalize: bool },
    /// Rules over observed inputs as extra features.
    Embedding,
    /// Rules over observed inputs as neurons of the network.
    Structuring,
}

/// A test-time correction as a run carries it out (`evaluation.correction`), with its defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Corrected {
    /// Logit adjustment or CAROT (never `none`: then there is no correction).
    pub kind: Correction,
    pub prior: Prior,
    /// Weakly labelled validation examples that choose τ and η.
    pub validation: usize,
}

/// Validation examples a correction chooses its settings on, unless told: the paper's.
pub const CORRECTION_VALIDATION: usize = 256;

impl Corrected {
    /// The spec's correction, if it asks for one.
    pub fn of(spec: &Spec) -> Option<Corrected> {
        let kind = spec.evaluation.correction.as_ref().map(|c| c.value).filter(|&c| c != Correction::None)?;
        Some(Corrected {
            kind,
            prior: spec.optimization.prior.as_ref().map_or(Prior::Alg1, |p| p.value),
            validation: spec.evaluation.validation.as_ref().map_or(CORRECTION_VALIDATION, |v| v.value as usize),
        })
    }
}

/// What learning from constraints through inference minimises.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reasoning {
    /// −log P(φ), one gradient step per batch.
    SemanticLoss,
    /// The posterior (or its MAP assignment, `hard`) as fixed targets for `m_steps` steps.
    Em { hard: bool, m_steps: u64 },
    /// LP pseudo-labels: per batch, the distributions closest to the networks' predictions that
    /// keep to each example's proofs (the engine's top-k models) and whose class counts stay
    /// within ε of the batch's share of the `prior` ratios; the integer program when `hard`.
    Lp { hard: bool, prior: Prior },
}

/// The inference engine that computes P(φ), posteriors and MAP (`skilang_logic::engine`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Engine {
    /// Knowledge compilation into decision diagrams.
    Exact,
    /// Every assignment, for tiny events and for checking the others.
    Enumerate,
    /// `samples` assignments per example drawn from the networks, each weighed by `kernel`
    /// (`bandwidth`: the `exp` kernel's width).
    Sample { samples: u64, kernel: Kernel, bandwidth: f64 },
    /// The `k` most probable models of the event, found best-first.
    TopK { k: u64 },
    /// Loopy belief propagation: at most `iterations` rounds, messages keeping `damping` of their
    /// previous value on loopy graphs, until none moves more than `tolerance`.
    Bp { iterations: u64, damping: f64, tolerance: f64 },
}

/// `samples` unless written: enough for marginals within a few points where P(φ) is not tiny.
pub const DEFAULT_SAMPLES: u64 = 1000;
/// `top_k` unless written: Scallop's usual k.
pub const DEFAULT_TOP_K: u64 = 3;
/// `bp` unless written: rounds, damping and tolerance.
pub const DEFAULT_BP: (u64, f64, f64) = (100, 0.5, 1e-6);

impl Engine {
    /// The engine `inference` names, with its options.
    fn of(inference: Inference, o: &Optimization) -> Engine {
        match inference {
            Inference::Exact => Engine::Exact,
            Inference::Enumerate => Engine::Enumerate,
            Inference::Sample => Engine::Sample {
                samples: o.samples.as_ref().map_or(DEFAULT_SAMPLES, |s| s.value),
                kernel: o.kernel.as_ref().map_or(Kernel::Indicator, |k| k.value),
                bandwidth: o.bandwidth.as_ref().map_or(1.0, |b| b.value),
            },
            Inference::TopK => Engine::TopK { k: o.top_k.as_ref().map_or(DEFAULT_TOP_K, |k| k.value) },
            Inference::Bp => {
                let b = o.bp.as_ref().map(|b| &b.value);
                let (iterations, damping, tolerance) = DEFAULT_BP;
                Engine::Bp {
                    iterations: b.and_then(|b| b.iterations.as_ref()).map_or(iterations, |i| i.value),
                    damping: b.and_then(|b| b.damping.as_ref()).map_or(damping, |d| d.value),
                    tolerance: b.and_then(|b| b.tolerance.as_ref()).map_or(tolerance, |t| t.value),
                }
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Exact => Inference::Exact.name(),
            Engine::Enumerate => Inference::Enumerate.name(),
            Engine::Sample { .. } => Inference::Sample.name(),
            Engine::TopK { .. } => Inference::TopK.name(),
            Engine::Bp { .. } => Inference::Bp.name(),
        }
    }
}

impl Training {
    /// The plan of a spec's `optimization` section (and, for the default injection, its constraints).
    fn of(spec: &Spec) -> Training {
        let o = &spec.optimization;
        let injection = o.injection_or_default(spec.trains_constraints());
        // LP keeps to proofs, which the top-k engine gives (`plan` refuses another).
        let inference = o.inference.as_ref().map(|i| i.value);
        let inference =
            inference.unwrap_or(if injection == Injection::Lp { Inference::TopK } else { Inference::Exact });
        let engine = Engine::of(inference, o);
        let reasoned = |objective| Training::Reasoned { objective, engine };
        match injection {
            Injection::SemanticLoss => reasoned(Reasoning::SemanticLoss),
            Injection::Lp => reasoned(Reasoning::Lp {
                hard: o.hard.as_ref().is_some_and(|h| h.value),
                prior: o.prior.as_ref().map_or(Prior::Alg1, |p| p.value),
            }),
            Injection::Em => reasoned(Reasoning::Em {
                hard: o.hard.as_ref().is_some_and(|h| h.value),
                m_steps: o.m_steps.as_ref().map_or(1, |m| m.value),
            }),
            Injection::Fuzzy => Training::Fuzzy {
                semantics: o.semantics.as_ref().map_or(Semantics::Product, |s| s.value),
                implication: o.implication.as_ref().map(|i| i.value),
                loss: o.loss.as_ref().map_or(TruthLoss::Linear, |l| l.value),
            },
            Injection::Ste => {
                let s = o.ste.as_ref().map(|s| &s.value);
                let number = |x: Option<&Option<crate::source::Spanned<f64>>>, default| {
                    x.and_then(Option::as_ref).map_or(default, |v| v.value)
                };
                Training::Ste {
                    binarize: s.and_then(|s| s.binarize.as_ref()).map_or(Binarize::Probability, |b| b.value),
                    estimator: s.and_then(|s| s.estimator.as_ref()).map_or(Estimator::Identity, |e| e.value),
                    alpha: number(s.map(|s| &s.alpha), 1.0),
                    beta: number(s.map(|s| &s.beta), 0.01),
                    normalize: s.and_then(|s| s.normalize.as_ref()).is_some_and(|n| n.value),
                }
            }
            Injection::Embedding => Training::Embedding,
            Injection::Structuring => Training::Structuring,
            Injection::Supervised => Training::Supervised,
        }
    }

    /// Whether the plan learns from the constraints of examples.
    pub fn learns_from_constraints(self) -> bool {
        matches!(self, Training::Reasoned { .. } | Training::Fuzzy { .. } | Training::Ste { .. })
    }

    /// The injection the plan carries out.
    pub fn injection(self) -> Injection {
        match self {
            Training::Supervised => Injection::Supervised,
            Training::Reasoned { objective: Reasoning::SemanticLoss, .. } => Injection::SemanticLoss,
            Training::Reasoned { objective: Reasoning::Em { .. }, .. } => Injection::Em,
            Training::Reasoned { objective: Reasoning::Lp { .. }, .. } => Injection::Lp,
            Training::Fuzzy { .. } => Injection::Fuzzy,
            Training::Ste { .. } => Injection::Ste,
            Training::Embedding => Injection::Embedding,
            Training::Structuring => Injection::Structuring,
        }
    }
}

/// Sets the program's injection and each constraint's `supervises` and `trained`; returns the
/// problems with the choice. `resolved`: the spec had no error so far (where it had, the datasets
/// and learnables the examples need may be what failed, and that was reported).
pub(super) fn plan(spec: &Spec, program: &mut Program, resolved: bool) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let o = &spec.optimization;
    let injection = o.injection_or_default(spec.trains_constraints());
    program.training = Training::of(spec);
    program.injection_written = o.injection.is_some();
    // Learning from constraints trains the learnables together: with all of them frozen, nothing.
    let frozen: Vec<Span> =
        spec.learnables.iter().filter(|l| l.frozen).filter_map(|l| l.weights.as_ref().map(|w| w.span)).collect();
    if program.training.learns_from_constraints() && !frozen.is_empty() && frozen.len() == spec.learnables.len() {
        diags.push(
            Diagnostic::error(
                frozen[0],
                format!("every learnable is frozen, so `{}` would train nothing", injection.name()),
            )
            .with_help("leave one learnable unfrozen, or evaluate the weights with `skilang eval`"),
        );
    }
    let reasons = matches!(injection, Injection::SemanticLoss | Injection::Em | Injection::Lp);
    match &o.inference {
        Some(i) if injection == Injection::Lp && i.value != Inference::TopK => diags.push(
            Diagnostic::error(
                i.span,
                format!("`lp` keeps to each example's proofs, which `topk` gives, not `{}`", i.value.name()),
            )
            .with_help("remove `inference` (lp uses `topk`) and set the proofs per example with `top_k`"),
        ),
        Some(i) if !reasons => {
            let default = if o.injection.is_none() { " (the default)" } else { "" };
            diags.push(
                Diagnostic::warning(
                    i.span,
                    format!("`inference` is not used by the `{}` injection{default}", injection.name()),
                )
                .with_note("semantic_loss, em and lp use an inference engine"),
            );
        }
        _ => {}
    }
    diags.extend(engine_option_warnings(o, program.training));
    if let (Some(i), Training::Reasoned { engine: Engine::Enumerate, .. }) = (&o.inference, program.training) {
        diags.extend(enumeration_refusal(spec, program, i.span));
    }
    if let Training::Reasoned { engine, .. } = program.training {
        diags.extend(grid_refusals(spec, program, engine));
    }
    if let Training::Reasoned { engine: Engine::Exact, .. } = program.training {
        diags.extend(board_refusal(spec, o.inference.as_ref().map(|i| i.span)));
    }
    diags.extend(black_box_refusal(program));
    for info in &mut program.constraints {
        let Some(c) = spec.constraints.get(info.id.position()) else { continue };
        info.supervises = match &c.kind {
            ConstraintKind::Always(f) => supervised_learnable(spec, &program.learnables, &f.expr),
            _ => None,
        };
        info.trained = !info.measured
            && match injection {
                Injection::Supervised => info.supervises.is_some(),
                _ => true,
            };
        if (reasons || injection == Injection::Ste) && info.scope == Scope::ColumnWise && !info.measured {
            let per_example = match injection {
                Injection::Ste => "`ste` encodes each example's constraints as CNF",
                _ => "semantic loss and EM reason per example",
            };
            diags.push(
                Diagnostic::error(c.span, format!("this constraint is column-wise, and {per_example}"))
                    .with_help("train it with `injection: fuzzy`"),
            );
        }
        if !info.trained && !info.measured {
            diags.push(
                Diagnostic::warning(c.span, "this constraint is not trained: `injection: supervised` learns from the output columns alone")
                    .with_help("remove `injection` (a spec with constraints trains them with fuzzy constraining), or choose `fuzzy`")
                    .with_note("the report still evaluates it, with `trained: false`"),
            );
        }
    }
    if matches!(injection, Injection::Embedding | Injection::Structuring) {
        diags.extend(rule_refusals(spec, program, injection.name()));
    }
    if let Some(s) = o.ste.as_ref().filter(|_| injection != Injection::Ste) {
        diags.push(
            Diagnostic::warning(s.span, format!("`ste` is not used by the `{}` injection", injection.name()))
                .with_note("it sets how `injection: ste` binarises and weighs its losses"),
        );
    }
    if resolved && program.training.learns_from_constraints() {
        diags.extend(example_refusals(spec, program));
    }
    if injection == Injection::Lp {
        // LP keeps every example to one of each constraint's proofs: there is nothing to weigh.
        for w in spec.constraints.iter().filter_map(|c| c.weight.as_ref()) {
            diags.push(
                Diagnostic::warning(w.span, "`weight` is not used by `lp`: every constraint's proofs are kept to")
                    .with_note("weights share the loss between constraints under the other injections"),
            );
        }
    }
    diags.extend(correction_refusals(spec, program));
    diags.extend(records_refusals(spec, program));
    program.correction = Corrected::of(spec);
    diags
}

/// A test-time correction chooses its settings by how many weakly labelled examples the
/// corrected predictions satisfy, so it needs the examples of learning from constraints, and
/// per-cell distributions to correct; a `prior` means nothing without one.
fn correction_refusals(spec: &Spec, program: &Program) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let injection = program.training.injection().name();
    match spec.evaluation.correction.as_ref().filter(|c| c.value != Correction::None) {
        Some(c) if !program.training.learns_from_constraints() => diags.push(
            Diagnostic::error(
                c.span,
                format!(
                    "correction `{}` needs the examples of learning from constraints, and `{injection}` has none",
                    c.value.name()
                ),
            )
            .with_note(
                "τ and η are chosen by how many weakly labelled validation examples the corrected predictions satisfy",
            )
            .with_help("train from the constraints (e.g. `injection: semantic_loss`), or remove the correction"),
        ),
        Some(c) => {
            for l in spec.learnables.iter().filter(|l| l.decode.is_some()) {
                diags.push(
                    Diagnostic::error(c.span, format!("correction `{}` adjusts each cell's distribution, and learnable `{}` is decoded iteratively", c.value.name(), l.name.name))
                        .with_help("remove `decode` from the learnable, or the correction"),
                );
            }
        }
        // `correction: none` written beside a prior is a correction switched off, not a mistake.
        None if spec.evaluation.correction.is_some() => {}
        None if matches!(program.training, Training::Reasoned { objective: Reasoning::Lp { .. }, .. }) => {}
        None => {
            if let Some(p) = &spec.optimization.prior {
                diags.push(
                    Diagnostic::warning(
                        p.span,
                        "`prior` is not used: nothing here corrects towards the classes' ratios",
                    )
                    .with_note("`injection: lp` and the test-time corrections (`evaluation: {correction: la}` or `carot`) use it"),
                );
            }
        }
    }
    if let Some(v) = spec.evaluation.validation.as_ref().filter(|_| spec.evaluation.correction.is_none()) {
        diags.push(
            Diagnostic::warning(v.span, "`validation` is not used: there is no correction to choose settings for")
                .with_help("add `correction: la` or `carot`"),
        );
    }
    diags
}

/// RECORDS debiases the distributions the posterior-reading objectives turn into targets, by the
/// prior the network's last layer gives its momentum feature mean: it needs such an objective,
/// and networks that end in one linear layer scoring one class per instance.
fn records_refusals(spec: &Spec, program: &Program) -> Vec<Diagnostic> {
    let Some(r) = spec.optimization.records.as_ref().filter(|r| r.value) else { return Vec::new() };
    let mut diags = Vec::new();
    if !matches!(program.training, Training::Reasoned { objective: Reasoning::SemanticLoss | Reasoning::Em { .. }, .. })
    {
        let injection = program.training.injection().name();
        diags.push(
            Diagnostic::error(
                r.span,
                format!(
                    "`records` debiases the distributions semantic loss and EM reason from, and `{injection}` has none"
                ),
            )
            .with_help("use `injection: semantic_loss` or `em`, or remove `records`"),
        );
    }
    for (l, info) in spec.learnables.iter().zip(&program.learnables) {
        let last = match &l.model {
            Model::Layers(layers) => layers.last().map(|x| (&x.value, x.span)),
            Model::Architecture { .. } => None,
        };
        if let Some((_, span)) =
            last.filter(|(x, _)| !matches!(x, Layer::Linear { activation: None | Some(Activation::Softmax), .. }))
        {
            diags.push(
                Diagnostic::error(span, format!("`records` reads the prior from the last layer of `{}`, which must be linear with no activation", l.name.name))
                    .with_note("the prior is softmax(W·μ + b), μ the momentum mean of the features that layer reads"),
            );
        } else if info.cells > 1 {
            diags.push(Diagnostic::error(
                l.name.span,
                format!(
                    "`records` gives one prior per network, and `{}` scores {} cells per instance",
                    l.name.name, info.cells
                ),
            ));
        }
    }
    diags
}

/// Learning from constraints draws its examples as tuples of one dataset's rows: the dataset
/// that declares `instances`, which every learnable must read.
fn example_refusals(spec: &Spec, program: &Program) -> Vec<Diagnostic> {
    let Some(first) = spec.constraints.first() else { return Vec::new() };
    let with: Vec<usize> = (0..spec.datasets.len()).filter(|&d| !spec.datasets[d].instances.is_empty()).collect();
    match with.as_slice() {
        [] => vec![Diagnostic::error(
            first.span,
            "learning from constraints draws its examples as tuples of a dataset's rows, and no dataset declares `instances`",
        )
        .with_help("declare the instances the constraints are about, e.g. `instances: [x1, x2]` or `instance_name: x`")],
        // A learnable that failed was reported.
        [_] if program.learnables.len() != spec.learnables.len() => Vec::new(),
        [d] => {
            let drawn = &spec.datasets[*d].name.name;
            spec.learnables
                .iter()
                .zip(&program.learnables)
                .filter(|(_, info)| info.output_column.dataset != *d)
                .map(|(l, info)| {
                    Diagnostic::error(
                        l.name.span,
                        format!("learnable `{}` reads `{}`, but the examples are drawn from `{drawn}`", info.name, info.dataset),
                    )
                    .with_note(format!("`{drawn}` is the dataset that declares `instances`"))
                })
                .collect()
        }
        [a, b, ..] => {
            let (a, b) = (&spec.datasets[*a], &spec.datasets[*b]);
            vec![Diagnostic::error(
                b.instances[0].name.span,
                format!(
                    "learning from constraints draws its examples from one dataset, and both `{}` and `{}` declare `instances`",
                    a.name.name, b.name.name
                ),
            )
            .with_help("declare the instances on one dataset")]
        }
    }
}

/// Refuses `inference: enumerate` (at `at`) when a constraint could need more assignments than
/// the engine visits: at most each learnable it reaches, on each instance of an example. Train
/// runs this check too, so the engine's own limit is never what stops a run.
fn enumeration_refusal(spec: &Spec, program: &Program, at: Span) -> Option<Diagnostic> {
    let slots = spec.datasets.iter().find(|d| !d.instances.is_empty()).map_or(1, |d| d.tuple_size());
    program.constraints.iter().filter(|c| c.scope == Scope::InstanceWise && !c.measured).find_map(|c| {
        let reached: Vec<&LearnableInfo> =
            program.learnables.iter().filter(|l| c.latent.iter().any(|a| a.split('(').next() == Some(&l.name))).collect();
        let bound = reached
            .iter()
            .try_fold(1u128, |n, l| n.checked_mul((l.classes as u128).checked_pow((slots * l.cells) as u32)?));
        if bound.is_some_and(|b| b <= ENUMERATION_LIMIT as u128) {
            return None;
        }
        let count = bound.map_or("more than 10^38".to_string(), |b| b.to_string());
        let classes: Vec<String> = reached.iter().map(|l| format!("`{}`'s {}", l.name, l.classes)).collect();
        Some(
            Diagnostic::error(
                at,
                format!(
                    "`inference: enumerate` could visit {count} assignments for constraint {}, more than its limit of {ENUMERATION_LIMIT}",
                    c.id
                ),
            )
            .with_note(format!("{} classes on each of the {slots} instances of an example", classes.join(" and ")))
            .with_help("`inference: exact` compiles such constraints into decision diagrams"),
        )
    })
}

/// Refuses exact reasoning over a constraint that reaches a learnable predicting a grid of more
/// than [`EXACT_GRID_CELLS`] cells: the relations that tie a grid's cells together (a Sudoku's
/// 972 inequalities) leave decision diagrams and their caches exponential in the grid's size.
fn grid_refusals(spec: &Spec, program: &Program, engine: Engine) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for c in program.constraints.iter().filter(|c| c.scope == Scope::InstanceWise && !c.measured) {
        let reached = program
            .learnables
            .iter()
            .find(|l| l.cells > EXACT_GRID_CELLS && c.latent.iter().any(|a| a.split('(').next() == Some(&l.name)));
        let (Some(l), Some(at)) = (reached, spec.constraints.get(c.id.position())) else { continue };
        diags.push(
            Diagnostic::error(
                at.span,
                format!(
                    "`inference: {}` cannot reason over the {} cells `{}` predicts: {} grows exponentially with a grid's size",
                    engine.name(),
                    l.cells,
                    l.name,
                    match engine {
                        Engine::Exact | Engine::Enumerate => "exact reasoning",
                        Engine::Sample { .. } | Engine::TopK { .. } | Engine::Bp { .. } => "grounding its constraints",
                    }
                ),
            )
            .with_note(format!("this version reasons over grids of at most {EXACT_GRID_CELLS} cells"))
            .with_help("train it with `injection: ste` (its constraints as CNF) or `injection: fuzzy`"),
        );
    }
    diags
}

/// Refuses exact reasoning over visual Sudoku boards of more than [`EXACT_GRID_CELLS`] cells, for
/// the reason [`grid_refusals`] gives: the inequalities between a 9×9 board's cells.
fn board_refusal(spec: &Spec, inference: Option<Span>) -> Option<Diagnostic> {
    let (source, dim) = spec.datasets.iter().find_map(|d| {
        let s = d.source.as_ref()?;
        Some((s, s.value.visudo_dim()?))
    })?;
    (dim * dim > EXACT_GRID_CELLS).then(|| {
        Diagnostic::error(
            inference.unwrap_or(source.span),
            format!(
                "`inference: exact` cannot reason over the {} cells of a {dim}×{dim} board: exact reasoning grows exponentially with a board's size",
                dim * dim
            ),
        )
        .with_note(format!("this version reasons exactly over boards of at most {EXACT_GRID_CELLS} cells"))
        .with_help("reason by belief propagation (`inference: bp`), sampling (`sample`) or top-k proofs (`topk`)")
    })
}

/// Refuses training through `shortest_path` of latent costs other than by evaluating it: by
/// sampling (or enumerating) costs. Compiling, propagating or searching would need its structure,
/// fuzzy and CNF relaxations a formula — it has neither, only Dijkstra's answer.
fn black_box_refusal(program: &Program) -> Option<Diagnostic> {
    let at = *program.black_boxes.first()?;
    let how = match program.training {
        Training::Reasoned { engine: Engine::Sample { .. } | Engine::Enumerate, .. } | Training::Supervised => {
            return None
        }
        Training::Reasoned { engine, .. } => format!("`inference: {}`", engine.name()),
        t => format!("`injection: {}`", t.injection().name()),
    };
    Some(
        Diagnostic::error(at, format!("{how} cannot reason through `shortest_path` over latent costs"))
            .with_note("it is a black box (Dijkstra's answer on given costs): only sampling costs and evaluating it learns through it")
            .with_help("train with `injection: em` (or `semantic_loss`) and `inference: sample`, `kernel: exp`"),
    )
}

/// The engine options written for an engine the plan does not use: said, never silently ignored.
fn engine_option_warnings(o: &Optimization, training: Training) -> Vec<Diagnostic> {
    let engine = match training {
        Training::Reasoned { engine, .. } => Some(engine),
        _ => None,
    };
    let sampling = matches!(engine, Some(Engine::Sample { .. }));
    let unused = [
        (o.samples.as_ref().map(|s| s.span), "samples", sampling, "inference: sample"),
        (o.kernel.as_ref().map(|s| s.span), "kernel", sampling, "inference: sample"),
        (o.top_k.as_ref().map(|s| s.span), "top_k", matches!(engine, Some(Engine::TopK { .. })), "inference: topk"),
        (o.bp.as_ref().map(|s| s.span), "bp", matches!(engine, Some(Engine::Bp { .. })), "inference: bp"),
        (
            o.bandwidth.as_ref().map(|s| s.span),
            "bandwidth",
            matches!(engine, Some(Engine::Sample { kernel: Kernel::Exp, .. })),
            "inference: sample` with `kernel: exp",
        ),
    ];
    let used_by = engine
        .map_or("this injection uses no inference engine".to_string(), |e| format!("the engine is `{}`", e.name()));
    unused
        .into_iter()
        .filter_map(|(span, key, used, reader)| {
            let span = span.filter(|_| !used)?;
            Some(
                Diagnostic::warning(span, format!("`{key}` is not used: {used_by}"))
                    .with_note(format!("`{key}` is read by `{reader}`")),
            )
        })
        .collect()
}

/// Every constraint embedding or structuring cannot use, and every learnable no guard names a
/// class of (the injection would have nothing to add to it).
fn rule_refusals(spec: &Spec, program: &Program, what: &str) -> Vec<Diagnostic> {
    if program.learnables.len() != spec.learnables.len() {
        return Vec::new(); // a learnable failed, and was reported
    }
    let roles = rule_roles(spec, program, what);
    let mut diags: Vec<Diagnostic> =
        roles.iter().filter_map(|r| r.as_ref().err()).map(|e| Diagnostic::error(e.span, e.to_string())).collect();
    if diags.is_empty() {
        for (l, learnable) in spec.learnables.iter().enumerate() {
            if !roles.iter().any(|r| matches!(r, Ok(RuleRole::Guard { learnable: g, .. }) if *g == l)) {
                let name = &learnable.name.name;
                diags.push(Diagnostic::error(
                    learnable.name.span,
                    format!("no constraint names a class of learnable `{name}` (`if: R(x)` `then: {name}(x) == class`); {what} has nothing to add to it"),
                ));
            }
        }
    }
    diags
}
