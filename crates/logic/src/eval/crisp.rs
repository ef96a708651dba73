//! What formulas mean on observed values: Python's arithmetic (integers of any size), comparisons,
//! and the built-ins. Every domain shares it; a domain only defines its latent values.

use super::{fail, GroundError, Int, Latent, Value};
use skilang_lang::check::Builtin;
use skilang_lang::formula::{BinOp, CmpOp, Expr};
use skilang_lang::limits::{combinations_len, range_len};
use skilang_lang::source::Span;
use std::cmp::Ordering;

pub(crate) fn is_logical(op: BinOp) -> bool {
    matches!(op, BinOp::And | BinOp::BitAnd | BinOp::Or | BinOp::BitOr | BinOp::BitXor)
}

/// `a and b`, `a or b`, `a ^ b` on a boolean `l`.
pub(crate) fn logical<L: Latent>(op: BinOp, l: Value<L>, r: Value<L>, rhs: Span) -> Result<bool, GroundError> {
    let (Value::Bool(a), Value::Bool(b)) = (&l, &r) else {
        return fail(rhs, format!("expected a condition, found {}", r.describe()));
    };
    Ok(match op {
        BinOp::And | BinOp::BitAnd => *a && *b,
        BinOp::Or | BinOp::BitOr => *a || *b,
        _ => a != b,
    })
}

/// Arithmetic on observed numbers (booleans count as 0 and 1).
pub(crate) fn arith<L: Latent>(op: BinOp, l: &Value<L>, r: &Value<L>, span: Span) -> Result<Value<L>, GroundError> {
    if is_logical(op) {
        return fail(span, format!("`{}` needs conditions", op.symbol()));
    }
    if let (Some(a), Some(b)) = (int(l), int(r)) {
        return Int::op(op, &a, &b).map(Value::Int).ok_or_else(|| GroundError {
            span,
            message: match op {
                BinOp::Pow => "an exponent must be a small non-negative integer".into(),
                _ => "division by zero".into(),
            },
        });
    }
    let (Some(a), Some(b)) = (real(l), real(r)) else {
        return fail(span, format!("cannot apply `{}` to {} and {}", op.symbol(), l.describe(), r.describe()));
    };
    Ok(Value::Real(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::FloorDiv => (a / b).floor(),
        BinOp::Mod => a - b * (a / b).floor(),
        _ => a.powf(b),
    }))
}

/// A comparison of observed values (`in` and `not in` included).
pub(crate) fn compare<L: Latent>(op: CmpOp, l: &Value<L>, r: &Value<L>, span: Span) -> Result<bool, GroundError> {
    if matches!(op, CmpOp::In | CmpOp::NotIn) {
        let Value::List(items) = r else {
            return fail(span, format!("`{}` needs a list on its right, found {}", op.symbol(), r.describe()));
        };
        let mut found = false;
        for item in items {
            found |= compare(CmpOp::Eq, l, item, span)?;
        }
        return Ok(found == (op == CmpOp::In));
    }
    observed_compare(op, l, r)
        .ok_or_else(|| GroundError { span, message: format!("cannot compare {} with {}", l.describe(), r.describe()) })
}

fn observed_compare<L: Latent>(op: CmpOp, l: &Value<L>, r: &Value<L>) -> Option<bool> {
    let o: Ordering = match (l, r) {
        (Value::Int(a), Value::Int(b)) => a.cmp(b),
        (Value::Str(a), Value::Str(b)) => a.cmp(b),
        // Item by item, as Python compares lists: `[True, False] == [1, 0]`.
        (Value::List(a), Value::List(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            let equal =
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| observed_compare(CmpOp::Eq, x, y) == Some(true));
            return Some(equal == (op == CmpOp::Eq));
        }
        _ => match (int(l), int(r)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => match (real(l), real(r)) {
                (Some(a), Some(b)) => a.partial_cmp(&b)?,
                // A name and a number (`ace` and the rank 2 of one column) are simply different.
                _ if matches!(op, CmpOp::Eq | CmpOp::Ne) => return Some(op == CmpOp::Ne),
                _ => return None,
            },
        },
    };
    Some(holds(op, o))
}

