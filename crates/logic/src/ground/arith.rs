//! Symbolic arithmetic and comparison: observed integers are exact, latent ones are linear sums of
//! per-variable tables where possible (the compiler prunes them by bounds and divisibility), else
//! tables over the few variables they combine.

use super::*;
use crate::eval::big_op;

impl Builder<'_> {
    /// A condition as the integer 0 or 1 (for `count`).
    pub(super) fn as_number(&mut self, v: G, span: Span) -> Result<G, GroundError> {
        match v {
            Value::Bool(b) => Ok(Value::Int(Int::from(b as i64))),
            Value::Latent(Sym::Prop(_)) => Ok(latent_int(self.joint(v, span)?)),
            other => fail(span, format!("`count` needs conditions, found {}", other.describe())),
        }
    }

    pub(super) fn arith(&mut self, op: BinOp, l: G, r: G, span: Span) -> Result<G, GroundError> {
        if !l.latent() && !r.latent() {
            return crisp::arith(op, &l, &r, span);
        }
        if matches!(l, Value::Real(_)) || matches!(r, Value::Real(_)) || op == BinOp::Div {
            return fail(
                span,
                "exact reasoning does integer arithmetic on latent values; use `//` or integer constants",
            );
        }
        // Linear where possible: sums, differences, and scaling by an observed integer.
        match (op, self.linear(&l), self.linear(&r)) {
            (BinOp::Add | BinOp::Sub, Some(a), Some(b)) => {
                let sign = if op == BinOp::Sub { -BigInt::one() } else { BigInt::one() };
                return Ok(Value::Latent(Sym::Lin(a.plus(&b, &sign))));
            }
            (BinOp::Mul, Some(a), Some(b)) if a.terms.is_empty() || b.terms.is_empty() => {
                let (c, x) = if a.terms.is_empty() { (a.constant, b) } else { (b.constant, a) };
                return Ok(Value::Latent(Sym::Lin(x.scaled(&c))));
            }
            _ => {}
        }
        let (a, b) = (self.joint(l, span)?, self.joint(r, span)?);
        let mut bad = false;
        let j = self.combine(&[a, b], span, |xs| {
            big_op(op, xs[0], xs[1]).unwrap_or_else(|| {
                bad = true;
                BigInt::zero()
            })
        })?;
        if bad {
            return fail(span, format!("`{}` is undefined for some values (division by zero)", op.symbol()));
        }
        Ok(latent_int(j))
    }

    /// A latent or observed integer as a linear sum, when it is one.
    pub(super) fn linear(&self, v: &G) -> Option<Lin> {
        match v {
            Value::Int(i) => Some(Lin { terms: BTreeMap::new(), constant: i.to_big() }),
            Value::Bool(b) => Some(Lin { terms: BTreeMap::new(), constant: BigInt::from(*b as u8) }),
            Value::Latent(Sym::Var(x)) => {
                let table = self.domain_of(*x).iter().map(value_int).collect::<Option<Vec<_>>>()?;
                Some(Lin { terms: BTreeMap::from([(*x, table)]), constant: BigInt::zero() })
            }
            Value::Latent(Sym::Lin(l)) => Some(l.clone()),
            Value::Latent(Sym::Ints(j)) if j.vars.len() == 1 => {
                Some(Lin { terms: BTreeMap::from([(j.vars[0], j.values.clone())]), constant: BigInt::zero() })
            }
            _ => None,
        }
    }

    /// Any latent integer or condition as a table over its variables.
    pub(super) fn joint(&mut self, v: G, span: Span) -> Result<Joint<BigInt>, GroundError> {
        Ok(match v {
            Value::Int(i) => Joint { vars: Vec::new(), values: vec![i.to_big()] },
            Value::Bool(b) => Joint { vars: Vec::new(), values: vec![BigInt::from(b as u8)] },
            Value::Latent(Sym::Ints(j)) => j,
            Value::Latent(Sym::Var(x)) => match self.domain_of(x).iter().map(value_int).collect::<Option<Vec<_>>>() {
                Some(values) => Joint { vars: vec![x], values },
                None => return fail(span, "arithmetic needs a learnable whose values are integers"),
            },
            Value::Latent(Sym::Lin(l)) => {
                let vars: Vec<usize> = l.terms.keys().copied().collect();
                let tables: Vec<&Vec<BigInt>> = l.terms.values().collect();
                self.tabulate(&vars, span, |z| tables.iter().zip(z).map(|(t, &x)| &t[x]).sum::<BigInt>() + &l.constant)?
            }
            Value::Latent(Sym::Prop(f)) => {
                let mut atoms = Vec::new();
                f.atoms(&mut atoms);
                let mut vars: Vec<usize> = atoms.iter().flat_map(|&a| self.atoms[a].vars()).collect();
                vars.sort();
                vars.dedup();
                let n = self.vars.len();
                // The atoms lend themselves to the event for the evaluation, and come back.
                let event = Event {
                    domains: self.vars.iter().map(|v| self.g.domain(v.learnable).len()).collect(),
                    atoms: std::mem::take(&mut self.atoms),
                    formula: f,
                };
                let table = self.tabulate(&vars, span, |z| {
                    let mut full = vec![0; n];
                    for (&v, &x) in vars.iter().zip(z) {
                        full[v] = x;
                    }
                    BigInt::from(event.holds(&full) as u8)
                });
                self.atoms = event.atoms;
                table?
            }
            other => return fail(span, format!("expected a number, found {}", other.describe())),
        })
    }

    /// The values of `f` for every joint assignment of `vars` (row-major).
    fn tabulate(
        &self,
        vars: &[usize],
        span: Span,
        mut f: impl FnMut(&[usize]) -> BigInt,
    ) -> Result<Joint<BigInt>, GroundError> {
        let sizes: Vec<usize> = vars.iter().map(|&v| self.domain_of(v).len()).collect();
        let total = sizes.iter().try_fold(1usize, |a, &s| a.checked_mul(s).filter(|&t| t <= JOINT_LIMIT));
        let Some(total) = total else {
            return fail(
                span,
                format!(
                    "this expression combines {} latent values non-linearly ({} joint assignments, the limit is {JOINT_LIMIT}); write it as a sum, or use approximate inference",
                    vars.len(),
                    sizes.iter().map(|&s| s as f64).product::<f64>()
                ),
            );
        };
        let mut z = vec![0; vars.len()];
        let mut values = Vec::with_capacity(total);
        for _ in 0..total {
            values.push(f(&z));
            for k in (0..z.len()).rev() {
                z[k] += 1;
                if z[k] < sizes[k] {
                    break;
                }
                z[k] = 0;
            }
        }
        Ok(Joint { vars: vars.to_vec(), values })
    }

    /// Combines tables pointwise over the union of their variables.
    pub(super) fn combine<T: Clone>(
        &self,
        parts: &[Joint<BigInt>],
        span: Span,
        mut f: impl FnMut(&[&BigInt]) -> T,
    ) -> Result<Joint<T>, GroundError> {
        let mut vars: Vec<usize> = parts.iter().flat_map(|p| p.vars.iter().copied()).collect();
        vars.sort();
        vars.dedup();
        // A part's entry under the union's values z is Σ_k z[k]·strides[k]: a table of five
        // digits has 100,000 entries, each read without allocating.
        let strides: Vec<Vec<usize>> = parts
            .iter()
            .map(|p| {
                let (mut strides, mut stride) = (vec![0; vars.len()], 1);
                for v in p.vars.iter().rev() {
                    strides[vars.binary_search(v).unwrap_or(0)] = stride;
                    stride *= self.domain_of(*v).len();
                }
                strides
            })
            .collect();
        let (mut out, mut xs) = (Vec::new(), Vec::with_capacity(parts.len()));
        let table = self.tabulate(&vars, span, |z| {
            xs.clear();
            for (p, strides) in parts.iter().zip(&strides) {
                xs.push(&p.values[z.iter().zip(strides).map(|(a, b)| a * b).sum::<usize>()]);
            }
            out.push(f(&xs));
            BigInt::zero()
        })?;
        Ok(Joint { vars: table.vars, values: out })
    }

    pub(super) fn condition(&mut self, op: CmpOp, l: G, r: G, span: Span) -> Result<Formula, GroundError> {
        if matches!(op, CmpOp::In | CmpOp::NotIn) {
            let Value::List(items) = r else {
                return fail(span, format!("`{}` needs a list on its right, found {}", op.symbol(), r.describe()));
            };
            let parts =
                items.into_iter().map(|i| self.condition(CmpOp::Eq, l.clone(), i, span)).collect::<Result<_, _>>()?;
            let any = Formula::or(parts);
            return Ok(if op == CmpOp::In { any } else { Formula::negate(any) });
        }
        if !l.latent() && !r.latent() {
            return crisp::compare(op, &l, &r, span).map(Formula::Const);
        }
        let (l, r) = match (l, r) {
            (Value::Latent(Sym::Path(costs)), other) | (other, Value::Latent(Sym::Path(costs))) => {
                return self.path_condition(op, costs, other, span)
            }
            pair => pair,
        };
        // A class compared with a value, or two classes: a table.
        let class_like = |g: &G| matches!(g, Value::Latent(Sym::Var(_)) | Value::Str(_) | Value::Int(_));
        let is_var = |g: &G| matches!(g, Value::Latent(Sym::Var(_)));
        if (is_var(&l) || is_var(&r)) && class_like(&l) && class_like(&r) {
            return self.compare_classes(op, l, r, span);
        }
        if let (Value::Latent(Sym::Prop(_)) | Value::Bool(_), Value::Latent(Sym::Prop(_)) | Value::Bool(_)) = (&l, &r) {
            let (a, b) = (truth(l, span)?, truth(r, span)?);
            return match op {
                CmpOp::Eq => Ok(Formula::iff(a, b)),
                CmpOp::Ne => Ok(Formula::negate(Formula::iff(a, b))),
                _ => fail(span, "conditions compare with `==` and `!=` only"),
            };
        }
        let cmp = |op: CmpOp, rhs: BigInt| -> (Cmp, BigInt) {
            match op {
                CmpOp::Eq => (Cmp::Eq, rhs),
                CmpOp::Ne => (Cmp::Ne, rhs),
                CmpOp::Le => (Cmp::Le, rhs),
                CmpOp::Lt => (Cmp::Le, rhs - 1),
                CmpOp::Ge => (Cmp::Ge, rhs),
                _ => (Cmp::Ge, rhs + 1),
            }
        };
        if let (Some(a), Some(b)) = (self.linear(&l), self.linear(&r)) {
            let d = a.plus(&b, &-BigInt::one());
            let (c, rhs) = cmp(op, -d.constant);
            let terms: Vec<(usize, Vec<BigInt>)> = d.terms.into_iter().collect();
            if terms.is_empty() {
                return Ok(Formula::Const(c.holds(&BigInt::zero(), &rhs)));
            }
            return Ok(self.atom(Atom::Sum { terms, cmp: c, rhs }));
        }
        if matches!(l, Value::Real(_)) || matches!(r, Value::Real(_)) {
            return fail(span, "exact reasoning compares latent values with integers, not reals");
        }
        let (a, b) = (self.joint(l, span)?, self.joint(r, span)?);
        let j = self.combine(&[a, b], span, |xs| crisp::holds(op, xs[0].cmp(xs[1])))?;
        Ok(self.atom(Atom::Table { vars: j.vars, allowed: j.values }))
    }

    /// `shortest_path(costs) == path`, for an observed path (its cells' truth values, or 0/1).
    fn path_condition(&mut self, op: CmpOp, costs: Vec<Cost>, path: G, span: Span) -> Result<Formula, GroundError> {
        let on = |cell: &G| match cell {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => match i.to_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            _ => None,
        };
        let on_path = match &path {
            Value::List(cells) => cells.iter().map(on).collect::<Option<Vec<bool>>>(),
            _ => None,
        };
        let Some(on_path) = on_path.filter(|_| matches!(op, CmpOp::Eq | CmpOp::Ne)) else {
            return fail(
                span,
                format!(
                    "the shortest path over latent costs is compared (`==`, `!=`) with an observed path, a list of truth values; found `{}` {}",
                    op.symbol(),
                    path.describe()
                ),
            );
        };
        if on_path.len() != costs.len() {
            return Ok(Formula::Const(op == CmpOp::Ne));
        }
        let holds = self.atom(Atom::Path { costs, on_path });
        Ok(if op == CmpOp::Eq { holds } else { Formula::negate(holds) })
    }

    /// `net(x) == flush`, `net(x) != 3`, `net(x1) == net(x2)`.
    fn compare_classes(&mut self, op: CmpOp, l: G, r: G, span: Span) -> Result<Formula, GroundError> {
        let matches = |a: &ClassValue, b: &G| match (a, b) {
            (ClassValue::Int(i), Value::Int(j)) => Int::from(*i) == *j,
            (ClassValue::Str(s), Value::Str(t)) => s == t,
            (v, Value::Str(t)) => &v.to_string() == t,
            _ => false,
        };
        let ordered = |a: &ClassValue, b: &ClassValue| -> Option<std::cmp::Ordering> {
            match (a, b) {
                (ClassValue::Int(x), ClassValue::Int(y)) => Some(x.cmp(y)),
                _ => None,
            }
        };
        let allowed = match (&l, &r) {
            (Value::Latent(Sym::Var(a)), Value::Latent(Sym::Var(b))) if a == b => {
                let n = self.domain_of(*a).len();
                let same = crisp::holds(op, std::cmp::Ordering::Equal);
                return Ok(self.atom(Atom::Table { vars: vec![*a], allowed: vec![same; n] }));
            }
            (Value::Latent(Sym::Var(a)), Value::Latent(Sym::Var(b))) => {
                let (da, db) = (self.domain_of(*a).to_vec(), self.domain_of(*b).to_vec());
                let mut allowed = Vec::with_capacity(da.len() * db.len());
                for x in &da {
                    for y in &db {
                        let o = if x == y { Some(std::cmp::Ordering::Equal) } else { ordered(x, y) };
                        match o {
                            Some(o) => allowed.push(crisp::holds(op, o)),
                            None if matches!(op, CmpOp::Ne) => allowed.push(true),
                            None if matches!(op, CmpOp::Eq) => allowed.push(false),
                            None => return fail(span, "only integer classes can be ordered"),
                        }
                    }
                }
                return Ok(self.atom(Atom::Table { vars: vec![*a, *b], allowed }));
            }
            (Value::Latent(Sym::Var(v)), other) | (other, Value::Latent(Sym::Var(v))) => {
                let flipped = matches!(r, Value::Latent(Sym::Var(_))) && !matches!(l, Value::Latent(Sym::Var(_)));
                let mut allowed = Vec::new();
                for x in self.domain_of(*v).to_vec() {
                    let o = if matches(&x, other) {
                        Some(std::cmp::Ordering::Equal)
                    } else {
                        match (&x, other) {
                            (ClassValue::Int(i), Value::Int(j)) => Some(Int::from(*i).cmp(j)),
                            _ if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some(std::cmp::Ordering::Less),
                            _ => None,
                        }
                    };
                    let Some(o) = o else { return fail(span, "only integer classes can be ordered") };
                    allowed.push(crisp::holds(op, if flipped { o.reverse() } else { o }));
                }
                (vec![*v], allowed)
            }
            _ => return fail(span, format!("cannot compare {} with {}", l.describe(), r.describe())),
        };
        Ok(self.atom(Atom::Table { vars: allowed.0, allowed: allowed.1 }))
    }
}

impl Lin {
    fn plus(&self, other: &Lin, sign: &BigInt) -> Lin {
        let mut terms = self.terms.clone();
        for (v, t) in &other.terms {
            let entry = terms.entry(*v).or_insert_with(|| vec![BigInt::zero(); t.len()]);
            for (a, b) in entry.iter_mut().zip(t) {
                *a += b * sign;
            }
        }
        Lin { terms, constant: &self.constant + &other.constant * sign }
    }

    fn scaled(&self, c: &BigInt) -> Lin {
        Lin {
            terms: self.terms.iter().map(|(v, t)| (*v, t.iter().map(|x| x * c).collect())).collect(),
            constant: &self.constant * c,
        }
    }
}

fn value_int(v: &ClassValue) -> Option<BigInt> {
    match v {
        ClassValue::Int(i) => Some(BigInt::from(*i)),
        ClassValue::Str(_) => None,
    }
}
