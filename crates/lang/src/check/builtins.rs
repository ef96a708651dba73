//! Built-in functions: their arity, shown in errors, and their typing.

/// (name, fewest arguments, most arguments (None: any), signature for messages)
pub const BUILTINS: &[(&str, usize, Option<usize>, &str)] = &[
    ("sum", 1, Some(1), "sum(items)"),
    ("mean", 1, Some(1), "mean(items)"),
    ("count", 1, Some(1), "count(conditions)"),
    ("min", 1, None, "min(items) or min(a, b, ...)"),
    ("max", 1, None, "max(items) or max(a, b, ...)"),
    ("abs", 1, Some(1), "abs(x)"),
    ("len", 1, Some(1), "len(items)"),
    ("all", 1, Some(1), "all(conditions)"),
    ("any", 1, Some(1), "any(conditions)"),
    ("enumerate", 1, Some(1), "enumerate(items)"),
    ("range", 1, Some(3), "range(stop) or range(start, stop[, step])"),
    ("zip", 1, None, "zip(a, b, ...)"),
    ("combinations", 2, Some(2), "combinations(items, k)"),
    ("sorted", 1, Some(1), "sorted(items)"),
    ("all_different", 1, None, "all_different(items) or all_different(a, b, ...)"),
    ("exactly", 2, Some(2), "exactly(k, conditions)"),
    ("at_least", 2, Some(2), "at_least(k, conditions)"),
    ("at_most", 2, Some(2), "at_most(k, conditions)"),
];

pub fn lookup(name: &str) -> Option<(usize, Option<usize>, &'static str)> {
    BUILTINS.iter().find(|b| b.0 == name).map(|b| (b.1, b.2, b.3))
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.0)
}
