//! # analognas
//!
//! Hardware-aware neural architecture search for analog in-memory computing on phase-change
//! memory (PCM), after IBM's AnalogNAS (Benmeziane et al., IEEE EDGE 2023): find ResNet-like
//! networks that stay accurate for months on a drifting PCM chip while using few crossbar tiles.
//!
//! ## Three journeys
//!
//! 1. **Search from the command line.** `analognas search` runs NSGA-II (or the paper's
//!    Algorithm 1) over a search space with the shipped surrogate, validates the front by
//!    hardware-aware training and drift evaluation, and writes a run directory:
//!    ```sh
//!    analognas search --max-tiles 10 --out results/tiny-chip
//!    ```
//! 2. **Read the report.** The run directory holds `report.md` with `pareto.png` (accuracy one
//!    day after programming versus tiles, colour = accuracy lost over a month), `drift.png`
//!    (measured accuracy from 1 s to 1 year), `hypervolume.png`, and the tables behind them
//!    (`pareto.csv`, `history.csv`, `validation.json`); `analognas report --run DIR` redraws it.
//! 3. **Import the result.** `analognas export --run DIR --rank 1 --out found` writes a model
//!    directory; in your program:
//!    ```no_run
//!    use analognas::{hw::HwProfile, model::TrainedModel};
//!    let device = analognas::device::default_device();
//!    let model = TrainedModel::load("found".as_ref(), &device)?;
//!    let x = vec![0.0f32; 64]; // one 1x8x8 digit
//!    let digital = model.digital_logits(&x, 1);
//!    let profile = HwProfile::load("hw_profiles/pcm_aihwkit.toml")?;
//!    let one_day_later = model.program(&profile, 1).read(86_400.0, 2).forward(&x, 1, 3);
//!    # Ok::<(), analognas::Error>(())
//!    ```
//!    `model.net` is the burn [`nn::Network`]: train it further, save it, or run it on any
//!    burn device; [`nn::Network::from_arch`] builds the same module from any genome.
//!
//! ## Crate map
//! - [`space`]: search spaces, genomes, sampling, mutation, crossover, repair.
//! - [`nn`]: architectures, layer plans and the burn [`nn::Network`] built from a genome.
//! - [`hw`]: hardware profiles, tile footprint, the PCM model, the periphery, analog inference.
//! - [`task`] and [`data`]: the tasks and their data sets (loaders, splits, MFCC features).
//! - [`train`]: hardware-aware training, drift evaluation, the measured path, model directories.
//! - [`surrogate`]: features, measured data sets, fitted models and their quality figures.
//! - [`search`]: evolutionary multi-objective search, Pareto fronts, checkpoints, validation.
//! - [`report`]: plots and `report.md` of a run directory.
//! - [`model`] and [`export`]: found networks in and out of the tool.
//! - [`cli`]: the command-line interface; [`bench`](mod@bench): backend benchmarks.
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
