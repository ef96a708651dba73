//! The keys of every mapping a spec may hold, and the shape of each one's value: the reader checks
//! a spec's keys against these tables, and `skilang schema` writes them as a JSON Schema, so the
//! two cannot disagree on which keys exist. Values the reader accepts in more forms than a schema
//! can say precisely are `Any` here; the checker still checks them.

use super::model::*;

/// A key and the shape of its value.
pub struct Key {
    pub name: &'static str,
    pub value: Shape,
}

/// What a value may be.
pub enum Shape {
    /// A whole number, at least this.
    Whole(u64),
    /// A number between these (inclusive).
    Number(f64, f64),
    Bool,
    /// A string: a name, a path, a file type.
    Text,
    /// A formula: any YAML scalar (`True` and `3` are formulas too).
    Formula,
    /// One of a keyword's spellings.
    Keyword(fn() -> Vec<&'static str>),
    /// A mapping with these keys (each optional).
    Keys(&'static [Key]),
    /// A mapping with exactly one of these keys (a layer: `conv2d: {...}`).
    OneOf(&'static [Key]),
    /// A mapping from names the spec chooses to values of this shape.
    Named(&'static Shape),
    List(&'static Shape),
    /// Any of these shapes.
    Either(&'static [Shape]),
    /// Anything: the reader checks it.
    Any,
}

const fn key(name: &'static str, value: Shape) -> Key {
    Key { name, value }
}

/// The spellings of a keyword, as the reader accepts them.
pub fn spellings<K>(table: &[(&'static str, K)]) -> Vec<&'static str> {
    table.iter().map(|(s, _)| *s).collect()
}

/// The names of `keys`.
pub fn names(keys: &[Key]) -> Vec<&'static str> {
    keys.iter().map(|k| k.name).collect()
}

/// Whether `keys` has a key called `name`.
pub fn has(keys: &[Key], name: &str) -> bool {
    keys.iter().any(|k| k.name == name)
}

const FRACTION: Shape = Shape::Number(0.0, 1.0);
const POSITIVE: Shape = Shape::Number(0.0, f64::INFINITY);

pub const SECTIONS: &[Key] = &[
    key("data", Shape::Named(&Shape::Keys(DATASET_KEYS))),
    key("instances", Shape::Any),
    key("optimization", Shape::Keys(OPTIMIZATION_KEYS)),
    key("learnables", Shape::Named(&Shape::Keys(LEARNABLE_KEYS))),
    key("learnable", Shape::Named(&Shape::Keys(LEARNABLE_KEYS))),
    key("knowledge", Shape::List(&Shape::Keys(RULE_KEYS))),
    key("constraints", Shape::List(&Shape::Keys(CONSTRAINT_KEYS))),
    key("evaluation", Shape::Keys(EVALUATION_KEYS)),
];

pub const EVALUATION_KEYS: &[Key] =
    &[key("correction", Shape::Keyword(|| spellings(Correction::SPELLINGS))), key("validation", Shape::Whole(1))];

const FILE: Shape = Shape::Either(&[Shape::Text, Shape::Keys(FILE_KEYS)]);
const COLUMNS: Shape = Shape::List(&Shape::Keys(COLUMN_KEYS));

pub const DATASET_KEYS: &[Key] = &[
    key("source", Shape::Keyword(|| spellings(BuiltinSource::SPELLINGS))),
    key("training", FILE),
    key("train", FILE),
    key("dataset", FILE),
    key("test", FILE),
    key("split", Shape::Keys(SPLIT_KEYS)),
    key("fraction", FRACTION),
    key("labelled", FRACTION),
    key("sampled", Shape::Whole(1)),
    key("features", COLUMNS),
    key("targets", COLUMNS),
    key("target", Shape::Either(&[COLUMNS, Shape::Keys(COLUMN_KEYS)])),
    key("instances", Shape::Any),
    key("instance_name", Shape::Text),
    key("examples", Shape::Whole(1)),
    key("imbalance", Shape::Keys(IMBALANCE_KEYS)),
];

pub const IMBALANCE_KEYS: &[Key] = &[
    key("profile", Shape::Keyword(|| spellings(TailProfile::SPELLINGS))),
    key("ratio", Shape::Number(1.0, f64::INFINITY)),
    key("test", Shape::Bool),
];

pub const FILE_KEYS: &[Key] = &[
    key("file", Shape::Text),
    key("file_name", Shape::Text),
    key("uri", Shape::Text),
    key("unpack", Shape::Any),
    key("format", Shape::Keyword(|| spellings(FileFormat::SPELLINGS))),
    key("type", Shape::Text),
    key("separator", Shape::Text),
    key("split", Shape::Keys(SPLIT_KEYS)),
];

pub const SPLIT_KEYS: &[Key] = &[key("train", FRACTION), key("validation", FRACTION), key("test", FRACTION)];

pub const COLUMN_KEYS: &[Key] = &[
    key("name", Shape::Text),
    key("type", Shape::Text),
    key("values", Shape::Any),
    key("mapping", Shape::Any),
    key("shape", Shape::List(&Shape::Whole(1))),
];

pub const LEARNABLE_KEYS: &[Key] = &[
    key("dataset", Shape::Text),
    key("type", Shape::Keyword(|| NETWORK_TYPES.to_vec())),
    key("input", Shape::Any),
    key("inputs", Shape::Any),
    key("output", Shape::Any),
    key("outputs", Shape::Any),
    key("architecture", Shape::Any),
    key("hidden", Shape::List(&Shape::Whole(1))),
    key("layers", Shape::List(&LAYER)),
    key("encodings", Shape::Named(&Shape::Keyword(|| spellings(Encoding::SPELLINGS)))),
    key("decode", Shape::Keyword(|| spellings(Decode::SPELLINGS))),
    key("weights", Shape::Text),
    key("frozen", Shape::Bool),
    key("augment", Shape::Keys(AUGMENT_KEYS)),
];

pub const AUGMENT_KEYS: &[Key] =
    &[key("shift", POSITIVE), key("rotate", Shape::Number(0.0, 180.0)), key("flip", Shape::Bool)];

/// The keys of an input or output written as a mapping (the prototype's `{source: ..., transform: ...}`).
pub const IO_KEYS: &[Key] = &[key("source", Shape::Formula), key("transform", Shape::Any)];

/// The prototype's `type` of a learnable: the feed-forward network its `layers` build.
pub const NETWORK_TYPES: &[&str] = &["neural_network", "feed_forward", "feed-forward"];

const ACTIVATION: Shape = Shape::Keyword(|| spellings(Activation::SPELLINGS));

pub const LINEAR_KEYS: &[Key] = &[
    key("units", Shape::Whole(1)),
    key("output", Shape::Whole(1)),
    key("input", Shape::Whole(1)),
    key("activation", ACTIVATION),
    key("dropout", FRACTION),
];
pub const CONV2D_KEYS: &[Key] = &[
    key("channels", Shape::Whole(1)),
    key("kernel", Shape::Whole(1)),
    key("stride", Shape::Whole(1)),
    key("padding", Shape::Whole(0)),
    key("activation", ACTIVATION),
];
pub const POOL_KEYS: &[Key] = &[key("size", Shape::Whole(1)), key("stride", Shape::Whole(1))];

/// The layers, `kind: settings`; an activation's name is a layer too.
pub const LAYER_KINDS: &[Key] = &[
    key("linear", Shape::Either(&[Shape::Whole(1), Shape::Keys(LINEAR_KEYS)])),
    key("conv2d", Shape::Keys(CONV2D_KEYS)),
    key("maxpool", Shape::Either(&[Shape::Whole(1), Shape::Keys(POOL_KEYS)])),
    key("avgpool", Shape::Either(&[Shape::Whole(1), Shape::Keys(POOL_KEYS)])),
    key("dropout", FRACTION),
    key("batchnorm", Shape::Any),
    key("flatten", Shape::Any),
    key("activation", ACTIVATION),
];

/// A layer: `- flatten`, `- relu`, or `- conv2d: {...}`.
const LAYER: Shape = Shape::Either(&[
    Shape::Keyword(|| names(LAYER_KINDS).into_iter().chain(spellings(Activation::SPELLINGS)).collect()),
    Shape::OneOf(LAYER_KINDS),
]);

pub const OPTIMIZATION_KEYS: &[Key] = &[
    key("injection", Shape::Keyword(|| spellings(Injection::SPELLINGS))),
    key("inference", Shape::Keyword(|| spellings(Inference::SPELLINGS))),
    key("optimizer", Shape::Keyword(|| spellings(Optimizer::SPELLINGS))),
    key("semantics", Shape::Keyword(|| spellings(Semantics::SPELLINGS))),
    key("implication", Shape::Keyword(|| spellings(Implication::SPELLINGS))),
    key("loss", Shape::Keyword(|| spellings(TruthLoss::SPELLINGS))),
    key("epochs", Shape::Whole(1)),
    key("batch_size", Shape::Whole(1)),
    key("learning_rate", POSITIVE),
    key("weight_decay", POSITIVE),
    key("momentum", FRACTION),
    key("seed", Shape::Whole(0)),
    key("hard", Shape::Bool),
    key("m_steps", Shape::Whole(1)),
    key("samples", Shape::Whole(1)),
    key("kernel", Shape::Keyword(|| spellings(Kernel::SPELLINGS))),
    key("bandwidth", POSITIVE),
    key("top_k", Shape::Whole(1)),
    key("patience", Shape::Whole(1)),
    key("validation", FRACTION),
    key("metrics", Shape::Either(&[METRIC, Shape::List(&METRIC)])),
    key("ste", Shape::Keys(STE_KEYS)),
    key("bp", Shape::Keys(BP_KEYS)),
    key("schedule", Shape::Either(&[SCHEDULE_KIND, Shape::Keys(SCHEDULE_KEYS)])),
    key("prior", Shape::Keyword(|| spellings(Prior::SPELLINGS))),
    key("records", Shape::Bool),
];

const SCHEDULE_KIND: Shape = Shape::Keyword(|| spellings(ScheduleKind::SPELLINGS));

pub const SCHEDULE_KEYS: &[Key] =
    &[key("kind", SCHEDULE_KIND), key("warmup", POSITIVE), key("every", Shape::Whole(1)), key("gamma", FRACTION)];

pub const BP_KEYS: &[Key] = &[key("iterations", Shape::Whole(1)), key("damping", FRACTION), key("tolerance", POSITIVE)];

const METRIC: Shape = Shape::Keyword(|| spellings(Metric::SPELLINGS));

pub const STE_KEYS: &[Key] = &[
    key("binarize", Shape::Keyword(|| spellings(Binarize::SPELLINGS))),
    key("estimator", Shape::Keyword(|| spellings(Estimator::SPELLINGS))),
    key("alpha", POSITIVE),
    key("beta", POSITIVE),
    key("normalize", Shape::Bool),
];

pub const RULE_KEYS: &[Key] = &[key("rule", Shape::Text), key("args", Shape::Any), key("clause", Shape::Formula)];

pub const CONSTRAINT_KEYS: &[Key] = &[
    key("always", Shape::Formula),
    key("never", Shape::Formula),
    key("if", Shape::Formula),
    key("then", Shape::Formula),
    key("iff", Shape::Either(&[Shape::Formula, Shape::List(&Shape::Formula)])),
    key("cnf", Shape::Text),
    key("atoms", Shape::Text),
    key("as", Shape::Named(&Shape::Formula)),
    key("weight", POSITIVE),
    key("name", Shape::Text),
    key("train", Shape::Bool),
];

/// The language as a JSON Schema (draft 7), for editors: every mapping's keys exactly as the
/// reader knows them, keywords with their spellings, numbers with their ranges.
pub fn json_schema() -> serde_json::Value {
    let mut schema = object(SECTIONS);
    schema["$schema"] = "http://json-schema.org/draft-07/schema#".into();
    schema["title"] = "SKI-lang spec".into();
    schema["description"] = "A skilang spec: data, learnables, knowledge, constraints and optimization.".into();
    schema
}

fn object(keys: &[Key]) -> serde_json::Value {
    let properties: serde_json::Map<String, serde_json::Value> =
        keys.iter().map(|k| (k.name.to_string(), shape(&k.value))).collect();
    serde_json::json!({"type": "object", "properties": properties, "additionalProperties": false})
}

fn shape(s: &Shape) -> serde_json::Value {
    use serde_json::json;
    match s {
        Shape::Whole(min) => json!({"type": "integer", "minimum": min}),
        Shape::Number(lo, hi) if hi.is_finite() => json!({"type": "number", "minimum": lo, "maximum": hi}),
        Shape::Number(lo, _) => json!({"type": "number", "minimum": lo}),
        Shape::Bool => json!({"type": "boolean"}),
        Shape::Text => json!({"type": "string"}),
        Shape::Formula => json!({"type": ["string", "number", "boolean"]}),
        Shape::Keyword(spellings) => json!({"enum": spellings()}),
        Shape::Keys(keys) => object(keys),
        Shape::OneOf(keys) => {
            let mut o = object(keys);
            o["minProperties"] = 1.into();
            o["maxProperties"] = 1.into();
            o
        }
        Shape::Named(value) => json!({"type": "object", "additionalProperties": shape(value)}),
        Shape::List(item) => json!({"type": "array", "items": shape(item)}),
        Shape::Either(shapes) => json!({"anyOf": shapes.iter().map(shape).collect::<Vec<_>>()}),
        Shape::Any => json!({}),
    }
}