/// Whether `op` accepts two values ordered `o`.
pub(crate) fn holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o.is_eq(),
        CmpOp::Ne => o.is_ne(),
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        CmpOp::Ge => o.is_ge(),
        CmpOp::In | CmpOp::NotIn => false,
    }
}

pub(crate) fn int<L>(v: &Value<L>) -> Option<Int> {
    match v {
        Value::Int(i) => Some(i.clone()),
        Value::Bool(b) => Some(Int::from(*b as i64)),
        _ => None,
    }
}

pub(crate) fn real<L>(v: &Value<L>) -> Option<f64> {
    match v {
        Value::Real(x) => Some(*x),
        _ => int(v).and_then(|i| i.to_f64()),
    }
}

/// The arguments of `max(a, b)` or `max(items)` as one list.
pub(crate) fn items<L: Latent>(
    builtin: Builtin,
    mut values: Vec<Value<L>>,
    span: Span,
) -> Result<Vec<Value<L>>, GroundError> {
    match values.as_mut_slice() {
        [Value::List(items)] => Ok(std::mem::take(items)),
        [one] => fail(span, format!("`{}` needs a list, found {}", builtin.name(), one.describe())),
        _ => Ok(values),
    }
}

/// The observed integer argument `at` of a built-in.
pub(crate) fn int_arg<L>(
    builtin: Builtin,
    v: &Value<L>,
    args: &[Expr],
    at: usize,
    span: Span,
) -> Result<Int, GroundError> {
    match v {
        Value::Int(i) => Ok(i.clone()),
        _ => {
            fail(args.get(at).map_or(span, |a| a.span), format!("`{}` needs an observed integer here", builtin.name()))
        }
    }
}

/// The side of the square grid `cells` costs of `shortest_path` make.
pub(crate) fn path_side(cells: usize, span: Span) -> Result<usize, GroundError> {
    match skilang_lang::path::side(cells) {
        Some(side) => Ok(side),
        None => {
            fail(span, format!("`shortest_path` needs the costs of a square grid, row by row; {cells} is not a square"))
        }
    }
}

/// A cell's cost for `shortest_path`: a non-negative integer of at most 2^40 (sums of a path's
/// costs stay exact).
pub(crate) fn path_cost(cost: Option<i64>, span: Span) -> Result<i64, GroundError> {
    match cost {
        Some(c) if (0..=1 << 40).contains(&c) => Ok(c),
        _ => fail(span, "`shortest_path` needs costs from 0 to 2^40 (Dijkstra's costs are never negative)"),
    }
}

/// Whether a built-in only rearranges its arguments (so it works on lists of latent values in
/// every domain).
pub(crate) fn structural(builtin: Builtin) -> bool {
    matches!(builtin, Builtin::Len | Builtin::Enumerate | Builtin::Range | Builtin::Zip | Builtin::Combinations)
}

