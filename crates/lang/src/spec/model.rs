//! The typed document model of a spec: five sections, every value with its location.

use crate::formula::{Expr, ExprKind, Ident};
use crate::source::{Span, Spanned};

/// Declares an enum of keywords with their spellings in a spec; the first spelling is canonical.
macro_rules! keywords {
    ($(#[$m:meta])* $name:ident { $($variant:ident => [$($spelling:literal),+]),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const SPELLINGS: &'static [(&'static str, $name)] = &[$($(($spelling, $name::$variant)),+),+];

            pub fn name(self) -> &'static str {
                match self { $($name::$variant => [$($spelling),+][0]),+ }
            }
        }
    };
}

keywords!(
    /// Datasets the program knows how to find (and fetch).
    BuiltinSource {
        Mnist => ["mnist"],
        FashionMnist => ["fashion-mnist", "fashion_mnist"],
        Cifar10 => ["cifar10", "cifar-10"],
        Adult => ["adult"],
        PokerHand => ["poker-hand", "poker_hand"],
        Sudoku => ["sudoku"],
        Visudo4 => ["visudo-4", "visudo_4"],
        Visudo9 => ["visudo-9", "visudo_9"],
        Warcraft12 => ["warcraft-12", "warcraft_12"],
        Warcraft30 => ["warcraft-30", "warcraft_30"],
    }
);

impl BuiltinSource {
    /// The values of each row of a built-in CSV source, in file order (`None`: not a CSV
    /// source). A spec declares one column per value, in this order.
    pub fn csv_columns(self) -> Option<&'static [&'static str]> {
        match self {
            BuiltinSource::Adult => Some(&[
                "age",
                "workclass",
                "fnlwgt",
                "education",
                "education_num",
                "marital_status",
                "occupation",
                "relationship",
                "race",
                "sex",
                "capital_gain",
                "capital_loss",
                "hours_per_week",
                "native_country",
                "income",
            ]),
            BuiltinSource::PokerHand => Some(&["s1", "c1", "s2", "c2", "s3", "c3", "s4", "c4", "s5", "c5", "hand"]),
            BuiltinSource::Sudoku => Some(&["quizzes", "solutions"]),
            BuiltinSource::Mnist
            | BuiltinSource::FashionMnist
            | BuiltinSource::Cifar10
            | BuiltinSource::Visudo4
            | BuiltinSource::Visudo9
            | BuiltinSource::Warcraft12
            | BuiltinSource::Warcraft30 => None,
        }
    }

    /// Whether `columns` are a visual Sudoku board's cells, in order: the cell's 28×28 image, its
    /// digit (`values: [0, ..., dim - 1]`), the board's validity (`bool`).
    pub fn visudo_columns(columns: &[&Column], dim: usize) -> bool {
        let digits = |values: &[CategoryValue]| {
            values.len() == dim && values.iter().enumerate().all(|(i, v)| v.value == Value::Int(i as i64))
        };
        columns.len() == 3
            && columns[0].ty == (ColumnType::Image { channels: 1, height: 28, width: 28 })
            && matches!(&columns[1].ty, ColumnType::Category(v) if digits(v))
            && columns[2].ty == ColumnType::Bool
    }

    /// Whether `columns` are a Warcraft map's tiles, in order: the tile's 3×8×8 image, its cost in
    /// tenths (`values: [8, 12, 53, 77, 92]`), whether it is on the shortest path (`bool`).
    pub fn warcraft_columns(columns: &[&Column]) -> bool {
        let costs =
            |values: &[CategoryValue]| values.iter().map(|v| v.value.clone()).eq([8, 12, 53, 77, 92].map(Value::Int));
        columns.len() == 3
            && columns[0].ty == (ColumnType::Image { channels: 3, height: 8, width: 8 })
            && matches!(&columns[1].ty, ColumnType::Category(v) if costs(v))
            && columns[2].ty == ColumnType::Bool
    }

    /// The side of a Warcraft source's maps, in tiles (examples are its maps).
    pub fn warcraft_side(self) -> Option<usize> {
        match self {
            BuiltinSource::Warcraft12 => Some(12),
            BuiltinSource::Warcraft30 => Some(30),
            _ => None,
        }
    }

    /// The side of a visual Sudoku source's boards (ViSudo-PC: examples are its puzzles).
    pub fn visudo_dim(self) -> Option<usize> {
        match self {
            BuiltinSource::Visudo4 => Some(4),
            BuiltinSource::Visudo9 => Some(9),
            _ => None,
        }
    }
}

