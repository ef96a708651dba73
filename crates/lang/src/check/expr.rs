//! Typing of formula expressions.

use super::builtins;
use super::program::{Callee, ColumnId};
use super::types::*;
use super::{Checker, Global};
use crate::diag::{suggest, Diagnostic};
use crate::formula::*;
use crate::limits::{range_len, MAX_GROUND_TERMS};
use crate::source::Span;
use crate::spec::Value;

pub(super) type Scope = Vec<(String, Typed)>;

impl<'s> Checker<'s> {
    pub(super) fn expr(&mut self, e: &Expr, scope: &mut Scope) -> Typed {
        let t = self.expr_inner(e, scope);
        if self.record {
            self.types.insert(e.id, t.clone());
        }
        t
    }

    fn err(&mut self, span: Span, msg: impl Into<String>) -> Typed {
        self.report(Diagnostic::error(span, msg));
        Typed::unknown()
    }

    fn expr_inner(&mut self, e: &Expr, scope: &mut Scope) -> Typed {
        match &e.kind {
            ExprKind::Int { value, .. } => Typed { ty: Type::Int, latent: false, constant: value.map(Value::Int) },
            ExprKind::Float(_) => Typed::observed(Type::Real),
            ExprKind::Str(s) => Typed { ty: Type::Str, latent: false, constant: Some(Value::Str(s.clone())) },
            ExprKind::Bool(_) => Typed::observed(Type::Bool),
            ExprKind::Error => {
                self.poisoned = true;
                Typed::unknown()
            }
            ExprKind::Name(n) => self.name(n, e.span, scope),
            ExprKind::Attr { base, attr } => {
                let b = self.expr(base, scope);
                self.attr(&b, attr, e.id)
            }
            ExprKind::Index { base, index } => {
                let b = self.expr(base, scope);
                let i = self.expr(index, scope);
                self.index(&b, &i, index.span)
            }
            ExprKind::Slice { base, lower, upper, step } => {
                let b = self.expr(base, scope);
                for part in [lower, upper, step].into_iter().flatten() {
                    let t = self.expr(part, scope);
                    self.expect_observed_int(&t, part.span, "a slice bound");
                }
                match &b.ty {
                    Type::List(_) | Type::Str | Type::Unknown => b.clone(),
                    Type::Tuple(ts) => Typed { ty: Type::List(Box::new(self.unify_all(ts, e.span))), ..b.clone() },
                    other => {
                        let shown = self.show(other);
                        self.err(base.span, format!("cannot slice {shown}"))
                    }
                }
            }
            ExprKind::Call { func, args } => self.call(func, args, e.span, scope),
            ExprKind::Unary { op, operand } => {
                let t = self.expr(operand, scope);
                self.unary(*op, t, operand.span)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(lhs, scope);
                let r = self.expr(rhs, scope);
                self.binary(*op, l, r, lhs.span, rhs.span)
            }
            ExprKind::Compare { first, rest } => {
                if let [(CmpOp::Eq | CmpOp::Ne, _, right)] = rest.as_slice() {
                    self.path_operands.extend([first.span, right.span]);
                }
                let mut left = self.expr(first, scope);
                let mut left_e: &Expr = first;
                let mut latent = left.latent;
                let mut unknown = left.ty == Type::Unknown;
                let mut column = None;
                for (op, op_span, right_e) in rest {
                    let right = self.expr(right_e, scope);
                    if left.latent && right.latent && (is_path_call(left_e) || is_path_call(right_e)) {
                        self.report(
                            Diagnostic::error(
                                left_e.span.to(right_e.span),
                                "the shortest path over latent costs can only be compared with an observed path",
                            )
                            .with_note("it is evaluated as a black box on sampled costs (`inference: sample`)"),
                        );
                    }
                    latent |= right.latent;
                    unknown |= right.ty == Type::Unknown;
                    column = column.or(self.compare(*op, &left, &right, left_e.span, right_e.span, *op_span));
                    left = right;
                    left_e = right_e;
                }
                let ty = match column {
                    _ if unknown => Type::Unknown,
                    Some(d) => Type::Column { dataset: d, elem: Box::new(Type::Bool) },
                    None => Type::Bool,
                };
                Typed { ty, latent, constant: None }
            }
            ExprKind::IfElse { cond, then, otherwise } => {
                let c = self.expr(cond, scope);
                self.expect_bool(&c, cond.span, "the condition of `if`");
                let a = self.expr(then, scope);
                let b = self.expr(otherwise, scope);
                let ty = self.unify(&a.ty, &b.ty, e.span, "the two branches of `if ... else`");
                Typed { ty, latent: c.latent || a.latent || b.latent, constant: None }
            }
            ExprKind::List(items) => {
                let ts: Vec<Typed> = items.iter().map(|i| self.expr(i, scope)).collect();
                let tys: Vec<Type> = ts.iter().map(|t| t.ty.clone()).collect();
                let elem = self.unify_all(&tys, e.span);
                Typed { ty: Type::List(Box::new(elem)), latent: ts.iter().any(|t| t.latent), constant: None }
            }
            ExprKind::Tuple(items) => {
                let ts: Vec<Typed> = items.iter().map(|i| self.expr(i, scope)).collect();
                Typed {
                    ty: Type::Tuple(ts.iter().map(|t| t.ty.clone()).collect()),
                    latent: ts.iter().any(|t| t.latent),
                    constant: None,
                }
            }
            ExprKind::Comprehension { element, clauses, .. } => {
                let depth = scope.len();
                let mut latent = false;
                for c in clauses {
                    let it = self.expr(&c.iter, scope);
                    latent |= it.latent;
                    let elem = self.element_of(&it, c.iter.span);
                    self.bind(&c.target, Typed { ty: elem, latent: it.latent, constant: None }, scope);
                    for cond in &c.conds {
                        let t = self.expr(cond, scope);
                        latent |= t.latent;
                        self.expect_bool(&t, cond.span, "a comprehension's `if`");
                    }
                }
                let el = self.expr(element, scope);
                scope.truncate(depth);
                Typed { ty: Type::List(Box::new(el.ty)), latent: latent || el.latent, constant: None }
            }
        }
    }

