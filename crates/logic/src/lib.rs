//! Reasoning over categorical random variables (DESIGN.md §1, §3b): grounding a checked constraint
//! for one example into an [`Event`], exact compilation into a decision diagram with caching, and
//! from it `log P(event)`, posterior marginals and MAP. Plain Rust buffers; no ML dependency.

pub mod brute;
pub mod compile;
pub mod event;
pub mod fuzzy;
pub mod ground;
pub mod rulenet;

pub use compile::{argmax, compile, Diagram, Posterior, TooLarge, NODE_LIMIT};
pub use event::{Atom, Cmp, Event, Formula};
pub use fuzzy::{FuzzyEvent, Logic, Truth};
pub use ground::{Crisp, Form, GroundError, Grounded, Grounder, Memo, Observed, VarRef};
pub use rulenet::{Gate, Guard, Leaf, Node, RuleNet, RuleNetError, Unit};