// `visudo`: ViSudo-PC's published layout, `{split}_puzzle_pixels.txt` beside its cell and puzzle labels.
// `warcraft`: Warcraft shortest path's, `{split}_maps.npy` beside its shortest paths and vertex weights.
keywords!(FileFormat {
    Csv => ["csv"],
    Idx => ["idx"],
    CifarBinary => ["cifar-binary", "cifar_binary"],
    Npz => ["npz"],
    Visudo => ["visudo"],
    Warcraft => ["warcraft"],
});

keywords!(
    /// How knowledge reaches the networks.
    Injection {
        Supervised => ["supervised"],
        SemanticLoss => ["semantic_loss"],
        Em => ["em"],
        Ste => ["ste"],
        Fuzzy => ["fuzzy", "constraining"],
        Lp => ["lp"],
        Embedding => ["embedding"],
        Structuring => ["structuring"],
    }
);

keywords!(Inference { Exact => ["exact"], Enumerate => ["enumerate"], Bp => ["bp"], Sample => ["sample"], TopK => ["topk"] });
keywords!(
    /// How `inference: sample` weighs a sample: 1 when it satisfies the event (rejection), the
    /// share of the event's conjuncts it satisfies, or exp(−distance / bandwidth) (ABC's kernel).
    Kernel { Indicator => ["indicator"], Share => ["share"], Exp => ["exp"] }
);
keywords!(
    /// How CL-STE reads a network's output as a truth value: its probability ≥ 0.5 (`b_p`), or
    /// its logit ≥ 0 (`b`).
    Binarize { Probability => ["probability", "b_p"], Logit => ["logit", "b"] }
);
keywords!(
    /// How the gradient passes the binarisation: unchanged (iSTE), or only where the input is in
    /// [−1, 1] (sSTE).
    Estimator { Identity => ["identity", "iste"], Saturated => ["saturated", "sste"] }
);
keywords!(Optimizer { Adam => ["adam"], AdamW => ["adamw"], Sgd => ["sgd"] });
keywords!(
    /// How the learning rate moves over training: held, cut by `gamma` every `every` epochs,
    /// annealed along a half cosine to 0, or one cycle (PyTorch's: up from lr/25, then down to lr/250,000).
    ScheduleKind { Constant => ["constant"], Step => ["step"], Cosine => ["cosine"], OneCycle => ["one_cycle", "onecycle", "one-cycle"] }
);
keywords!(Semantics { Product => ["product"], Goedel => ["goedel", "godel"], Lukasiewicz => ["lukasiewicz"] });
keywords!(Implication {
    Reichenbach => ["reichenbach"],
    Goedel => ["goedel", "godel"],
    Lukasiewicz => ["lukasiewicz"],
    KleeneDienes => ["kleene_dienes"],
    Material => ["material"],
});
keywords!(
    /// How fuzzy constraining turns a truth degree t into a loss: 1 − t, or −log t (which on a
    /// supervision constraint `net(x) == x.y` is the cross-entropy, hence the Keras spellings).
    TruthLoss {
        Linear => ["linear", "one_minus_truth"],
        Log => ["log", "cross_entropy", "categorical_crossentropy", "binary_crossentropy"],
    }
);
keywords!(
    /// What the end of a run prints (the report holds every metric regardless).
    Metric {
        Accuracy => ["accuracy", "acc", "task_accuracy"],
        MacroF1 => ["macro_f1", "f1", "f1_score"],
        SymbolAccuracy => ["symbol_accuracy"],
        Constraints => ["constraints", "satisfaction"],
    }
);
keywords!(Architecture { Mlp => ["mlp"], Lenet => ["lenet"] });

keywords!(
    /// How a learnable predicts at test time: every class at once (`direct`), or a grid filled
    /// one cell at a time — the most confident empty cell takes its class, and the board goes back
    /// to the network (`iterative`: Park's inference trick for Sudoku, as CL-STE tests).
    Decode { Direct => ["direct"], Iterative => ["iterative"] }
);
keywords!(Activation {
    Relu => ["relu"],
    LeakyRelu => ["leaky_relu"],
    Sigmoid => ["sigmoid"],
    Tanh => ["tanh"],
    Softmax => ["softmax"],
});
keywords!(Encoding { OneHot => ["onehot", "one_hot", "one_hot_encoding"], Ordinal => ["ordinal"], Standard => ["standard"], Raw => ["raw"] });