    fn name(&mut self, n: &str, span: Span, scope: &Scope) -> Typed {
        if let Some((_, t)) = scope.iter().rev().find(|(k, _)| k == n) {
            return t.clone();
        }
        match self.globals.get(n).cloned() {
            Some(Global::Instance { dataset, group }) => {
                self.effects.instances = true;
                let one = |origin| Type::Instance { dataset, origin };
                Typed::observed(if group {
                    Type::List(Box::new(one(Origin::Element(n.to_string()))))
                } else {
                    one(Origin::Var(n.to_string()))
                })
            }
            Some(Global::Dataset(d)) => {
                self.effects.columns = true;
                Typed::observed(Type::Dataset(d))
            }
            Some(Global::Learnable(_)) => {
                self.report(Diagnostic::error(
                    span,
                    format!("`{n}` is a learnable; apply it to an instance, e.g. `{n}(x)`"),
                ));
                Typed::unknown()
            }
            Some(Global::Rule(r)) => {
                let args = self.spec.rules[r].args.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
                self.report(Diagnostic::error(span, format!("`{n}` is a rule; call it: `{n}({args})`")));
                Typed::unknown()
            }
            None => {
                if let Some(domains) = self.symbols.get(n).cloned() {
                    let ty = if domains.len() == 1 { Type::Category(domains[0]) } else { Type::Symbol(n.to_string()) };
                    return Typed { ty, latent: false, constant: Some(Value::Str(n.to_string())) };
                }
                if let Some((_, _, _, sig)) = builtins::Builtin::lookup(n) {
                    self.report(Diagnostic::error(span, format!("`{n}` is a built-in function; call it: `{sig}`")));
                    return Typed::unknown();
                }
                if self.maybe_unreadable(n, &["data", "instances", "values"]) {
                    return Typed::unknown();
                }
                let mut names: Vec<String> = scope.iter().map(|(k, _)| k.clone()).collect();
                names.extend(self.globals.keys().cloned());
                names.extend(self.symbols.keys().cloned());
                names.extend(builtins::names().map(String::from));
                names.sort();
                let d = Diagnostic::error(span, format!("unknown name `{n}`")).with_label("not defined");
                let d = suggest(d, n, names.iter().map(String::as_str));
                let d = if self.active.is_empty() {
                    d
                } else {
                    d.with_note(format!(
                        "inside rule `{}`",
                        self.spec.rules[*self.active.last().unwrap_or(&0)].name.name
                    ))
                };
                self.report(d);
                Typed::unknown()
            }
        }
    }

    fn attr(&mut self, base: &Typed, attr: &Ident, id: ExprId) -> Typed {
        let (dataset, column) = match &base.ty {
            Type::Instance { dataset, .. } => (*dataset, false),
            Type::Dataset(d) => (*d, true),
            Type::Unknown => return Typed::unknown(),
            other => {
                let shown = self.show(other);
                return self
                    .err(attr.span, format!("`.{}` needs an instance or a dataset, but this is {shown}", attr.name));
            }
        };
        let Some(ty) = self.columns[dataset].get(&attr.name).cloned() else {
            self.no_column(dataset, attr);
            return Typed::unknown();
        };
        if let Some(column) = self.spec.datasets[dataset].columns().position(|c| c.name.name == attr.name) {
            let read = self.attributes.entry(id).or_default();
            if !read.iter().any(|c| c.dataset == dataset) {
                read.push(ColumnId { dataset, column });
            }
        }
        let ty = if column { Type::Column { dataset, elem: Box::new(ty) } } else { ty };
        Typed { ty, latent: base.latent, constant: None }
    }

