//! The `optimization` section.

use super::Reader;
use crate::diag::Diagnostic;
use crate::spec::keys::{BP_KEYS, EVALUATION_KEYS, OPTIMIZATION_KEYS, SCHEDULE_KEYS, STE_KEYS};
use crate::spec::model::*;
use crate::yaml::{key_text, Node, NodeKind};

impl Reader<'_> {
    pub(super) fn optimization(&mut self, node: &Node) -> Optimization {
        let Some(m) = self.map(node, "`optimization`", OPTIMIZATION_KEYS) else {
            return Optimization::default();
        };
        let mut o = Optimization::default();
        for e in m.entries {
            let v = &e.value;
            match key_text(&e.key) {
                "injection" => o.injection = self.keyword(v, "injection", Injection::SPELLINGS),
                "inference" => o.inference = self.keyword(v, "inference engine", Inference::SPELLINGS),
                "optimizer" => o.optimizer = self.keyword(v, "optimizer", Optimizer::SPELLINGS),
                "semantics" => o.semantics = self.keyword(v, "fuzzy semantics", Semantics::SPELLINGS),
                "implication" => o.implication = self.keyword(v, "fuzzy implication", Implication::SPELLINGS),
                "loss" => o.loss = self.keyword(v, "loss", TruthLoss::SPELLINGS),
                "epochs" => o.epochs = self.uint(v, "`epochs`", 1),
                "batch_size" => o.batch_size = self.uint(v, "`batch_size`", 1),
                "learning_rate" => o.learning_rate = self.number_in(v, "`learning_rate`", 0.0, f64::INFINITY, true),
                "weight_decay" => o.weight_decay = self.number_in(v, "`weight_decay`", 0.0, f64::INFINITY, false),
                "momentum" => o.momentum = self.number_in(v, "`momentum`", 0.0, 1.0, false),
                "seed" => o.seed = self.uint(v, "`seed`", 0),
                "hard" => o.hard = self.boolean(v, "`hard`"),
                "m_steps" => o.m_steps = self.uint(v, "`m_steps`", 1),
                "samples" => o.samples = self.uint(v, "`samples`", 1),
                "kernel" => o.kernel = self.keyword(v, "sampling kernel", Kernel::SPELLINGS),
                "bandwidth" => o.bandwidth = self.number_in(v, "`bandwidth`", 0.0, f64::INFINITY, true),
                "top_k" => o.top_k = self.uint(v, "`top_k`", 1),
                "patience" => o.patience = self.uint(v, "`patience`", 1),
                "metrics" => {
                    let items = match &v.kind {
                        NodeKind::Seq(items) => items.as_slice(),
                        _ => std::slice::from_ref(v),
                    };
                    o.metrics = items.iter().filter_map(|i| self.keyword(i, "metric", Metric::SPELLINGS)).collect();
                }
                "ste" => o.ste = self.ste(v),
                "bp" => o.bp = self.bp(v),
                "schedule" => o.schedule = self.schedule(v),
                "prior" => o.prior = self.keyword(v, "prior", Prior::SPELLINGS),
                "records" => o.records = self.boolean(v, "`records`"),
                "validation" => {
                    o.validation = self.number_in(v, "`validation`", 0.0, 1.0, false);
                    if o.validation.as_ref().is_some_and(|s| s.value >= 1.0) {
                        self.error(Diagnostic::error(v.span, "`validation` must leave some training data"));
                    }
                }
                _ => {} // reported by `map`
            }
        }
        o
    }

    pub(super) fn evaluation(&mut self, node: &Node) -> Evaluation {
        let Some(m) = self.map(node, "`evaluation`", EVALUATION_KEYS) else {
            return Evaluation::default();
        };
        let mut e = Evaluation::default();
        for entry in m.entries {
            let v = &entry.value;
            match key_text(&entry.key) {
                "correction" => e.correction = self.keyword(v, "test-time correction", Correction::SPELLINGS),
                "validation" => e.validation = self.uint(v, "`validation`", 1),
                _ => {} // reported by `map`
            }
        }
        e
    }

    fn ste(&mut self, node: &Node) -> Option<crate::source::Spanned<SteOptions>> {
        let m = self.map(node, "`ste`", STE_KEYS)?;
        let mut s = SteOptions::default();
        for e in m.entries {
            let v = &e.value;
            match key_text(&e.key) {
                "binarize" => s.binarize = self.keyword(v, "binarisation", Binarize::SPELLINGS),
                "estimator" => s.estimator = self.keyword(v, "straight-through estimator", Estimator::SPELLINGS),
                "alpha" => s.alpha = self.number_in(v, "`alpha`", 0.0, f64::INFINITY, false),
                "beta" => s.beta = self.number_in(v, "`beta`", 0.0, f64::INFINITY, false),
                "normalize" => s.normalize = self.boolean(v, "`normalize`"),
                _ => {} // reported by `map`
            }
        }
        Some(crate::source::Spanned { value: s, span: node.span })
    }

    /// `schedule: cosine`, or its mapping.
    fn schedule(&mut self, node: &Node) -> Option<crate::source::Spanned<Schedule>> {
        if node.as_scalar().is_some() {
            let kind = self.keyword(node, "learning-rate schedule", ScheduleKind::SPELLINGS)?;
            return Some(crate::source::Spanned {
                value: Schedule { kind: Some(kind), ..Schedule::default() },
                span: node.span,
            });
        }
        let m = self.map(node, "`schedule`", SCHEDULE_KEYS)?;
        let has_kind = m.get("kind").is_some();
        let mut s = Schedule::default();
        for e in m.entries {
            let v = &e.value;
            match key_text(&e.key) {
                "kind" => s.kind = self.keyword(v, "learning-rate schedule", ScheduleKind::SPELLINGS),
                "warmup" => s.warmup = self.number_in(v, "`warmup`", 0.0, f64::INFINITY, false),
                "every" => s.every = self.uint(v, "`every`", 1),
                "gamma" => s.gamma = self.number_in(v, "`gamma`", 0.0, 1.0, false),
                _ => {} // reported by `map`
            }
        }
        if !has_kind {
            self.error(
                Diagnostic::error(node.span, "`schedule` needs a `kind`")
                    .with_help("write `kind: cosine` (or constant, step, one_cycle)"),
            );
        }
        Some(crate::source::Spanned { value: s, span: node.span })
    }

    fn bp(&mut self, node: &Node) -> Option<crate::source::Spanned<BpOptions>> {
        let m = self.map(node, "`bp`", BP_KEYS)?;
        let mut b = BpOptions::default();
        for e in m.entries {
            let v = &e.value;
            match key_text(&e.key) {
                "iterations" => b.iterations = self.uint(v, "`iterations`", 1),
                "damping" => {
                    b.damping = self.number_in(v, "`damping`", 0.0, 1.0, false);
                    if b.damping.as_ref().is_some_and(|d| d.value >= 1.0) {
                        self.error(Diagnostic::error(
                            v.span,
                            "`damping` must be below 1: at 1 no message would ever change",
                        ));
                        b.damping = None;
                    }
                }
                "tolerance" => b.tolerance = self.number_in(v, "`tolerance`", 0.0, f64::INFINITY, true),
                _ => {} // reported by `map`
            }
        }
        Some(crate::source::Spanned { value: b, span: node.span })
    }
}