keywords!(
    /// Where the hidden classes' ratios come from (ALGORITHMS.md §4): the training rows' gold
    /// labels (an oracle, for reference), ALG1's estimate from the weak labels alone, or EMP's,
    /// from the networks' own predictions on the training instances.
    Prior { Alg1 => ["alg1"], Gold => ["gold"], Emp => ["emp"] }
);

keywords!(
    /// A test-time correction of the networks' predictions towards the hidden classes' ratios
    /// (ALGORITHMS.md §4): none, logit adjustment, or CAROT's robust optimal transport.
    Correction { None => ["none"], La => ["la", "logit_adjustment"], Carot => ["carot"] }
);

/// The `evaluation` section: how the trained networks are evaluated.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub correction: Option<Spanned<Correction>>,
    /// Weakly labelled validation examples drawn from the training rows to choose the
    /// correction's τ and η by how many of them the corrected predictions satisfy.
    pub validation: Option<Spanned<u64>>,
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub datasets: Vec<Dataset>,
    pub optimization: Optimization,
    pub learnables: Vec<Learnable>,
    pub rules: Vec<Rule>,
    pub constraints: Vec<Constraint>,
    pub evaluation: Evaluation,
    /// What could not be read; references to it are not reported a second time.
    pub unreadable: Unreadable,
}

/// Declarations that were reported as unreadable, so that the checker does not report every
/// reference to them as a new error.
#[derive(Clone, Debug, Default)]
pub struct Unreadable {
    /// Datasets, instances, learnables and rules whose declaration failed.
    pub names: std::collections::HashSet<String>,
    /// Columns that failed, as `dataset.column`, or `dataset.*` when the whole list failed.
    pub columns: std::collections::HashSet<String>,
    /// Kinds of names of which some could not be read (`data`, `instances`, `values`,
    /// `learnables`, `knowledge`, `constraints`): an unknown name may be one of them.
    pub sections: std::collections::HashSet<&'static str>,
    /// Reading reported an error somewhere (a formula's syntax, a value out of range, ...).
    pub any: bool,
}

impl Unreadable {
    pub fn column(&self, dataset: &str, column: &str) -> bool {
        self.columns.contains(&format!("{dataset}.{column}")) || self.columns.contains(&format!("{dataset}.*"))
    }

    /// Whether some column of `dataset` could not be read.
    pub fn any_column(&self, dataset: &str) -> bool {
        self.columns.iter().any(|c| c.strip_prefix(dataset).is_some_and(|rest| rest.starts_with('.')))
    }
}

#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: Ident,
    pub source: Option<Spanned<BuiltinSource>>,
    pub training: Option<DataFile>,
    pub test: Option<DataFile>,
    pub split: Option<Spanned<Split>>,
    /// Keep this seeded share of the training split.
    pub fraction: Option<Spanned<f64>>,
    /// Keep the targets of this seeded share of the training rows; the other rows are inputs
    /// without labels, which only constraints that do not read a target learn from.
    pub labelled: Option<Spanned<f64>>,
    /// Append this many training inputs drawn uniformly from the features' declared values,
    /// without targets: constraints over observed inputs reach hands the data lacks.
    pub sampled: Option<Spanned<u64>>,
    pub features: Vec<Column>,
    pub targets: Vec<Column>,
    pub instances: Vec<InstanceDecl>,
    /// How many tuples of instances to draw per epoch (default: as many as the pool allows
    /// without reusing an instance).
    pub examples: Option<Spanned<u64>>,
    /// A long-tailed subset of the training rows (and of the test rows, if asked).
    pub imbalance: Option<Spanned<Imbalance>>,
}

keywords!(
    /// How class sizes fall in a long-tailed pool (ALGORITHMS.md §4): class c of C keeps
    /// n_max·ρ^(−c/(C−1)) rows (`exp`: the first class the most frequent) or n_max·ρ^(−(C−c)/(C−1))
    /// (`expr`: the first class the rarest; the published code's exponent, which keeps the ratio
    /// ρ and scales every class by ρ^(−1/(C−1))), n_max = rows / C.
    TailProfile {
        Exp => ["exp"],
        Expr => ["expr"],
    }
);