    fn index(&mut self, base: &Typed, index: &Typed, index_span: Span) -> Typed {
        let latent = base.latent || index.latent;
        match &base.ty {
            Type::Unknown => Typed::unknown().with_latent(latent),
            Type::List(elem) => {
                self.expect_observed_int(index, index_span, "an index");
                Typed { ty: (**elem).clone(), latent, constant: None }
            }
            Type::Tuple(ts) => match &index.constant {
                Some(Value::Int(i)) if (*i as usize) < ts.len() && *i >= 0 => {
                    Typed { ty: ts[*i as usize].clone(), latent, constant: None }
                }
                Some(Value::Int(i)) => {
                    self.err(index_span, format!("index {i} is out of range for a tuple of {}", ts.len()))
                }
                _ => {
                    let ty = self.unify_all(ts, index_span);
                    self.expect_observed_int(index, index_span, "an index");
                    Typed { ty, latent, constant: None }
                }
            },
            Type::Column { dataset, .. } => match index.ty.split_column() {
                (Some(d), Type::Bool) if d == *dataset => Typed { ty: base.ty.clone(), latent, constant: None },
                (_, Type::Unknown) => Typed::unknown().with_latent(latent),
                _ => {
                    let shown = self.show(&index.ty);
                    self.report(
                        Diagnostic::error(
                            index_span,
                            format!("a column is selected by a condition on its rows, not by {shown}"),
                        )
                        .with_help("e.g. `predicted[adult.race == 'White']`"),
                    );
                    Typed::unknown()
                }
            },
            Type::Instance { dataset, .. } if self.spec.unreadable.any_column(&self.dataset_names[*dataset]) => {
                Typed::unknown().with_latent(latent)
            }
            Type::Instance { .. } => self.err(index_span, "an instance's columns are read with `.`, e.g. `x.column`"),
            // The prototype's instances were whole batches: `person` for the rows of `adult`.
            other if matches!(index.ty, Type::Bool | Type::Unknown) => {
                let shown = self.show(other);
                self.report(
                    Diagnostic::error(index_span, format!("a condition selects rows of a column, but this is {shown}, one example's value"))
                        .with_help("pass whole columns, read from the dataset (`DATASET.column`, `net(DATASET) == value`), not one example's values (`x.column`, `net(x)`)"),
                );
                Typed::unknown()
            }
            other => {
                let shown = self.show(other);
                self.err(index_span, format!("cannot index {shown}"))
            }
        }
    }

    fn expect_observed_int(&mut self, t: &Typed, span: Span, what: &str) {
        if t.latent {
            self.report(Diagnostic::error(span, format!("{what} must be observed, but this depends on a learnable")));
        } else if !matches!(t.ty.num(&self.domains), Some(Num::Int | Num::Unknown)) {
            let shown = self.show(&t.ty);
            self.report(Diagnostic::error(span, format!("{what} must be an integer, found {shown}")));
        }
    }

    fn expect_bool(&mut self, t: &Typed, span: Span, what: &str) {
        if !t.ty.split_column().1.is_bool() {
            let shown = self.show(&t.ty);
            self.report(Diagnostic::error(span, format!("{what} must be true or false, found {shown}")));
        }
    }

    /// The type of the items of something iterated over.
    fn element_of(&mut self, t: &Typed, span: Span) -> Type {
        match &t.ty {
            Type::List(e) => (**e).clone(),
            Type::Tuple(ts) => self.unify_all(ts, span),
            Type::Column { elem, .. } => (**elem).clone(),
            Type::Str => Type::Str,
            Type::Unknown => Type::Unknown,
            other => {
                let shown = self.show(other);
                self.err(span, format!("cannot iterate over {shown}")).ty
            }
        }
    }

    fn bind(&mut self, target: &Target, t: Typed, scope: &mut Scope) {
        match target {
            Target::Name(i) => scope.push((i.name.clone(), t)),
            Target::Tuple(items, span) => {
                let parts: Vec<Type> = match &t.ty {
                    Type::Tuple(ts) if ts.len() == items.len() => ts.clone(),
                    Type::Tuple(ts) => {
                        self.report(Diagnostic::error(
                            *span,
                            format!("cannot unpack {} values into {} names", ts.len(), items.len()),
                        ));
                        vec![Type::Unknown; items.len()]
                    }
                    Type::List(e) => vec![(**e).clone(); items.len()],
                    Type::Unknown => vec![Type::Unknown; items.len()],
                    other => {
                        let shown = self.show(other);
                        self.report(Diagnostic::error(
                            *span,
                            format!("cannot unpack {shown} into {} names", items.len()),
                        ));
                        vec![Type::Unknown; items.len()]
                    }
                };
                for (item, ty) in items.iter().zip(parts) {
                    self.bind(item, Typed { ty, latent: t.latent, constant: None }, scope);
                }
            }
        }
    }

