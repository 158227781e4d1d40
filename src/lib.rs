//! # analognas
//!
//! Hardware-aware neural architecture search for analog in-memory computing on phase-change
//! memory (PCM), after IBM's AnalogNAS (Benmeziane et al., IEEE EDGE 2023).
//!
//! Crate map:
//! - [`space`]: search spaces, genomes, sampling, mutation, crossover, repair.
//! - [`nn`]: architectures, layer plans and the burn [`nn::Network`] built from a genome.
//! - [`hw`]: hardware profiles and the tile footprint.
//! - [`task`]: the tasks and their input shapes.
//! - [`search`]: evolutionary multi-objective search, Pareto fronts, checkpoints, validation.
//! - [`report`]: plots and `report.md` of a run directory.
//! - [`cli`]: the command-line interface.
#![warn(missing_docs)]

pub mod cli;
pub mod device;
pub mod error;
pub mod hw;
pub mod measure;
pub mod nn;
pub mod report;
pub mod rng;
pub mod search;
pub mod space;
pub mod task;

pub use error::{Error, Result};