/// A dataset's `imbalance`: its rows subsampled per class of its categorical target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Imbalance {
    pub profile: TailProfile,
    /// ρ: the most frequent class's size over the rarest's (1: balanced).
    pub ratio: f64,
    /// Whether the test rows get the same profile.
    pub test: bool,
}

impl Dataset {
    /// Its columns: the features, then the targets (a column's place here is its id's).
    pub fn columns(&self) -> impl Iterator<Item = &Column> {
        self.features.iter().chain(&self.targets)
    }

    /// Instances per example: one per variable, `n` per group of `n`.
    pub fn tuple_size(&self) -> usize {
        self.instances.iter().map(|i| i.count.as_ref().map_or(1, |c| c.value as usize)).sum::<usize>().max(1)
    }
}

#[derive(Clone, Debug)]
pub struct DataFile {
    pub path: Spanned<String>,
    /// Where the file comes from (the prototype's `uri`, with `unpack` naming the archive member).
    pub origin: Option<String>,
    /// The prototype's `unpack`: the archive's member or, in its later specs, the folder the
    /// archive unpacks to (where the file is looked for too).
    pub unpack: Option<String>,
    pub format: Option<Spanned<FileFormat>>,
    pub separator: Option<Spanned<String>>,
    pub span: Span,
}

/// Shares of a single file; they sum to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
}

#[derive(Clone, Debug)]
pub struct Column {
    pub name: Ident,
    pub ty: ColumnType,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ColumnType {
    Int,
    Real,
    Bool,
    Category(Vec<CategoryValue>),
    /// `image[28x28]` or `image[3x32x32]`: channels, height, width.
    Image {
        channels: u32,
        height: u32,
        width: u32,
    },
    Vector(u32),
    /// A grid of categorical cells (`values` + `shape: [9, 9]`): one value per cell, row-major.
    Grid {
        shape: Vec<u32>,
        values: Vec<CategoryValue>,
    },
}

impl ColumnType {
    /// The declared values of a categorical column or of a grid's cells.
    pub fn categories(&self) -> Option<&[CategoryValue]> {
        match self {
            ColumnType::Category(values) | ColumnType::Grid { values, .. } => Some(values),
            _ => None,
        }
    }

    /// Whether convolutions can read it: an image, or a 2-D grid (its values one-hot as channels).
    pub fn spatial(&self) -> bool {
        match self {
            ColumnType::Image { .. } => true,
            ColumnType::Grid { shape, .. } => shape.len() == 2,
            _ => false,
        }
    }

