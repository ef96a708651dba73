//! What checking a spec yields: a resolved, typed view of it, also used for the `check` summary.

use super::types::{Domain, Typed};
use crate::formula::ExprId;
use crate::spec::{Column, Dataset, Spec};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize)]
pub struct Program {
    /// How a run trains; shown as the injection it carries out (the one written, or the default).
    #[serde(rename = "injection", serialize_with = "injection_name")]
    pub training: super::training::Training,
    /// Whether the spec names its injection.
    pub injection_written: bool,
    /// The test-time correction of the predictions, if any.
    #[serde(skip)]
    pub correction: Option<super::training::Corrected>,
    pub datasets: Vec<DatasetInfo>,
    pub domains: Vec<Domain>,
    pub learnables: Vec<LearnableInfo>,
    pub rules: Vec<RuleInfo>,
    pub constraints: Vec<ConstraintInfo>,
    /// The type of every sub-expression of every constraint formula.
    #[serde(skip)]
    pub types: HashMap<ExprId, Typed>,
    /// What every function called in a formula resolved to, by the called name's expression: back
    /// ends look calls up here rather than resolving names again.
    #[serde(skip)]
    pub calls: HashMap<ExprId, Callee>,
    /// The column every attribute read `x.column` or `dataset.column` resolved to, by its
    /// expression: one per dataset it was read on (a rule's body reads the instances or datasets
    /// it is given).
    #[serde(skip)]
    pub attributes: HashMap<ExprId, Vec<ColumnId>>,
    /// Where `shortest_path` is called on latent costs: a black box only sampling evaluates.
    #[serde(skip)]
    pub black_boxes: Vec<crate::source::Span>,
}

/// What a called name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// The learnable at this position in the spec.
    Learnable(usize),
    /// The knowledge rule at this position in the spec.
    Rule(usize),
    Builtin(super::Builtin),
}

fn injection_name<S: serde::Serializer>(t: &super::training::Training, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.injection().name())
}

#[derive(Clone, Debug, Serialize)]
pub struct DatasetInfo {
    pub name: String,
    /// `built-in mnist` or the training file.
    pub source: String,
    pub features: Vec<ColumnInfo>,
    pub targets: Vec<ColumnInfo>,
    /// `x1`, or `a[4]` for a group of four.
    pub instances: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LearnableInfo {
    pub name: String,
    pub dataset: String,
    pub inputs: Vec<ColumnInfo>,
    pub output: String,
    pub classes: usize,
    /// The cells it predicts a class for, per instance: 1, or a grid output's cells.
    pub cells: usize,
    pub model: String,
    /// The columns it reads, resolved.
    #[serde(skip)]
    pub input_columns: Vec<ColumnId>,
    /// The column it predicts, resolved.
    #[serde(skip)]
    pub output_column: ColumnId,
}

/// A column of a dataset as the checker resolved it: the dataset's place in the `data` section
/// and the column's among its features, then its targets ([`Dataset::columns`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ColumnId {
    pub dataset: usize,
    pub column: usize,
}

impl ColumnId {
    pub fn dataset(self, spec: &Spec) -> &Dataset {
        &spec.datasets[self.dataset]
    }

    pub fn column(self, spec: &Spec) -> &Column {
        self.dataset(spec).columns().nth(self.column).expect("the checker resolved this column")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleInfo {
    pub name: String,
    pub args: Vec<String>,
    pub used: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Holds for each example (a tuple of instances, or each row).
    InstanceWise,
    /// Holds for a whole batch or dataset (aggregates over columns).
    ColumnWise,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::InstanceWise => "instance-wise",
            Scope::ColumnWise => "column-wise",
        }
    }
}

/// A constraint, by its place in the spec's `constraints` section: people count from 1 (`#1`, its
/// [`number`](ConstraintId::number), which is also how it is written out), code indexes from 0
/// (its [`position`](ConstraintId::position)). One type, so the two never mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConstraintId(usize);

impl ConstraintId {
    /// The constraint at `position` (from 0) in the section.
    pub fn at(position: usize) -> ConstraintId {
        ConstraintId(position)
    }

    pub fn position(self) -> usize {
        self.0
    }

    pub fn number(self) -> usize {
        self.0 + 1
    }
}

impl std::fmt::Display for ConstraintId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl Serialize for ConstraintId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.number() as u64)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ConstraintInfo {
    #[serde(rename = "index")]
    pub id: ConstraintId,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub formulas: Vec<String>,
    pub weight: f64,
    /// The weight divided by the sum of the section's weights.
    pub share: f64,
    pub scope: Scope,
    /// The learnable applications it constrains, e.g. `digit(x1)`.
    pub latent: Vec<String>,
    /// The learnable it supervises on its output column (`net(x) == x.y`), if that is all it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervises: Option<String>,
    /// Whether the injection trains it (every constraint is evaluated in the report regardless).
    pub trained: bool,
    /// Only measured (`train: false`): never trained, and not part of the task accuracy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub measured: bool,
}
