//! Recursive-descent parser with Python's precedence, from loosest to tightest:
//! `a if c else b`, `or`, `and`, `not`, comparisons (chained), `|`, `^`, `&`, `+ -`, `* / // %`,
//! unary `+ - ~`, `**` (right-associative), then calls, indexing, slicing and attributes.

use super::ast::*;
use super::lexer::{Kw, Tok, Token};
use crate::diag::Diagnostic;
use crate::source::Span;

/// Taller syntax trees than this are refused, so that no input can exhaust the stack of the
/// parser or of the passes that walk the tree. Chains such as `a + b + c` count one level per operator.
const MAX_DEPTH: usize = 200;
const EXPR_WEIGHT: usize = 4;

pub struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
    next_id: &'t mut u32,
}

type PResult<T> = Result<T, Diagnostic>;

pub fn parse(tokens: &[Token], next_id: &mut u32) -> PResult<Expr> {
    let mut p = Parser { tokens, pos: 0, depth: 0, next_id };
    let e = p.expr()?;
    if !matches!(p.peek(), Tok::Eof) {
        let t = p.token();
        return Err(Diagnostic::error(t.span, format!("unexpected {} after the end of the formula", describe(&t.tok)))
            .with_label("expected an operator or the end of the formula"));
    }
    Ok(e)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Name(n) => format!("name `{n}`"),
        Tok::Int(t) => format!("number `{t}`"),
        Tok::Float(f) => format!("number `{f}`"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Kw(k) => format!("keyword `{}`", format!("{k:?}").to_lowercase()),
        Tok::Op(o) => format!("`{o}`"),
        Tok::Eof => "the end of the formula".to_string(),
    }
}

