//! Prints a formula back as text, with the parentheses its structure needs and no others.

use super::ast::*;

/// Binding strength, loosest first.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::IfElse { .. } => 1,
        ExprKind::Binary { op: BinOp::Or, .. } => 2,
        ExprKind::Binary { op: BinOp::And, .. } => 3,
        ExprKind::Unary { op: UnaryOp::Not, .. } => 4,
        ExprKind::Compare { .. } => 5,
        ExprKind::Binary { op: BinOp::BitOr, .. } => 6,
        ExprKind::Binary { op: BinOp::BitXor, .. } => 7,
        ExprKind::Binary { op: BinOp::BitAnd, .. } => 8,
        ExprKind::Binary { op: BinOp::Add | BinOp::Sub, .. } => 9,
        ExprKind::Binary { op: BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod, .. } => 10,
        ExprKind::Unary { .. } => 11,
        ExprKind::Binary { op: BinOp::Pow, .. } => 12,
        _ => 13,
    }
}

pub fn unparse(e: &Expr) -> String {
    let mut out = String::new();
    write(e, &mut out);
    out
}

fn operand(e: &Expr, min: u8, out: &mut String) {
    if prec(e) < min {
        out.push('(');
        write(e, out);
        out.push(')');
    } else {
        write(e, out);
    }
}

fn target(t: &Target, out: &mut String) {
    match t {
        Target::Name(i) => out.push_str(&i.name),
        Target::Tuple(items, _) => {
            out.push('(');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                target(item, out);
            }
            out.push(')');
        }
    }
}

fn list(items: &[Expr], out: &mut String) {
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        write(item, out);
    }
}

fn write(e: &Expr, out: &mut String) {
    let p = prec(e);
    match &e.kind {
        ExprKind::Int { text, .. } => out.push_str(text),
        ExprKind::Float(f) => out.push_str(&format!("{f:?}")),
        ExprKind::Str(s) => out.push_str(&format!("{s:?}")),
        ExprKind::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        ExprKind::Name(n) => out.push_str(n),
        ExprKind::Error => out.push_str("<error>"),
        ExprKind::Attr { base, attr } => {
            operand(base, 13, out);
            out.push('.');
            out.push_str(&attr.name);
        }
        ExprKind::Index { base, index } => {
            operand(base, 13, out);
            out.push('[');
            write(index, out);
            out.push(']');
        }
        ExprKind::Slice { base, lower, upper, step } => {
            operand(base, 13, out);
            out.push('[');
            for (k, part) in [lower, upper, step].into_iter().enumerate() {
                if k == 2 && part.is_none() {
                    break;
                }
                if k > 0 {
                    out.push(':');
                }
                if let Some(x) = part {
                    write(x, out);
                }
            }
            out.push(']');
        }
        ExprKind::Call { func, args } => {
            operand(func, 13, out);
            out.push('(');
            list(args, out);
            out.push(')');
        }
        ExprKind::Unary { op, operand: x } => {
            out.push_str(match op {
                UnaryOp::Neg => "-",
                UnaryOp::Pos => "+",
                UnaryOp::Not => "not ",
                UnaryOp::Invert => "~",
            });
            operand(x, p, out);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            // `**` groups to the right and takes a signed operand there (`2 ** -1`); the others
            // group to the left.
            let (l, r) = if *op == BinOp::Pow { (p + 1, p - 1) } else { (p, p + 1) };
            operand(lhs, l, out);
            out.push_str(&format!(" {} ", op.symbol()));
            operand(rhs, r, out);
        }
        ExprKind::Compare { first, rest } => {
            operand(first, p + 1, out);
            for (op, _, x) in rest {
                out.push_str(&format!(" {} ", op.symbol()));
                operand(x, p + 1, out);
            }
        }
        ExprKind::IfElse { cond, then, otherwise } => {
            operand(then, p + 1, out);
            out.push_str(" if ");
            operand(cond, p + 1, out);
            out.push_str(" else ");
            operand(otherwise, p, out);
        }
        ExprKind::List(items) => {
            out.push('[');
            list(items, out);
            out.push(']');
        }
        ExprKind::Tuple(items) => {
            out.push('(');
            list(items, out);
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ExprKind::Comprehension { kind, element, clauses } => {
            out.push(if *kind == CompKind::List { '[' } else { '(' });
            write(element, out);
            for c in clauses {
                out.push_str(" for ");
                target(&c.target, out);
                out.push_str(" in ");
                operand(&c.iter, 2, out);
                for cond in &c.conds {
                    out.push_str(" if ");
                    operand(cond, 2, out);
                }
            }
            out.push(if *kind == CompKind::List { ']' } else { ')' });
        }
    }
}
