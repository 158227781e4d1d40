//! The analog chip: hardware profiles, tile mapping, the PCM device model, the tile periphery
//! and batched analog inference of whole networks.

mod analog;
mod cost;
mod error;
mod exec;
pub mod normal;
mod pcm;
mod periphery;
mod profile;
mod stats;
mod tiles;
mod weights;

pub use analog::*;
pub use cost::*;
pub use error::*;
pub use pcm::*;
pub use periphery::*;
pub use profile::*;
pub use stats::*;
pub use tiles::*;
pub use weights::*;