impl<'t> Parser<'t> {
    fn token(&self) -> Token {
        self.tokens[self.pos.min(self.tokens.len() - 1)].clone()
    }

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.token();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn at_kw(&self, kw: Kw) -> bool {
        matches!(self.peek(), Tok::Kw(k) if *k == kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let at = self.at_op(op);
        if at {
            self.bump();
        }
        at
    }

    fn expect_op(&mut self, op: &str, opened: Option<Span>) -> PResult<Span> {
        if self.at_op(op) {
            return Ok(self.bump().span);
        }
        let t = self.token();
        let mut d = Diagnostic::error(t.span, format!("expected `{op}`, found {}", describe(&t.tok)));
        if let Some(open) = opened {
            d = Diagnostic::error(
                open,
                format!("this bracket is never closed: expected `{op}`, found {}", describe(&t.tok)),
            )
            .with_label("unclosed");
        }
        Err(d)
    }

    fn node(&mut self, span: Span, kind: ExprKind) -> Expr {
        let id = ExprId(*self.next_id);
        *self.next_id += 1;
        Expr { id, span, kind }
    }

    fn enter(&mut self) -> PResult<()> {
        self.enter_by(1)
    }

    fn enter_by(&mut self, levels: usize) -> PResult<()> {
        self.depth += levels;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::error(self.token().span, "the formula is nested too deeply"));
        }
        Ok(())
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        // Re-entering the whole precedence ladder (inside brackets, arguments, branches) costs
        // about twenty stack frames, so it weighs more than one operator of a chain.
        self.enter_by(EXPR_WEIGHT)?;
        let then = self.or_test()?;
        let e = if self.at_kw(Kw::If) {
            self.bump();
            let cond = self.or_test()?;
            if !self.at_kw(Kw::Else) {
                let t = self.token();
                return Err(Diagnostic::error(t.span, format!("expected `else`, found {}", describe(&t.tok)))
                    .with_help("a conditional expression reads `a if condition else b`"));
            }
            self.bump();
            let otherwise = self.expr()?;
            let span = then.span.to(otherwise.span);
            self.node(
                span,
                ExprKind::IfElse { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise) },
            )
        } else {
            then
        };
        self.depth -= EXPR_WEIGHT;
        Ok(e)
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.binary_level(|t| matches!(t, Tok::Kw(Kw::Or)).then_some(BinOp::Or), Self::and_test)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        self.binary_level(|t| matches!(t, Tok::Kw(Kw::And)).then_some(BinOp::And), Self::not_test)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        if self.at_kw(Kw::Not) {
            self.enter()?;
            let start = self.bump().span;
            let operand = self.not_test()?;
            self.depth -= 1;
            let span = start.to(operand.span);
            return Ok(self.node(span, ExprKind::Unary { op: UnaryOp::Not, operand: Box::new(operand) }));
        }
        self.comparison()
    }

    fn cmp_op(&self) -> Option<(CmpOp, usize)> {
        let op = match self.peek() {
            Tok::Op("==") => CmpOp::Eq,
            Tok::Op("!=") => CmpOp::Ne,
            Tok::Op("<") => CmpOp::Lt,
            Tok::Op("<=") => CmpOp::Le,
            Tok::Op(">") => CmpOp::Gt,
            Tok::Op(">=") => CmpOp::Ge,
            Tok::Kw(Kw::In) => CmpOp::In,
            Tok::Kw(Kw::Not) if matches!(self.peek_at(1), Tok::Kw(Kw::In)) => return Some((CmpOp::NotIn, 2)),
            _ => return None,
        };
        Some((op, 1))
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let depth = self.depth;
        let first = self.bit_or()?;
        let mut rest = Vec::new();
        while let Some((op, n)) = self.cmp_op() {
            self.enter()?;
            let mut op_span = self.bump().span;
            if n == 2 {
                op_span = op_span.to(self.bump().span);
            }
            rest.push((op, op_span, self.bit_or()?));
        }
        self.depth = depth;
        if rest.is_empty() {
            return Ok(first);
        }
        let span = first.span.to(rest.last().map_or(first.span, |r| r.2.span));
        Ok(self.node(span, ExprKind::Compare { first: Box::new(first), rest }))
    }

    /// One left-associative level of binary operators: `next (op next)*`.
    fn binary_level(
        &mut self,
        op_at: fn(&Tok) -> Option<BinOp>,
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let depth = self.depth;
        let mut lhs = next(self)?;
        while let Some(op) = op_at(self.peek()) {
            self.bump();
            self.enter()?;
            let rhs = next(self)?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(span, ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) });
        }
        self.depth = depth;
        Ok(lhs)
    }

    fn bit_or(&mut self) -> PResult<Expr> {
        self.binary_level(|t| matches!(t, Tok::Op("|")).then_some(BinOp::BitOr), Self::bit_xor)
    }

    fn bit_xor(&mut self) -> PResult<Expr> {
        self.binary_level(|t| matches!(t, Tok::Op("^")).then_some(BinOp::BitXor), Self::bit_and)
    }

    fn bit_and(&mut self) -> PResult<Expr> {
        self.binary_level(|t| matches!(t, Tok::Op("&")).then_some(BinOp::BitAnd), Self::arith)
    }

    fn arith(&mut self) -> PResult<Expr> {
        self.binary_level(
            |t| match t {
                Tok::Op("+") => Some(BinOp::Add),
                Tok::Op("-") => Some(BinOp::Sub),
                _ => None,
            },
            Self::term,
        )
    }

    fn term(&mut self) -> PResult<Expr> {
        self.binary_level(
            |t| match t {
                Tok::Op("*") => Some(BinOp::Mul),
                Tok::Op("//") => Some(BinOp::FloorDiv),
                Tok::Op("/") => Some(BinOp::Div),
                Tok::Op("%") => Some(BinOp::Mod),
                _ => None,
            },
            Self::factor,
        )
    }

    fn factor(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Op("-") => UnaryOp::Neg,
            Tok::Op("+") => UnaryOp::Pos,
            Tok::Op("~") => UnaryOp::Invert,
            _ => return self.power(),
        };
        self.enter()?;
        let start = self.bump().span;
        let operand = self.factor()?;
        self.depth -= 1;
        let span = start.to(operand.span);
        Ok(self.node(span, ExprKind::Unary { op, operand: Box::new(operand) }))
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary()?;
        if self.eat_op("**") {
            self.enter()?;
            let exp = self.factor()?;
            self.depth -= 1;
            let span = base.span.to(exp.span);
            return Ok(self.node(span, ExprKind::Binary { op: BinOp::Pow, lhs: Box::new(base), rhs: Box::new(exp) }));
        }
        Ok(base)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            if self.at_op("(") {
                let open = self.bump().span;
                let args = self.call_args(open)?;
                let close = self.expect_op(")", Some(open))?;
                let span = e.span.to(close);
                e = self.node(span, ExprKind::Call { func: Box::new(e), args });
            } else if self.at_op("[") {
                let open = self.bump().span;
                e = self.subscript(e, open)?;
            } else if self.at_op(".") {
                self.bump();
                let t = self.bump();
                let Tok::Name(name) = t.tok else {
                    return Err(Diagnostic::error(
                        t.span,
                        format!("expected an attribute name after `.`, found {}", describe(&t.tok)),
                    ));
                };
                let span = e.span.to(t.span);
                e = self.node(span, ExprKind::Attr { base: Box::new(e), attr: Ident { name, span: t.span } });
            } else {
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self, open: Span) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        while !self.at_op(")") {
            if matches!(self.peek(), Tok::Eof) {
                self.expect_op(")", Some(open))?;
            }
            let arg = self.expr()?;
            if self.at_kw(Kw::For) {
                // A generator may stand bare as an argument: `sum(x for x in xs)`.
                let gen = self.comprehension(arg, CompKind::Generator)?;
                args.push(gen);
            } else {
                args.push(arg);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(args)
    }

    fn subscript(&mut self, base: Expr, open: Span) -> PResult<Expr> {
        let mut parts: [Option<Box<Expr>>; 3] = [None, None, None];
        let mut colons = 0;
        loop {
            if self.at_op(":") {
                if colons == 2 {
                    let t = self.token();
                    return Err(Diagnostic::error(t.span, "a slice has at most two `:`"));
                }
                self.bump();
                colons += 1;
            } else if self.at_op("]") {
                break;
            } else if parts[colons].is_none() {
                parts[colons] = Some(Box::new(self.expr()?));
            } else {
                break;
            }
        }
        let close = self.expect_op("]", Some(open))?;
        let span = base.span.to(close);
        if colons == 0 {
            let Some(index) = parts[0].take() else {
                return Err(
                    Diagnostic::error(open.to(close), "empty index").with_help("write `xs[i]` or a slice `xs[a:b]`")
                );
            };
            return Ok(self.node(span, ExprKind::Index { base: Box::new(base), index }));
        }
        let [lower, upper, step] = parts;
        Ok(self.node(span, ExprKind::Slice { base: Box::new(base), lower, upper, step }))
    }

    fn comprehension(&mut self, element: Expr, kind: CompKind) -> PResult<Expr> {
        let mut clauses = Vec::new();
        while self.at_kw(Kw::For) {
            self.bump();
            let target = self.target_list()?;
            if !self.at_kw(Kw::In) {
                let t = self.token();
                return Err(Diagnostic::error(t.span, format!("expected `in`, found {}", describe(&t.tok)))
                    .with_help("a comprehension reads `expr for name in items`"));
            }
            self.bump();
            let iter = self.or_test()?;
            let mut conds = Vec::new();
            while self.at_kw(Kw::If) {
                self.bump();
                conds.push(self.or_test()?);
            }
            clauses.push(CompFor { target, iter, conds });
        }
        let end = clauses.last().map_or(element.span, |c| c.conds.last().map_or(c.iter.span, |e| e.span));
        let span = element.span.to(end);
        Ok(self.node(span, ExprKind::Comprehension { kind, element: Box::new(element), clauses }))
    }

    fn target_list(&mut self) -> PResult<Target> {
        let first = self.target()?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_kw(Kw::In) {
                break;
            }
            items.push(self.target()?);
        }
        let span = items[0].span().to(items[items.len() - 1].span());
        Ok(Target::Tuple(items, span))
    }

    fn target(&mut self) -> PResult<Target> {
        let t = self.bump();
        match t.tok {
            Tok::Name(name) => Ok(Target::Name(Ident { name, span: t.span })),
            Tok::Op("(") => {
                self.enter()?;
                let inner = self.target_list()?;
                self.expect_op(")", Some(t.span))?;
                self.depth -= 1;
                Ok(inner)
            }
            other => Err(Diagnostic::error(t.span, format!("expected a name to bind, found {}", describe(&other)))
                .with_help("a comprehension binds names: `for x in xs` or `for i, x in enumerate(xs)`")),
        }
    }

    fn atom(&mut self) -> PResult<Expr> {
        let t = self.bump();
        let kind = match t.tok {
            Tok::Name(n) => ExprKind::Name(n),
            Tok::Int(text) => {
                let value = text.parse().ok();
                ExprKind::Int { text, value }
            }
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Str(mut s) => {
                let mut span = t.span;
                while let Tok::Str(more) = self.peek().clone() {
                    span = span.to(self.bump().span);
                    s.push_str(&more);
                }
                return Ok(self.node(span, ExprKind::Str(s)));
            }
            Tok::Kw(Kw::True) => ExprKind::Bool(true),
            Tok::Kw(Kw::False) => ExprKind::Bool(false),
            Tok::Op("(") => return self.paren(t.span),
            Tok::Op("[") => return self.list(t.span),
            other => {
                let mut d = Diagnostic::error(t.span, format!("expected an expression, found {}", describe(&other)));
                d = match other {
                    Tok::Op("&") | Tok::Op("|") => {
                        d.with_help("use `and` / `or` (or a single `&` / `|` between operands)")
                    }
                    Tok::Eof => d.with_label("the formula ends too early"),
                    _ => d,
                };
                return Err(d);
            }
        };
        Ok(self.node(t.span, kind))
    }

    fn paren(&mut self, open: Span) -> PResult<Expr> {
        self.enter()?;
        if self.at_op(")") {
            let close = self.bump().span;
            self.depth -= 1;
            return Ok(self.node(open.to(close), ExprKind::Tuple(Vec::new())));
        }
        let first = self.expr()?;
        let e = if self.at_kw(Kw::For) {
            let gen = self.comprehension(first, CompKind::Generator)?;
            let close = self.expect_op(")", Some(open))?;
            Expr { span: open.to(close), ..gen }
        } else if self.at_op(",") {
            let mut items = vec![first];
            while self.eat_op(",") && !self.at_op(")") {
                items.push(self.expr()?);
            }
            let close = self.expect_op(")", Some(open))?;
            self.node(open.to(close), ExprKind::Tuple(items))
        } else {
            let close = self.expect_op(")", Some(open))?;
            // Parentheses only group; the inner node spans them so carets cover what was written.
            Expr { span: open.to(close), ..first }
        };
        self.depth -= 1;
        Ok(e)
    }

    fn list(&mut self, open: Span) -> PResult<Expr> {
        self.enter()?;
        let mut items = Vec::new();
        if !self.at_op("]") {
            let first = self.expr()?;
            if self.at_kw(Kw::For) {
                let comp = self.comprehension(first, CompKind::List)?;
                let close = self.expect_op("]", Some(open))?;
                self.depth -= 1;
                return Ok(Expr { span: open.to(close), ..comp });
            }
            items.push(first);
            while self.eat_op(",") && !self.at_op("]") {
                items.push(self.expr()?);
            }
        }
        let close = self.expect_op("]", Some(open))?;
        self.depth -= 1;
        Ok(self.node(open.to(close), ExprKind::List(items)))
    }
}
