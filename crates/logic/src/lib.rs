//! Reasoning over categorical random variables (DESIGN.md §1, §3b): grounding a checked constraint
//! for one example into an [`Event`], and inference engines behind one seam ([`engine`]:
//! decision-diagram compilation with caching, and enumeration) that give `log P(event)`, the
//! posterior marginals and MAP. Plain Rust buffers; no ML dependency.

pub mod cnf;
pub mod compile;
pub mod dimacs;
pub mod engine;
pub mod eval;
pub mod event;
pub mod fuzzy;
pub mod ground;
pub mod prior;
pub mod rulenet;
mod tape;

pub use compile::{argmax, compile, Diagram, NODE_LIMIT};
pub use engine::{engine, Engine, Gradient, Inference, Posterior, TooLarge};
pub use eval::{nest, Crisp, Formulas, GroundError, Memo, Observed};
pub use event::{Atom, Cmp, Convergence, Cost, Event, Formula};
pub use fuzzy::{FuzzyEvent, Logic, Truth};
pub use ground::{Form, Grounded, Sym, VarRef};
pub use rulenet::{Gate, Guard, Leaf, Node, RuleNet, RuleNetError, Unit};
