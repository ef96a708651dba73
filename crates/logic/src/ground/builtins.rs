//! The built-in functions of formulas (`sum`, `count`, `all_different`, `sorted`, `range`, …) on
//! observed and latent values.

use super::*;

impl Builder<'_, '_> {
    pub(super) fn builtin(
        &mut self,
        builtin: Builtin,
        mut values: Vec<G>,
        args: &[Expr],
        span: Span,
    ) -> Result<G, GroundError> {
        let name = builtin.name();
        // `max(a, b)` or `max(items)`.
        let items = |mut values: Vec<G>| -> Result<Vec<G>, GroundError> {
            match values.as_mut_slice() {
                [G::List(items)] => Ok(std::mem::take(items)),
                [one] => fail(span, format!("`{name}` needs a list, found {}", describe(one))),
                _ => Ok(values),
            }
        };
        let int_arg = |v: &G, at: usize| match v {
            G::Int(i) => Ok(i.clone()),
            _ => fail(args.get(at).map_or(span, |a| a.span), format!("`{name}` needs an observed integer here")),
        };
        Ok(match builtin {
            Builtin::Sum => {
                items(values)?.into_iter().try_fold(G::Int(Int::zero()), |a, x| self.arith(BinOp::Add, a, x, span))?
            }
            Builtin::Count => {
                let mut total = G::Int(Int::zero());
                for c in items(values)? {
                    let n = self.as_number(c, span)?;
                    total = self.arith(BinOp::Add, total, n, span)?;
                }
                total
            }
            Builtin::Exactly | Builtin::AtLeast | Builtin::AtMost => {
                let k = int_arg(&values[0], 0)?;
                let count = self.builtin(Builtin::Count, vec![values.remove(1)], &args[1..], span)?;
                let op = match builtin {
                    Builtin::Exactly => CmpOp::Eq,
                    Builtin::AtLeast => CmpOp::Ge,
                    _ => CmpOp::Le,
                };
                G::Prop(self.compare(op, count, G::Int(k), span)?).simplified()
            }
            Builtin::All | Builtin::Any => {
                let parts = items(values)?.into_iter().map(|c| self.truth(c, span)).collect::<Result<Vec<_>, _>>()?;
                G::Prop(if builtin == Builtin::All { Formula::and(parts) } else { Formula::or(parts) }).simplified()
            }
            Builtin::AllDifferent => {
                let items = items(values)?;
                let mut parts = Vec::new();
                for i in 0..items.len() {
                    for j in i + 1..items.len() {
                        parts.push(self.compare(CmpOp::Ne, items[i].clone(), items[j].clone(), span)?);
                    }
                }
                G::Prop(Formula::and(parts)).simplified()
            }
            Builtin::Max | Builtin::Min | Builtin::Abs => {
                let items = if builtin == Builtin::Abs { values } else { items(values)? };
                if items.is_empty() {
                    return fail(span, format!("`{name}` of an empty list"));
                }
                if items.iter().all(|i| matches!(i, G::Real(_) | G::Int(_) | G::Bool(_))) {
                    let nums: Vec<f64> = items.iter().map(|i| real(i).unwrap_or(0.0)).collect();
                    if let Some(ints) = items.iter().map(int).collect::<Option<Vec<Int>>>() {
                        G::Int(match builtin {
                            Builtin::Max => ints.into_iter().max().unwrap_or_else(Int::zero),
                            Builtin::Min => ints.into_iter().min().unwrap_or_else(Int::zero),
                            _ => ints[0].abs(),
                        })
                    } else {
                        G::Real(match builtin {
                            Builtin::Max => nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                            Builtin::Min => nums.iter().cloned().fold(f64::INFINITY, f64::min),
                            _ => nums[0].abs(),
                        })
                    }
                } else {
                    let joints = items.into_iter().map(|i| self.joint(i, span)).collect::<Result<Vec<_>, _>>()?;
                    let combined = self.combine(&joints, span, |xs| match builtin {
                        Builtin::Max => xs.iter().max().cloned().unwrap_or_default(),
                        Builtin::Min => xs.iter().min().cloned().unwrap_or_default(),
                        _ => xs[0].abs(),
                    })?;
                    G::Ints(combined)
                }
            }
            Builtin::Len => G::Int(Int::from(items(values)?.len())),
            Builtin::Mean => {
                let items = items(values)?;
                let nums = items.iter().map(real).collect::<Option<Vec<f64>>>();
                match nums {
                    Some(n) if !n.is_empty() => G::Real(n.iter().sum::<f64>() / n.len() as f64),
                    _ => return fail(span, "exact reasoning takes `mean` of observed numbers only"),
                }
            }
            Builtin::Enumerate => G::List(
                items(values)?.into_iter().enumerate().map(|(i, x)| G::List(vec![G::Int(Int::from(i)), x])).collect(),
            ),
            Builtin::Range => {
                let ints = values.iter().enumerate().map(|(i, v)| int_arg(v, i)).collect::<Result<Vec<_>, _>>()?;
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
                self.spend(len, span)?;
                let mut out = Vec::with_capacity(len as usize);
                let mut i = start;
                while (step > 0 && i < stop) || (step < 0 && i > stop) {
                    out.push(G::Int(Int::from(i)));
                    i += step;
                }
                G::List(out)
            }
            Builtin::Zip => {
                let lists = values
                    .into_iter()
                    .map(|v| match v {
                        G::List(l) => Ok(l),
                        other => fail(span, format!("`zip` needs lists, found {}", describe(&other))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let n = lists.iter().map(Vec::len).min().unwrap_or(0);
                G::List((0..n).map(|i| G::List(lists.iter().map(|l| l[i].clone()).collect())).collect())
            }
            Builtin::Sorted => {
                let mut items = items(values)?;
                if items.iter().any(G::latent) {
                    return fail(span, "`sorted` of latent values is not supported by exact reasoning");
                }
                items.sort_by(|a, b| match (int(a), int(b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => real(a).partial_cmp(&real(b)).unwrap_or(std::cmp::Ordering::Equal),
                });
                G::List(items)
            }
            Builtin::Combinations => {
                let k = int_arg(&values[1], 1)?.to_usize().unwrap_or(usize::MAX);
                let items = items(vec![values.swap_remove(0)])?;
                self.spend(combinations_len(items.len(), k), span)?;
                let mut out = Vec::new();
                combinations(&items, k, 0, &mut Vec::new(), &mut out);
                G::List(out.into_iter().map(G::List).collect())
            }
        })
    }
}

pub(super) fn slice(items: &[G], lo: Option<i64>, hi: Option<i64>, step: i64) -> Vec<G> {
    let n = items.len() as i64;
    let clamp = |x: i64, lo: i64, hi: i64| x.clamp(lo, hi);
    let norm = |x: i64| if x < 0 { x + n } else { x };
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, end) = (clamp(norm(lo.unwrap_or(0)), 0, n), clamp(norm(hi.unwrap_or(n)), 0, n));
        while i < end {
            out.push(items[i as usize].clone());
            i += step;
        }
    } else {
        let (mut i, end) = (clamp(norm(lo.unwrap_or(n - 1)), -1, n - 1), clamp(hi.map_or(-1, norm), -1, n - 1));
        while i > end {
            out.push(items[i as usize].clone());
            i += step;
        }
    }
    out
}

fn combinations(items: &[G], k: usize, from: usize, current: &mut Vec<G>, out: &mut Vec<Vec<G>>) {
    if current.len() == k {
        out.push(current.clone());
        return;
    }
    for i in from..items.len() {
        current.push(items[i].clone());
        combinations(items, k, i + 1, current, out);
        current.pop();
    }
}
