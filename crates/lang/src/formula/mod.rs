//! The Python-like formula language of SKI-lang.

pub mod ast;
pub mod lexer;
pub mod parser;
mod print;

pub use ast::*;
pub use print::unparse;

use crate::diag::Diagnostic;

/// Parses formula `text`, whose bytes sit at `offsets` in the file; ids are drawn from `next_id`.
pub fn parse(text: &str, offsets: &[u32], next_id: &mut u32) -> Result<Expr, Diagnostic> {
    let tokens = lexer::lex(text, offsets)?;
    parser::parse(&tokens, next_id)
}

#[cfg(test)]
mod tests;
