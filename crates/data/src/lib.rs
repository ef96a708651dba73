//! Datasets and tasks (DESIGN.md §1): IDX, CSV and CIFAR-binary readers, data-directory resolution,
//! schemas and encodings, multi-instance tuples.
//!
//! Not implemented yet: this crate is the layer the training-pipeline issue fills in.