    fn unify(&mut self, a: &Type, b: &Type, span: Span, what: &str) -> Type {
        match (a, b) {
            _ if a == b => a.clone(),
            (Type::Unknown, t) | (t, Type::Unknown) => t.clone(),
            (Type::Instance { dataset: d1, .. }, Type::Instance { dataset: d2, .. }) if d1 == d2 => a.clone(),
            (Type::Symbol(s), Type::Category(d)) | (Type::Category(d), Type::Symbol(s))
                if self.domains[*d].contains(&Value::Str(s.clone())) =>
            {
                Type::Category(*d)
            }
            (Type::List(x), Type::List(y)) => Type::List(Box::new(self.unify(x, y, span, what))),
            (Type::Category(x), Type::Category(y)) if self.same_values(*x, *y) => a.clone(),
            _ => match (a.num(&self.domains), b.num(&self.domains)) {
                (Some(Num::Int), Some(Num::Int)) => Type::Int,
                (Some(_), Some(_)) => Type::Real,
                _ => {
                    let (sa, sb) = (self.show(a), self.show(b));
                    self.report(Diagnostic::error(span, format!("{what} have different types: {sa} and {sb}")));
                    Type::Unknown
                }
            },
        }
    }

    /// Columns declared with the same values (the five suits of a hand, one YAML anchor) hold
    /// values of one kind: they compare and list together.
    fn same_values(&self, a: DomainId, b: DomainId) -> bool {
        self.domains[a].raw == self.domains[b].raw
    }

    fn unify_all(&mut self, ts: &[Type], span: Span) -> Type {
        let mut acc = Type::Unknown;
        for t in ts {
            acc = self.unify(&acc, t, span, "the items");
        }
        acc
    }

    fn call(&mut self, func: &Expr, args: &[Expr], span: Span, scope: &mut Scope) -> Typed {
        let ExprKind::Name(name) = &func.kind else {
            for a in args {
                self.expr(a, scope);
            }
            return self.err(func.span, "only named functions can be called: a learnable, a rule or a built-in");
        };
        let typed: Vec<Typed> = args.iter().map(|a| self.expr(a, scope)).collect();
        let spans: Vec<Span> = args.iter().map(|a| a.span).collect();
        if scope.iter().any(|(k, _)| k == name) {
            return self.err(func.span, format!("`{name}` is a variable here, not a function"));
        }
        match self.globals.get(name).cloned() {
            Some(Global::Learnable(l)) => {
                self.calls.insert(func.id, Callee::Learnable(l));
                self.apply_learnable(l, name, &typed, &spans, span)
            }
            Some(Global::Rule(r)) => {
                self.calls.insert(func.id, Callee::Rule(r));
                self.used_rules.insert(r);
                let arity = self.spec.rules[r].args.len();
                if typed.len() != arity {
                    let args = self.spec.rules[r].args.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
                    self.report(
                        Diagnostic::error(
                            span,
                            format!("rule `{name}` takes {arity} argument{}, {} given", plural(arity), typed.len()),
                        )
                        .with_note(format!("defined as `{name}({args})`")),
                    );
                    return Typed::unknown();
                }
                let t = self.instantiate(r, typed.iter().map(|t| Typed { constant: None, ..t.clone() }).collect());
                let latent = typed.iter().any(|t| t.latent);
                t.with_latent(latent)
            }
            Some(_) if self.clashed.contains(name) => {
                self.poisoned = true;
                Typed::unknown()
            }
            Some(_) => self.err(func.span, format!("`{name}` is not a function")),
            None => match builtins::Builtin::lookup(name) {
                Some((builtin, min, max, sig)) => {
                    self.calls.insert(func.id, Callee::Builtin(builtin));
                    if typed.len() < min || max.is_some_and(|m| typed.len() > m) {
                        self.report(
                            Diagnostic::error(
                                span,
                                format!("`{name}` takes {}, {} given", arity_text(min, max), typed.len()),
                            )
                            .with_note(format!("usage: {sig}")),
                        );
                        return Typed::unknown();
                    }
                    let latent = typed.iter().any(|t| t.latent);
                    let t = self.builtin(name, &typed, &spans, span);
                    t.with_latent(latent && name != "len")
                }
                None if self.maybe_unreadable(name, &["learnables", "knowledge"]) => Typed::unknown(),
                None => {
                    let mut names: Vec<String> = self.globals.keys().cloned().collect();
                    names.extend(builtins::names().map(String::from));
                    names.sort();
                    let d =
                        Diagnostic::error(func.span, format!("unknown function `{name}`")).with_label("not defined");
                    let d = match name.as_str() {
                        // The prototype's sample variance (`variance(ranks) == 2.5` for five in a row).
                        "variance" => d.with_help("SKI-lang has no `variance`: say what it tests, e.g. `max(r) - min(r) == 4 and all_different(r)` for five ranks in a row"),
                        _ => d,
                    };
                    self.report(suggest(d, name, names.iter().map(String::as_str)));
                    Typed::unknown()
                }
            },
        }
    }

