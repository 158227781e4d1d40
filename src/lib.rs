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
//! - [`data`]: the tasks' data sets: loaders, splits, normalisation, MFCC features.
//! - [`surrogate`]: features, measured data sets, fitted models and their quality figures.
//! - [`search`]: evolutionary multi-objective search, Pareto fronts, checkpoints, validation.
//! - [`report`]: plots and `report.md` of a run directory.
//! - [`cli`]: the command-line interface.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod data;
pub mod device;
pub mod error;
pub mod export;
pub mod hw;
pub mod measure;
pub mod model;
pub mod nn;
pub mod report;
pub mod rng;
pub mod search;
pub mod space;
pub mod surrogate;
pub mod task;
pub mod train;

pub use error::{Error, Result};
