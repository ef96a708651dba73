//! Reasoning over categorical random variables (DESIGN.md §1, §3b): grounding a checked constraint
//! for one example, exact compilation into decision diagrams, belief propagation, sampling, top-k
//! proofs and MAP. Plain Rust buffers; no ML dependency.
//!
//! Not implemented yet: this crate is the layer the exact-engine issue fills in.
