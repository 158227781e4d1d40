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
//!    let profile = HwProfile::load(analognas::files::shipped_path("hw_profiles/pcm_aihwkit.toml"))?;
//!    let one_day_later = model.program(&profile, 1).read(86_400.0, 2).forward(&x, 1, 3);
//!    # Ok::<(), analognas::Error>(())
//!    ```
//!    `model.net` is the burn [`nn::Network`]: train it further, save it, or run it on any
//!    burn device; [`nn::Network::from_arch`] builds the same module from any genome.
//!
//! ## Layers
//!
//! Data flows one way; a module imports only from the layers below it.
//!
//! ```text
//!  7  main.rs + src/cli (the binary)   parse, resolve paths, print, progress bars
//!  6  pipeline  report  export  bench  search -> validation -> report; files out
//!  5  rundir                           typed run-directory files
//!  4  search                           ask/tell engine, NSGA-II, Alg. 1, Pareto (sees a Scorer)
//!  3  evaluate                         Measurer (what) + Executor (where)
//!  2  train  model  surrogate          measure one genome; the model directory; predictions
//!  1  space  data  hw  nn  synthetic  measure   what a network is, the data, the chip, a measurement
//!  0  error  rng  task  files  progress  choice  lock  stats
//! ```
//!
//! ## Crate map
//! - [`files`]: the one resolver of shipped files (spaces, profiles, surrogates, data).
//! - [`stats`]: means, 95 % t-intervals and the paired t-test of validation.
//! - [`lock`]: exclusive locks on run directories and CSVs being written.
//! - [`progress`]: the observer through which long operations report progress.
//! - [`space`]: search spaces, genomes, sampling, mutation, crossover, repair.
//! - [`nn`]: architectures, layer plans and the burn [`nn::Network`] built from a genome.
//! - [`hw`]: hardware profiles, tile footprint, the PCM model, the periphery, analog inference.
//! - [`task`] and [`data`]: the tasks and their data sets (loaders, splits, MFCC features).
//! - [`train`]: hardware-aware training and drift evaluation of one network.
//! - [`model`]: the model directory (`arch.json`, `model.bpk`, `metrics.json`).
//! - [`surrogate`]: features, measured data sets, fitted models and their quality figures.
//! - [`evaluate`]: measuring many genomes: the [`evaluate::Measurer`] and
//!   [`evaluate::Executor`] traits and the local executor.
//! - [`search`]: evolutionary multi-objective search and Pareto fronts.
//! - [`rundir`]: the files of a run directory, typed.
//! - [`pipeline`]: a search run from start to report, and data collection for surrogates.
//! - [`report`]: plots and `report.md` of a run directory.
//! - [`export`]: found networks out of the tool.
//! - [`bench`](mod@bench): performance benchmarks, each against a reference measured in the
//!   same run.
#![warn(missing_docs)]

pub mod bench;
pub mod choice;
pub mod data;
pub mod device;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod files;
#[cfg(test)]
mod fuzz_tests;
pub mod hw;
pub mod lock;
pub mod measure;
pub mod model;
pub mod nn;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod rng;
pub mod rundir;
pub mod search;
pub mod space;
pub mod stats;
pub mod surrogate;
pub mod synthetic;
pub mod task;
#[cfg(test)]
pub(crate) mod test_support;
pub mod train;

pub use error::{Error, Result};