    fn apply_learnable(&mut self, l: usize, name: &str, args: &[Typed], spans: &[Span], span: Span) -> Typed {
        if args.len() != 1 {
            return self.err(span, format!("learnable `{name}` takes one instance, {} given", args.len()));
        }
        let Some(net) = self.nets[l].clone() else {
            return Typed::unknown().with_latent(true);
        };
        let dataset_name = self.dataset_names[net.dataset].clone();
        let ty = super::grid_type(&net.output.ty, Type::Category(net.domain));
        let latent = Typed { ty, latent: true, constant: None };
        match &args[0].ty {
            Type::Instance { dataset, origin } if *dataset == net.dataset => {
                let shown = format!("{name}({origin})");
                if !self.effects.latent.contains(&shown) {
                    self.effects.latent.push(shown);
                }
                latent
            }
            Type::Dataset(d) if *d == net.dataset && net.output.ty.cells() > 1 => self.err(
                spans[0],
                format!("`{name}` predicts a grid per instance; column-wise constraints read one class per row"),
            ),
            Type::Dataset(d) if *d == net.dataset => {
                let shown = format!("{name}({dataset_name})");
                if !self.effects.latent.contains(&shown) {
                    self.effects.latent.push(shown);
                }
                Typed { ty: Type::Column { dataset: *d, elem: Box::new(latent.ty) }, ..latent }
            }
            Type::Unknown => Typed::unknown().with_latent(true),
            Type::List(inner) if matches!(**inner, Type::Instance { .. }) => {
                self.report(
                    Diagnostic::error(spans[0], format!("`{name}` takes one instance, this is a list of instances"))
                        .with_help(format!("apply it to each: `[{name}(x) for x in ...]`")),
                );
                Typed::unknown().with_latent(true)
            }
            other => {
                let shown = self.show(other);
                self.report(
                    Diagnostic::error(
                        spans[0],
                        format!("`{name}` takes an instance of `{dataset_name}`, found {shown}"),
                    )
                    .with_note(format!("learnable `{name}` reads `{dataset_name}`")),
                );
                Typed::unknown().with_latent(true)
            }
        }
    }

    fn unary(&mut self, op: UnaryOp, t: Typed, span: Span) -> Typed {
        let (col, elem) = t.ty.split_column();
        let col = col.map(|c| (c, ()));
        let wrap = |ty: Type| match col {
            Some((d, _)) => Type::Column { dataset: d, elem: Box::new(ty) },
            None => ty,
        };
        match op {
            UnaryOp::Not | UnaryOp::Invert => {
                self.expect_bool(
                    &t,
                    span,
                    if op == UnaryOp::Not { "the operand of `not`" } else { "the operand of `~`" },
                );
                let ty = if t.ty == Type::Unknown { Type::Unknown } else { wrap(Type::Bool) };
                Typed { ty, latent: t.latent, constant: None }
            }
            UnaryOp::Neg | UnaryOp::Pos => match elem.num(&self.domains) {
                Some(Num::Int) => Typed {
                    ty: wrap(Type::Int),
                    latent: t.latent,
                    constant: t.constant.and_then(|c| match c {
                        Value::Int(i) if op == UnaryOp::Neg => i.checked_neg().map(Value::Int),
                        c => Some(c),
                    }),
                },
                Some(Num::Real) => Typed { ty: wrap(Type::Real), latent: t.latent, constant: None },
                Some(Num::Unknown) => t,
                None => {
                    let shown = self.show(&t.ty);
                    self.err(span, format!("a sign applies to numbers, not to {shown}"))
                }
            },
        }
    }

    fn columns_of(&mut self, a: &Type, b: &Type, span: Span) -> Option<usize> {
        match (a.split_column().0, b.split_column().0) {
            (Some(x), Some(y)) if x != y => {
                let (nx, ny) = (self.dataset_names[x].clone(), self.dataset_names[y].clone());
                self.report(Diagnostic::error(span, format!("combines columns of two datasets, `{nx}` and `{ny}`")));
                Some(x)
            }
            (x, y) => x.or(y),
        }
    }

