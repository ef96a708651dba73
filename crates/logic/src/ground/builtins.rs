//! The built-ins that compute on values (`sum`, `count`, `all_different`, `max`, …) where some
//! of their values are latent; on observed values they are [`crisp::builtin`].

use super::*;

impl Builder<'_> {
    pub(super) fn latent_builtin(
        &mut self,
        builtin: Builtin,
        mut values: Vec<G>,
        args: &[Expr],
        span: Span,
    ) -> Result<G, GroundError> {
        Ok(match builtin {
            Builtin::Sum => crisp::items(builtin, values, span)?
                .into_iter()
                .try_fold(Value::Int(Int::zero()), |a, x| self.arith(BinOp::Add, a, x, span))?,
            Builtin::Count => {
                let mut total = Value::Int(Int::zero());
                for c in crisp::items(builtin, values, span)? {
                    let n = self.as_number(c, span)?;
                    total = self.arith(BinOp::Add, total, n, span)?;
                }
                total
            }
            Builtin::Exactly | Builtin::AtLeast | Builtin::AtMost => {
                let k = crisp::int_arg(builtin, &values[0], args, 0, span)?;
                let count = self.latent_builtin(Builtin::Count, vec![values.remove(1)], &args[1..], span)?;
                let op = match builtin {
                    Builtin::Exactly => CmpOp::Eq,
                    Builtin::AtLeast => CmpOp::Ge,
                    _ => CmpOp::Le,
                };
                prop(self.condition(op, count, Value::Int(k), span)?)
            }
            Builtin::All | Builtin::Any => {
                let parts = crisp::items(builtin, values, span)?.into_iter().map(|c| truth(c, span)).collect::<Result<
                    Vec<_>,
                    _,
                >>(
                )?;
                prop(if builtin == Builtin::All { Formula::and(parts) } else { Formula::or(parts) })
            }
            Builtin::AllDifferent => {
                let items = crisp::items(builtin, values, span)?;
                let mut parts = Vec::new();
                for i in 0..items.len() {
                    for j in i + 1..items.len() {
                        parts.push(self.condition(CmpOp::Ne, items[i].clone(), items[j].clone(), span)?);
                    }
                }
                prop(Formula::and(parts))
            }
            Builtin::Max | Builtin::Min | Builtin::Abs => {
                let items = if builtin == Builtin::Abs { values } else { crisp::items(builtin, values, span)? };
                let joints = items.into_iter().map(|i| self.joint(i, span)).collect::<Result<Vec<_>, _>>()?;
                let combined = self.combine(&joints, span, |xs| match builtin {
                    Builtin::Max => xs.iter().max().cloned().unwrap_or_default(),
                    Builtin::Min => xs.iter().min().cloned().unwrap_or_default(),
                    _ => xs[0].abs(),
                })?;
                Value::Latent(Sym::Ints(combined))
            }
            Builtin::Mean => return fail(span, "exact reasoning takes `mean` of observed numbers only"),
            Builtin::Sorted => return fail(span, "`sorted` of latent values is not supported by exact reasoning"),
            _ => {
                let found = values.iter().find(|v| v.latent()).map_or("a latent value", Value::describe);
                return fail(span, format!("`{}` needs observed lists and integers, found {found}", builtin.name()));
            }
        })
    }
}
