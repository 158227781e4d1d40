//! The analog chip: hardware profiles and tile mapping.

mod profile;
mod tiles;

pub use profile::*;
pub use tiles::*;
