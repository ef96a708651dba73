//! The built-ins that compute on values (`sum`, `count`, `all_different`, `max`, …) where some
//! of their values are latent; on observed values they are [`crisp::builtin`].

use super::*;

impl Builder<'_> {
    /// When `items` are n values of n classes — learnables' classes with the same n values, and
    /// observed ones among them — all different means each value is taken: one clause per value
    /// no observed item takes, over the latent items. Implied by the inequalities, so the event
    /// keeps its models, but a relaxation sees it (CL-STE's Sudoku CNF states it: a binarisation
    /// with no digit in a cell satisfies every inequality, and no value's clause).
    fn pigeonhole(&mut self, items: &[G], span: Span) -> Result<Vec<Formula>, GroundError> {
        let vars: Vec<usize> =
            items.iter().filter_map(|i| if let Value::Latent(Sym::Var(v)) = i { Some(*v) } else { None }).collect();
        let Some(&first) = vars.first() else { return Ok(Vec::new()) };
        let values = self.domain_of(first).to_vec();
        let observed: Vec<&G> = items.iter().filter(|i| !i.latent()).collect();
        let is_class = |o: &G| values.iter().any(|v| Value::class(v) == *o);
        if values.len() != items.len()
            || vars.len() + observed.len() != items.len()
            || vars.iter().any(|&v| self.domain_of(v) != values.as_slice())
            || !observed.iter().all(|o| is_class(o))
        {
            return Ok(Vec::new());
        }
        let latent: Vec<G> = items.iter().filter(|i| i.latent()).cloned().collect();
        let mut clauses = Vec::new();
        for value in values.iter().map(Value::class).filter(|v| !observed.contains(&v)) {
            let taken = latent
                .iter()
                .map(|i| self.condition(CmpOp::Eq, i.clone(), value.clone(), span))
                .collect::<Result<_, _>>()?;
            clauses.push(Formula::or(taken));
        }
        Ok(clauses)
    }

    /// A cell's cost for `shortest_path`: observed, or one learnable's class (its value, plus
    /// any constant), each a non-negative integer.
    fn path_cost(&self, c: &G, span: Span) -> Result<Cost, GroundError> {
        let lin = self.linear(c).filter(|l| l.terms.len() <= 1);
        let Some(lin) = lin else {
            return fail(
                span,
                format!(
                    "`shortest_path` reads each cost as an integer or one learnable's class, found {}",
                    c.describe()
                ),
            );
        };
        let cost = |x: &BigInt| crisp::path_cost(num_traits::ToPrimitive::to_i64(&(x + &lin.constant)), span);
        Ok(match lin.terms.iter().next() {
            None => Cost::Fixed(cost(&BigInt::zero())?),
            Some((v, table)) => Cost::Var(*v, table.iter().map(cost).collect::<Result<_, _>>()?),
        })
    }

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
                parts.extend(self.pigeonhole(&items, span)?);
                prop(Formula::and(parts))
            }
            Builtin::Max | Builtin::Min | Builtin::Abs => {
                let items = if builtin == Builtin::Abs { values } else { crisp::items(builtin, values, span)? };
                let joints = items.into_iter().map(|i| self.joint(i, span)).collect::<Result<Vec<_>, _>>()?;
                let combined = self.combine(&joints, span, |xs| match builtin {
                    Builtin::Max => xs.iter().max().map_or_else(BigInt::default, |x| (*x).clone()),
                    Builtin::Min => xs.iter().min().map_or_else(BigInt::default, |x| (*x).clone()),
                    _ => xs[0].abs(),
                })?;
                Value::Latent(Sym::Ints(combined))
            }
            Builtin::ShortestPath => {
                let items = crisp::items(builtin, values, span)?;
                crisp::path_side(items.len(), span)?;
                let costs = items.iter().map(|c| self.path_cost(c, span)).collect::<Result<_, _>>()?;
                Value::Latent(Sym::Path(costs))
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
