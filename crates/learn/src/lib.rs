//! Networks built from learnable declarations, the training loop, the injection algorithms (losses)
//! and the metrics (DESIGN.md §1–2).
//!
//! Not implemented yet: this crate is the layer the training-pipeline issue fills in.
