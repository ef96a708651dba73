//! Built-in functions: their arity, shown in errors, and their typing.

/// A built-in function, as the checker resolved a call to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Sum,
    Mean,
    Count,
    Min,
    Max,
    Abs,
    Len,
    All,
    Any,
    Enumerate,
    Range,
    Zip,
    Combinations,
    Sorted,
    AllDifferent,
    Exactly,
    AtLeast,
    AtMost,
    ShortestPath,
}

/// (built-in, name, fewest arguments, most arguments (None: any), signature for messages)
const BUILTINS: &[(Builtin, &str, usize, Option<usize>, &str)] = &[
    (Builtin::Sum, "sum", 1, Some(1), "sum(items)"),
    (Builtin::Mean, "mean", 1, Some(1), "mean(items)"),
    (Builtin::Count, "count", 1, Some(1), "count(conditions)"),
    (Builtin::Min, "min", 1, None, "min(items) or min(a, b, ...)"),
    (Builtin::Max, "max", 1, None, "max(items) or max(a, b, ...)"),
    (Builtin::Abs, "abs", 1, Some(1), "abs(x)"),
    (Builtin::Len, "len", 1, Some(1), "len(items)"),
    (Builtin::All, "all", 1, Some(1), "all(conditions)"),
    (Builtin::Any, "any", 1, Some(1), "any(conditions)"),
    (Builtin::Enumerate, "enumerate", 1, Some(1), "enumerate(items)"),
    (Builtin::Range, "range", 1, Some(3), "range(stop) or range(start, stop[, step])"),
    (Builtin::Zip, "zip", 1, None, "zip(a, b, ...)"),
    (Builtin::Combinations, "combinations", 2, Some(2), "combinations(items, k)"),
    (Builtin::Sorted, "sorted", 1, Some(1), "sorted(items)"),
    (Builtin::AllDifferent, "all_different", 1, None, "all_different(items) or all_different(a, b, ...)"),
    (Builtin::Exactly, "exactly", 2, Some(2), "exactly(k, conditions)"),
    (Builtin::AtLeast, "at_least", 2, Some(2), "at_least(k, conditions)"),
    (Builtin::AtMost, "at_most", 2, Some(2), "at_most(k, conditions)"),
    (Builtin::ShortestPath, "shortest_path", 1, Some(1), "shortest_path(costs)"),
];

impl Builtin {
    /// The built-in named `name`: itself, its fewest and most arguments, its signature.
    pub fn lookup(name: &str) -> Option<(Builtin, usize, Option<usize>, &'static str)> {
        BUILTINS.iter().find(|b| b.1 == name).map(|b| (b.0, b.2, b.3, b.4))
    }

    pub fn name(self) -> &'static str {
        BUILTINS.iter().find(|b| b.0 == self).map_or("?", |b| b.1)
    }
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.1)
}
