//! End-to-end tests of the `analognas` binary (one integration binary, burn linked once).

mod bad_inputs;
mod cli_cosearch;
mod cli_cost;
mod cli_export;
mod cli_foundation;
mod cli_hw;
mod cli_search;
mod cli_slurm;
mod cli_surrogate;
mod cli_train;
mod design_figures;
mod torch_export;
mod util;
