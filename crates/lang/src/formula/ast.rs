//! The syntax tree of formulas. Every node carries its span in the YAML file and an id that the
//! checker uses to attach types.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub id: ExprId,
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// Integers are arbitrary precision; `value` is the fast path when the literal fits.
    Int {
        text: String,
        value: Option<i64>,
    },
    Float(f64),
    Str(String),
    Bool(bool),
    Name(String),
    Attr {
        base: Box<Expr>,
        attr: Ident,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Slice {
        base: Box<Expr>,
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `a < b <= c` keeps Python's meaning: `a < b and b <= c`, evaluating `b` once.
    Compare {
        first: Box<Expr>,
        rest: Vec<(CmpOp, Span, Expr)>,
    },
    IfElse {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Comprehension {
        kind: CompKind,
        element: Box<Expr>,
        clauses: Vec<CompFor>,
    },
    /// Stands where a syntax error was reported, so that checking goes on without cascades.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompKind {
    List,
    Generator,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompFor {
    pub target: Target,
    pub iter: Expr,
    pub conds: Vec<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Name(Ident),
    Tuple(Vec<Target>, Span),
}

impl Target {
    pub fn span(&self) -> Span {
        match self {
            Target::Name(i) => i.span,
            Target::Tuple(_, s) => *s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
    /// `~`, the bitwise spelling of `not` on booleans.
    Invert,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    And,
    Or,
    /// `&`: like `and` on booleans, but binds tighter than comparisons (as in Python).
    BitAnd,
    /// `|`: like `or` on booleans, binding tighter than comparisons.
    BitOr,
    BitXor,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
        }
    }
}

impl Expr {
    /// Calls `f` on each direct sub-expression.
    pub fn for_each_child(&self, mut f: impl FnMut(&Expr)) {
        match &self.kind {
            ExprKind::Int { .. }
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Error => {}
            ExprKind::Attr { base, .. } => f(base),
            ExprKind::Index { base, index } => {
                f(base);
                f(index)
            }
            ExprKind::Slice { base, lower, upper, step } => {
                f(base);
                for e in [lower, upper, step].into_iter().flatten() {
                    f(e)
                }
            }
            ExprKind::Call { func, args } => {
                f(func);
                args.iter().for_each(f)
            }
            ExprKind::Unary { operand, .. } => f(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs)
            }
            ExprKind::Compare { first, rest } => {
                f(first);
                rest.iter().for_each(|(_, _, e)| f(e))
            }
            ExprKind::IfElse { cond, then, otherwise } => {
                f(then);
                f(cond);
                f(otherwise)
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().for_each(f),
            ExprKind::Comprehension { element, clauses, .. } => {
                for c in clauses {
                    f(&c.iter);
                    c.conds.iter().for_each(&mut f);
                }
                f(element)
            }
        }
    }

    /// Calls `f` on each direct sub-expression, which it may rewrite.
    pub fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut Expr)) {
        match &mut self.kind {
            ExprKind::Int { .. }
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Error => {}
            ExprKind::Attr { base, .. } => f(base),
            ExprKind::Index { base, index } => {
                f(base);
                f(index)
            }
            ExprKind::Slice { base, lower, upper, step } => {
                f(base);
                for e in [lower, upper, step].into_iter().flatten() {
                    f(e)
                }
            }
            ExprKind::Call { func, args } => {
                f(func);
                args.iter_mut().for_each(f)
            }
            ExprKind::Unary { operand, .. } => f(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs)
            }
            ExprKind::Compare { first, rest } => {
                f(first);
                rest.iter_mut().for_each(|(_, _, e)| f(e))
            }
            ExprKind::IfElse { cond, then, otherwise } => {
                f(then);
                f(cond);
                f(otherwise)
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => items.iter_mut().for_each(f),
            ExprKind::Comprehension { element, clauses, .. } => {
                for c in clauses {
                    f(&mut c.iter);
                    c.conds.iter_mut().for_each(&mut f);
                }
                f(element)
            }
        }
    }
}