    /// Values per row: a grid's cells, 1 for every other column.
    pub fn cells(&self) -> usize {
        match self {
            ColumnType::Grid { shape, .. } => shape.iter().map(|&d| d as usize).product(),
            _ => 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CategoryValue {
    pub value: Value,
    /// The code written in the data file for this value, when the spec maps names to codes.
    pub code: Option<i64>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Int(i64),
    Str(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s}"),
        }
    }
}

/// `x1` (one instance per example) or `a: 4` (a list of four instances per example).
#[derive(Clone, Debug)]
pub struct InstanceDecl {
    pub name: Ident,
    pub count: Option<Spanned<u32>>,
}

#[derive(Clone, Debug, Default)]
pub struct Optimization {
    pub injection: Option<Spanned<Injection>>,
    pub inference: Option<Spanned<Inference>>,
    pub optimizer: Option<Spanned<Optimizer>>,
    pub semantics: Option<Spanned<Semantics>>,
    pub implication: Option<Spanned<Implication>>,
    pub loss: Option<Spanned<TruthLoss>>,
    pub epochs: Option<Spanned<u64>>,
    pub batch_size: Option<Spanned<u64>>,
    pub learning_rate: Option<Spanned<f64>>,
    pub weight_decay: Option<Spanned<f64>>,
    pub momentum: Option<Spanned<f64>>,
    pub seed: Option<Spanned<u64>>,
    /// EM: MAP one-hot targets instead of posterior marginals.
    pub hard: Option<Spanned<bool>>,
    pub m_steps: Option<Spanned<u64>>,
    /// `inference: sample`: samples per example, how each is weighed, and the `exp` kernel's width.
    pub samples: Option<Spanned<u64>>,
    pub kernel: Option<Spanned<Kernel>>,
    pub bandwidth: Option<Spanned<f64>>,
    /// `inference: topk`: how many most probable models stand for the event.
    pub top_k: Option<Spanned<u64>>,
    /// Stop after this many epochs without a better validation score.
    pub patience: Option<Spanned<u64>>,
    /// Share of the training split held out for validation.
    pub validation: Option<Spanned<f64>>,
    pub metrics: Vec<Spanned<Metric>>,
    /// `ste:`, the straight-through constraint loss's settings, where written.
    pub ste: Option<Spanned<SteOptions>>,
    /// `bp:`, belief propagation's schedule, where written.
    pub bp: Option<Spanned<BpOptions>>,
    /// `schedule:`, the learning rate's, where written.
    pub schedule: Option<Spanned<Schedule>>,
    pub prior: Option<Spanned<Prior>>,
    /// RECORDS (ALGORITHMS.md §4): the objectives read each network's distributions debiased by
    /// the prior its momentum feature mean gives, and predictions are read so.
    pub records: Option<Spanned<bool>>,
}

impl Optimization {
    /// Epochs trained where the spec does not say (here because `check` validates against it).
    pub const DEFAULT_EPOCHS: u64 = 10;
}

impl Augment {
    /// Whether any image would move.
    pub fn moves(&self) -> bool {
        self.shift.as_ref().is_some_and(|s| s.value > 0.0)
            || self.rotate.as_ref().is_some_and(|r| r.value > 0.0)
            || self.flip.as_ref().is_some_and(|f| f.value)
    }
}

/// `optimization.schedule`: `cosine`, or `{kind: step, every: 10, gamma: 0.1, warmup: 1}`.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    pub kind: Option<Spanned<ScheduleKind>>,
    /// Epochs over which the rate rises linearly from 0 (one cycle: its rising part).
    pub warmup: Option<Spanned<f64>>,
    /// `step`: epochs between cuts.
    pub every: Option<Spanned<u64>>,
    /// `step`: the factor of each cut.
    pub gamma: Option<Spanned<f64>>,
}

/// `optimization.bp`: how `inference: bp` iterates.
#[derive(Clone, Debug, Default)]
pub struct BpOptions {
    /// The most rounds of message updates.
    pub iterations: Option<Spanned<u64>>,
    /// The share of its previous value each message keeps (on loopy graphs).
    pub damping: Option<Spanned<f64>>,
    /// Stop when no message moves more than this.
    pub tolerance: Option<Spanned<f64>>,
}

/// `optimization.ste`: how `injection: ste` binarises and weighs (ALGORITHMS.md §3).
#[derive(Clone, Debug, Default)]
pub struct SteOptions {
    pub binarize: Option<Spanned<Binarize>>,
    pub estimator: Option<Spanned<Estimator>>,
    /// The weight α of the CNF loss.
    pub alpha: Option<Spanned<f64>>,
    /// The weight β of `L_bound`, the mean squared logit.
    pub beta: Option<Spanned<f64>>,
    /// Divide a violated clause's gradient by its relaxed truth (an extension of CL-STE).
    pub normalize: Option<Spanned<bool>>,
}

impl Optimization {
    /// The injection a run uses: the one written, else fuzzy constraining when the spec has
    /// constraints (SKI-lang's default: constraints are written to be injected), else supervised.
    pub fn injection_or_default(&self, has_constraints: bool) -> Injection {
        match &self.injection {
            Some(i) => i.value,
            None if has_constraints => Injection::Fuzzy,
            None => Injection::Supervised,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Learnable {
    pub name: Ident,
    /// The prototype's `dataset:`: the dataset its inputs and output must come from.
    pub dataset: Option<Ident>,
    pub input: Vec<Formula>,
    /// The prototype's `inputs: [{source, transform}]`: an encoding for every column an input
    /// reads (the explicit `encodings` win).
    pub transforms: Vec<(usize, Spanned<Encoding>)>,
    pub output: Formula,
    pub model: Model,
    pub encodings: Vec<(Ident, Spanned<Encoding>)>,
    /// How it predicts at test time (`direct` where not written).
    pub decode: Option<Spanned<Decode>>,
    /// Weights to start from: a safetensors file, or a folder holding `NAME.safetensors` (a
    /// previous run's `model/`, or the run's folder), the path resolved against the spec's folder.
    pub weights: Option<Spanned<std::path::PathBuf>>,
    /// Whether training leaves its weights as they are.
    pub frozen: bool,
    /// Random changes to its training images, where written.
    pub augment: Option<Spanned<Augment>>,
    pub span: Span,
}

/// A learnable's `augment`: each training image moved at random each time it is read (never
/// at validation or test time), so that a small training set does not teach its pixels.
#[derive(Clone, Debug, Default)]
pub struct Augment {
    /// The largest shift along each axis, in pixels.
    pub shift: Option<Spanned<f64>>,
    /// The largest rotation either way, in degrees.
    pub rotate: Option<Spanned<f64>>,
    /// Mirrored left to right half the time.
    pub flip: Option<Spanned<bool>>,
}

impl Learnable {
    /// The encoding chosen for each input column of `dataset`: the explicit `encodings`, then
    /// the `transform` of the input that reads the column.
    pub fn chosen_encodings(&self, dataset: &Dataset) -> Vec<(String, Encoding)> {
        let explicit = self.encodings.iter().map(|(f, e)| (f.name.clone(), e.value));
        let transformed = self.transforms.iter().flat_map(|(i, e)| {
            let columns: Vec<String> = match &self.input[*i].expr.kind {
                ExprKind::Attr { attr, .. } if attr.name != "features" => vec![attr.name.clone()],
                _ => dataset.features.iter().map(|c| c.name.name.clone()).collect(),
            };
            columns.into_iter().map(|c| (c, e.value))
        });
        explicit.chain(transformed).collect()
    }
}

#[derive(Clone, Debug)]
pub enum Model {
    Architecture { name: Spanned<Architecture>, hidden: Vec<Spanned<u32>> },
    Layers(Vec<Spanned<Layer>>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// `units: None` is the output layer, sized from the output type.
    Linear {
        /// The input size the spec states (the prototype's `input:`), checked against the inferred one.
        input: Option<u32>,
        units: Option<u32>,
        activation: Option<Activation>,
        dropout: Option<f64>,
    },
    Conv2d {
        channels: u32,
        kernel: u32,
        stride: u32,
        padding: u32,
        activation: Option<Activation>,
    },
    MaxPool {
        size: u32,
        stride: Option<u32>,
    },
    AvgPool {
        size: u32,
        stride: Option<u32>,
    },
    Dropout(f64),
    BatchNorm,
    Flatten,
    Activation(Activation),
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: Ident,
    pub args: Vec<Ident>,
    pub clause: Formula,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub weight: Option<Spanned<f64>>,
    pub name: Option<Spanned<String>>,
    /// `train: false`: measured on the test set (its satisfaction reported, by name), never
    /// trained, and not part of the task accuracy.
    pub train: Option<Spanned<bool>>,
    pub span: Span,
}

impl Constraint {
    /// Whether it is only measured (`train: false`).
    pub fn measured_only(&self) -> bool {
        self.train.as_ref().is_some_and(|t| !t.value)
    }
}

impl Spec {
    /// Whether some constraint is to be trained (not only measured).
    pub fn trains_constraints(&self) -> bool {
        self.constraints.iter().any(|c| !c.measured_only())
    }
}

#[derive(Clone, Debug)]
pub enum ConstraintKind {
    Always(Formula),
    Never(Formula),
    /// An observed guard selects examples; a latent guard makes an implication.
    IfThen {
        guard: Formula,
        then: Formula,
    },
    Iff(Formula, Formula),
}

impl ConstraintKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            ConstraintKind::Always(_) => "always",
            ConstraintKind::Never(_) => "never",
            ConstraintKind::IfThen { .. } => "if-then",
            ConstraintKind::Iff(..) => "iff",
        }
    }

    pub fn formulas(&self) -> Vec<&Formula> {
        match self {
            ConstraintKind::Always(f) | ConstraintKind::Never(f) => vec![f],
            ConstraintKind::IfThen { guard, then } => vec![guard, then],
            ConstraintKind::Iff(a, b) => vec![a, b],
        }
    }
}

/// A formula as written (for reports) and as parsed.
#[derive(Clone, Debug)]
pub struct Formula {
    pub text: String,
    pub expr: Expr,
}