    fn binary(&mut self, op: BinOp, l: Typed, r: Typed, ls: Span, rs: Span) -> Typed {
        let span = ls.to(rs);
        let latent = l.latent || r.latent;
        let col = self.columns_of(&l.ty, &r.ty, span);
        let wrap = |ty: Type| match col {
            Some(d) => Type::Column { dataset: d, elem: Box::new(ty) },
            None => ty,
        };
        let (le, re) = (l.ty.split_column().1.clone(), r.ty.split_column().1.clone());
        match op {
            BinOp::And | BinOp::Or | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                for (t, s) in [(&le, ls), (&re, rs)] {
                    if !t.is_bool() {
                        let shown = self.show(t);
                        let mut d =
                            Diagnostic::error(s, format!("`{}` combines conditions, but this is {shown}", op.symbol()));
                        if matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor) {
                            d = d.with_help(format!(
                                "`{}` binds tighter than comparisons: write `(a > 1) {} (b < 2)`, or use `{}`",
                                op.symbol(),
                                op.symbol(),
                                if op == BinOp::BitOr { "or" } else { "and" }
                            ));
                        }
                        self.report(d);
                        break; // one mistake, usually precedence: say it once
                    }
                }
                let unknown = le == Type::Unknown || re == Type::Unknown;
                Typed { ty: if unknown { Type::Unknown } else { wrap(Type::Bool) }, latent, constant: None }
            }
            BinOp::Add if matches!((&le, &re), (Type::List(_), Type::List(_))) => {
                let ty = self.unify(&le, &re, span, "the two lists");
                Typed { ty, latent, constant: None }
            }
            BinOp::Add if le == Type::Str && re == Type::Str => Typed { ty: Type::Str, latent, constant: None },
            _ => {
                let ln = le.num(&self.domains);
                let rn = re.num(&self.domains);
                let (Some(ln), Some(rn)) = (ln, rn) else {
                    let (bad, s) = if ln.is_none() { (&le, ls) } else { (&re, rs) };
                    let shown = self.show(bad);
                    let mut d = Diagnostic::error(s, format!("`{}` applies to numbers, not to {shown}", op.symbol()));
                    if let Type::Category(dm) = bad {
                        d = d.with_note(format!(
                            "the values of `{}` are names; compare them with `==`",
                            self.domains[*dm].name
                        ));
                    }
                    self.report(d);
                    return Typed::unknown().with_latent(latent);
                };
                let ty = match (op, ln, rn) {
                    (_, Num::Unknown, _) | (_, _, Num::Unknown) => Type::Unknown,
                    (BinOp::Div, _, _) => Type::Real,
                    (_, Num::Int, Num::Int) => Type::Int,
                    _ => Type::Real,
                };
                if let (BinOp::Div | BinOp::FloorDiv | BinOp::Mod, Some(Value::Int(0))) = (op, &r.constant) {
                    self.report(Diagnostic::error(rs, "division by zero"));
                }
                // Integer constants are folded, so that `range(10 ** 12)` is measured here.
                let constant = match (&l.constant, &r.constant) {
                    (Some(Value::Int(a)), Some(Value::Int(b))) => fold_int(op, *a, *b).map(Value::Int),
                    _ => None,
                };
                Typed { ty: wrap(ty), latent, constant }
            }
        }
    }

    /// Checks one comparison; returns the dataset when it compares columns row by row.
    fn compare(&mut self, op: CmpOp, l: &Typed, r: &Typed, ls: Span, rs: Span, op_span: Span) -> Option<usize> {
        let col = self.columns_of(&l.ty, &r.ty, ls.to(rs));
        let (le, re) = (l.ty.split_column().1.clone(), r.ty.split_column().1.clone());
        match op {
            CmpOp::Eq | CmpOp::Ne => self.comparable(&le, l, &re, r, ls, rs, op_span),
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                for (t, s) in [(&le, ls), (&re, rs)] {
                    if t.num(&self.domains).is_none() {
                        let shown = self.show(t);
                        self.report(Diagnostic::error(s, format!("`{}` orders numbers, not {shown}", op.symbol())));
                    }
                }
            }
            CmpOp::In | CmpOp::NotIn => match &re {
                Type::List(e) => {
                    let e = Typed::observed((**e).clone());
                    self.comparable(&le, l, &e.ty, &e, ls, rs, op_span)
                }
                Type::Tuple(ts) => {
                    for t in ts.clone() {
                        self.comparable(&le, l, &t, &Typed::observed(t.clone()), ls, rs, op_span);
                    }
                }
                Type::Str | Type::Unknown => {}
                other => {
                    let shown = self.show(other);
                    self.report(Diagnostic::error(
                        rs,
                        format!("`{}` needs a list on its right, found {shown}", op.symbol()),
                    ));
                }
            },
        }
        col
    }

    #[allow(clippy::too_many_arguments)]
    fn comparable(&mut self, a: &Type, at: &Typed, b: &Type, bt: &Typed, as_: Span, bs: Span, op_span: Span) {
        let ok = match (a, b) {
            (Type::Unknown, _) | (_, Type::Unknown) => true,
            (Type::Category(d), other) | (other, Type::Category(d))
                if !self.domains[*d].integer || other.num(&self.domains).is_none() =>
            {
                let (value, value_span) = if matches!(a, Type::Category(_)) { (bt, bs) } else { (at, as_) };
                return self.category_compare(*d, other, value, value_span, op_span);
            }
            (Type::Symbol(_), Type::Symbol(_)) => true,
            (Type::Str, Type::Str) | (Type::Bool, Type::Bool) => true,
            (Type::List(_), Type::List(_)) | (Type::Tuple(_), Type::Tuple(_)) => true,
            _ => a.num(&self.domains).is_some() && b.num(&self.domains).is_some(),
        };
        if !ok {
            let (sa, sb) = (self.show(a), self.show(b));
            self.report(
                Diagnostic::error(op_span, format!("cannot compare {sa} with {sb}"))
                    .with_label("compares values of different types"),
            );
        }
    }

    fn category_compare(&mut self, d: DomainId, other: &Type, value: &Typed, span: Span, op_span: Span) {
        let dom = self.domains[d].clone();
        match other {
            Type::Category(e) if *e == d || self.same_values(*e, d) => {}
            Type::Category(e) => {
                let other_name = self.domains[*e].name.clone();
                self.report(Diagnostic::error(
                    op_span,
                    format!("compares values of `{}` with values of `{other_name}`", dom.name),
                ));
            }
            Type::Symbol(s) if dom.contains(&Value::Str(s.clone())) => {}
            Type::Str | Type::Symbol(_) | Type::Int => match &value.constant {
                Some(v) if dom.contains(v) => {}
                Some(v) => {
                    let shown: Vec<String> = dom.values.iter().take(12).map(|v| format!("`{v}`")).collect();
                    let diag = Diagnostic::error(span, format!("`{v}` is not a value of `{}`", dom.name));
                    let diag = suggest(diag, &v.to_string(), dom.values.iter().map(String::as_str));
                    self.report(diag.with_note(format!(
                        "its values are: {}{}",
                        shown.join(", "),
                        if dom.values.len() > 12 { ", …" } else { "" }
                    )));
                }
                None if matches!(other, Type::Str) && !dom.integer => {}
                None => {
                    let shown = self.show(other);
                    self.report(Diagnostic::error(span, format!("compares `{}` with {shown}", dom.name)));
                }
            },
            other => {
                let shown = self.show(other);
                self.report(Diagnostic::error(
                    op_span,
                    format!("cannot compare values of `{}` with {shown}", dom.name),
                ));
            }
        }
    }

    fn builtin(&mut self, name: &str, args: &[Typed], spans: &[Span], span: Span) -> Typed {
        let first = &args[0];
        let items = |c: &mut Self, k: usize| c.element_of(&args[k], spans[k]);
        match name {
            "len" => {
                if !matches!(
                    first.ty,
                    Type::List(_) | Type::Tuple(_) | Type::Str | Type::Column { .. } | Type::Dataset(_) | Type::Unknown
                ) {
                    let shown = self.show(&first.ty);
                    return self.err(spans[0], format!("`len` needs a list, found {shown}"));
                }
                Typed::observed(Type::Int)
            }
            "abs" => {
                let t = self.unary(UnaryOp::Pos, first.clone(), spans[0]);
                Typed { constant: None, ..t }
            }
            "sum" | "mean" => {
                let elem = items(self, 0);
                match elem.num(&self.domains) {
                    Some(n) => Typed::observed(match (name, n) {
                        ("mean", _) => Type::Real,
                        (_, Num::Int) => Type::Int,
                        (_, Num::Real) => Type::Real,
                        _ => Type::Unknown,
                    }),
                    None => {
                        let shown = self.show(&elem);
                        self.err(spans[0], format!("`{name}` adds numbers, but the items are {shown}"))
                    }
                }
            }
            "count" | "all" | "any" => {
                let elem = items(self, 0);
                if !elem.is_bool() {
                    let shown = self.show(&elem);
                    self.report(Diagnostic::error(
                        spans[0],
                        format!("`{name}` needs conditions (true or false), but the items are {shown}"),
                    ));
                }
                Typed::observed(if name == "count" { Type::Int } else { Type::Bool })
            }
            "min" | "max" => {
                let elems: Vec<Type> =
                    if args.len() == 1 { vec![items(self, 0)] } else { args.iter().map(|a| a.ty.clone()).collect() };
                for (t, s) in elems.iter().zip(spans) {
                    if t.num(&self.domains).is_none() {
                        let shown = self.show(t);
                        self.report(Diagnostic::error(*s, format!("`{name}` compares numbers, not {shown}")));
                        return Typed::unknown();
                    }
                }
                let ty = self.unify_all(&elems, span);
                Typed::observed(match ty {
                    Type::Category(_) | Type::Bool => Type::Int,
                    t => t,
                })
            }
            "enumerate" => {
                let elem = items(self, 0);
                Typed::observed(Type::List(Box::new(Type::Tuple(vec![Type::Int, elem]))))
            }
            "range" => {
                for (a, s) in args.iter().zip(spans) {
                    self.expect_observed_int(a, *s, "a bound of `range`");
                }
                let ints: Option<Vec<i64>> = args
                    .iter()
                    .map(|a| match a.constant {
                        Some(Value::Int(k)) => Some(k),
                        _ => None,
                    })
                    .collect();
                let len = match ints.as_deref() {
                    Some(&[stop]) => range_len(0, stop, 1),
                    Some(&[start, stop]) => range_len(start, stop, 1),
                    Some(&[start, stop, step]) => range_len(start, stop, step),
                    _ => None,
                };
                if let Some(n) = len.filter(|&n| n > MAX_GROUND_TERMS as u128) {
                    return self.err(
                        span,
                        format!(
                            "`range` of {n} integers is beyond the {MAX_GROUND_TERMS} terms one example may ground to"
                        ),
                    );
                }
                Typed::observed(Type::List(Box::new(Type::Int)))
            }
            "zip" => {
                let elems: Vec<Type> = (0..args.len()).map(|k| items(self, k)).collect();
                Typed::observed(Type::List(Box::new(Type::Tuple(elems))))
            }
            "combinations" => {
                let elem = items(self, 0);
                self.expect_observed_int(&args[1], spans[1], "the size of the combinations");
                let ty = match &args[1].constant {
                    Some(Value::Int(k)) if (1..=16).contains(k) => Type::Tuple(vec![elem; *k as usize]),
                    Some(Value::Int(k)) => {
                        return self.err(spans[1], format!("combinations of size {k} are not supported (1 to 16)"))
                    }
                    _ => Type::List(Box::new(elem)),
                };
                Typed::observed(Type::List(Box::new(ty)))
            }
            "sorted" => {
                let elem = items(self, 0);
                if elem.num(&self.domains).is_none() && elem != Type::Str {
                    let shown = self.show(&elem);
                    return self.err(spans[0], format!("`sorted` orders numbers or strings, not {shown}"));
                }
                Typed::observed(Type::List(Box::new(elem)))
            }
            "all_different" => {
                if args.len() == 1 {
                    items(self, 0);
                }
                Typed::observed(Type::Bool)
            }
            "shortest_path" => {
                let elem = items(self, 0);
                if elem.num(&self.domains).is_none_or(|n| n == Num::Real) {
                    let shown = self.show(&elem);
                    return self
                        .err(spans[0], format!("`shortest_path` needs integer costs, but the items are {shown}"));
                }
                if first.latent && !self.measuring {
                    self.black_boxes.push(span);
                    if !self.path_operands.contains(&span) {
                        self.report(
                            Diagnostic::error(
                                span,
                                "the shortest path over latent costs can only be compared with an observed path",
                            )
                            .with_help("compare it whole: `shortest_path(costs) == [t.on_path for t in tiles]`")
                            .with_note("it is evaluated as a black box on sampled costs (`inference: sample`)"),
                        );
                    }
                }
                Typed::observed(Type::List(Box::new(Type::Bool)))
            }
            "exactly" | "at_least" | "at_most" => {
                self.expect_observed_int(first, spans[0], &format!("the count of `{name}`"));
                let elem = items(self, 1);
                if !elem.is_bool() {
                    let shown = self.show(&elem);
                    self.report(
                        Diagnostic::error(spans[1], format!("`{name}` counts conditions, but the items are {shown}"))
                            .with_note(format!("usage: {name}(k, conditions)")),
                    );
                }
                Typed::observed(Type::Bool)
            }
            _ => Typed::unknown(),
        }
    }
}

/// Whether `e` calls `shortest_path` (by name: nothing else may be called so).
fn is_path_call(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Call { func, .. } if matches!(&func.kind, ExprKind::Name(n) if n == "shortest_path"))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn arity_text(min: usize, max: Option<usize>) -> String {
    match max {
        Some(m) if m == min => format!("{min} argument{}", plural(min)),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {min} argument{}", plural(min)),
    }
}

/// `a op b` on integers as Python computes it (floor division and modulo), or `None` when it
/// overflows 64 bits or is not an integer operation.
fn fold_int(op: BinOp, a: i64, b: i64) -> Option<i64> {
    match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::FloorDiv if b != 0 => Some(a.checked_div(b)? - ((a % b != 0 && (a < 0) != (b < 0)) as i64)),
        BinOp::Mod if b != 0 => Some(a.checked_rem(b).map(|m| if m != 0 && (m < 0) != (b < 0) { m + b } else { m })?),
        BinOp::Pow => a.checked_pow(u32::try_from(b).ok()?),
        _ => None,
    }
}