/// The structural built-ins; `spend` counts the values they are about to create.
pub(crate) fn structure<L: Latent>(
    builtin: Builtin,
    mut values: Vec<Value<L>>,
    args: &[Expr],
    span: Span,
    spend: &mut dyn FnMut(u128) -> Result<(), GroundError>,
) -> Result<Value<L>, GroundError> {
    Ok(match builtin {
        Builtin::Len => Value::Int(Int::from(items(builtin, values, span)?.len())),
        Builtin::Enumerate => Value::List(
            items(builtin, values, span)?
                .into_iter()
                .enumerate()
                .map(|(i, x)| Value::List(vec![Value::Int(Int::from(i)), x]))
                .collect(),
        ),
        Builtin::Range => {
            let ints = values
                .iter()
                .enumerate()
                .map(|(i, v)| int_arg(builtin, v, args, i, span))
                .collect::<Result<Vec<_>, _>>()?;
            let small = |b: &Int| b.to_i64().ok_or_else(|| GroundError { span, message: "range too large".into() });
            let (start, stop, step) = match ints.as_slice() {
                [stop] => (0, small(stop)?, 1),
                [a, b] => (small(a)?, small(b)?, 1),
                [a, b, c] => (small(a)?, small(b)?, small(c)?),
                _ => return fail(span, "`range` takes one to three integers"),
            };
            let Some(len) = range_len(start, stop, step) else {
                return fail(span, "`range` step cannot be zero");
            };
            spend(len)?;
            let mut out = Vec::with_capacity(len as usize);
            let mut i = start;
            while (step > 0 && i < stop) || (step < 0 && i > stop) {
                out.push(Value::Int(Int::from(i)));
                i += step;
            }
            Value::List(out)
        }
        Builtin::Zip => {
            let lists = values
                .into_iter()
                .map(|v| match v {
                    Value::List(l) => Ok(l),
                    other => fail(span, format!("`zip` needs lists, found {}", other.describe())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Value::List((0..n).map(|i| Value::List(lists.iter().map(|l| l[i].clone()).collect())).collect())
        }
        Builtin::Combinations => {
            let k = int_arg(builtin, &values[1], args, 1, span)?.to_usize().unwrap_or(usize::MAX);
            let items = items(builtin, vec![values.swap_remove(0)], span)?;
            let n = combinations_len(items.len(), k);
            spend(n)?;
            let mut out = Vec::with_capacity(n as usize);
            let mut at: Vec<usize> = (0..k).collect();
            while k <= items.len() {
                out.push(Value::List(at.iter().map(|&i| items[i].clone()).collect()));
                if !next_combination(&mut at, items.len()) {
                    break;
                }
            }
            Value::List(out)
        }
        _ => unreachable!("`{}` is not structural", builtin.name()),
    })
}

/// The built-ins that compute on values, on observed values.
pub(crate) fn builtin<L: Latent>(
    builtin: Builtin,
    mut values: Vec<Value<L>>,
    args: &[Expr],
    span: Span,
) -> Result<Value<L>, GroundError> {
    let name = builtin.name();
    let truth = |v: &Value<L>| match v {
        Value::Bool(b) => Ok(*b),
        other => fail(span, format!("expected a condition, found {}", other.describe())),
    };
    Ok(match builtin {
        Builtin::Sum => items(builtin, values, span)?
            .iter()
            .try_fold(Value::Int(Int::zero()), |a, x| arith(BinOp::Add, &a, x, span))?,
        Builtin::Count | Builtin::Exactly | Builtin::AtLeast | Builtin::AtMost => {
            let conditions = if builtin == Builtin::Count { values.swap_remove(0) } else { values.remove(1) };
            let mut count = 0i64;
            for c in items(Builtin::Count, vec![conditions], span)? {
                match c {
                    Value::Bool(b) => count += b as i64,
                    other => return fail(span, format!("`count` needs conditions, found {}", other.describe())),
                }
            }
            let count = Int::from(count);
            match builtin {
                Builtin::Count => Value::Int(count),
                Builtin::Exactly => Value::Bool(count == int_arg(builtin, &values[0], args, 0, span)?),
                Builtin::AtLeast => Value::Bool(count >= int_arg(builtin, &values[0], args, 0, span)?),
                _ => Value::Bool(count <= int_arg(builtin, &values[0], args, 0, span)?),
            }
        }
        Builtin::All => Value::Bool(items(builtin, values, span)?.iter().try_fold(true, |a, c| Ok(a & truth(c)?))?),
        Builtin::Any => Value::Bool(items(builtin, values, span)?.iter().try_fold(false, |a, c| Ok(a | truth(c)?))?),
        Builtin::ShortestPath => {
            let items = items(builtin, values, span)?;
            let side = path_side(items.len(), span)?;
            let costs = items
                .iter()
                .map(|c| match c {
                    Value::Int(i) => path_cost(i.to_i64(), span),
                    other => fail(span, format!("`shortest_path` needs integer costs, found {}", other.describe())),
                })
                .collect::<Result<Vec<i64>, _>>()?;
            Value::List(skilang_lang::path::shortest(&costs, side).into_iter().map(Value::Bool).collect())
        }
        Builtin::AllDifferent => {
            let items = items(builtin, values, span)?;
            for i in 0..items.len() {
                for j in i + 1..items.len() {
                    if !compare(CmpOp::Ne, &items[i], &items[j], span)? {
                        return Ok(Value::Bool(false));
                    }
                }
            }
            Value::Bool(true)
        }
        Builtin::Max | Builtin::Min | Builtin::Abs => {
            let items = if builtin == Builtin::Abs { values } else { items(builtin, values, span)? };
            if items.is_empty() {
                return fail(span, format!("`{name}` of an empty list"));
            }
            if items.iter().all(|v| matches!(v, Value::Int(_) | Value::Bool(_))) {
                let ints = items.iter().filter_map(int);
                Value::Int(match builtin {
                    Builtin::Max => ints.max().unwrap_or_else(Int::zero),
                    Builtin::Min => ints.min().unwrap_or_else(Int::zero),
                    _ => int(&items[0]).unwrap_or_else(Int::zero).abs(),
                })
            } else if let Some(nums) = items.iter().map(real).collect::<Option<Vec<f64>>>() {
                Value::Real(match builtin {
                    Builtin::Max => nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                    Builtin::Min => nums.iter().cloned().fold(f64::INFINITY, f64::min),
                    _ => nums[0].abs(),
                })
            } else {
                return fail(span, format!("`{name}` needs numbers"));
            }
        }
        Builtin::Mean => {
            let items = items(builtin, values, span)?;
            match items.iter().map(real).collect::<Option<Vec<f64>>>() {
                Some(n) if !n.is_empty() => Value::Real(n.iter().sum::<f64>() / n.len() as f64),
                Some(_) => return fail(span, "`mean` of an empty list"),
                None => return fail(span, "`mean` needs numbers"),
            }
        }
        Builtin::Sorted => {
            let mut items = items(builtin, values, span)?;
            items.sort_by(|a, b| match (int(a), int(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => real(a).partial_cmp(&real(b)).unwrap_or(Ordering::Equal),
            });
            Value::List(items)
        }
        _ => unreachable!("`{name}` is structural"),
    })
}

pub(crate) fn slice<T: Clone>(items: &[T], lo: Option<i64>, hi: Option<i64>, step: i64) -> Vec<T> {
    let n = items.len() as i64;
    let norm = |x: i64| if x < 0 { x + n } else { x };
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, end) = (norm(lo.unwrap_or(0)).clamp(0, n), norm(hi.unwrap_or(n)).clamp(0, n));
        while i < end {
            out.push(items[i as usize].clone());
            i += step;
        }
    } else {
        let (mut i, end) = (norm(lo.unwrap_or(n - 1)).clamp(-1, n - 1), hi.map_or(-1, norm).clamp(-1, n - 1));
        while i > end {
            out.push(items[i as usize].clone());
            i += step;
        }
    }
    out
}

/// Advances `at`, the positions of a `k`-combination of `n` items, to the next combination in
/// Python's order (`combinations`'): false after the last. Start from `0..k` (valid when k ≤ n).
pub(crate) fn next_combination(at: &mut [usize], n: usize) -> bool {
    let k = at.len();
    let Some(j) = (0..k).rev().find(|&j| at[j] < n - k + j) else { return false };
    at[j] += 1;
    for m in j + 1..k {
        at[m] = at[m - 1] + 1;
    }
    true
}
