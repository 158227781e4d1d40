//! Networks: architectures, their layer plans and the burn modules built from them.

mod arch;
mod error;
pub mod fast;
pub mod kernels;
mod network;
pub mod norm;

pub use arch::*;
pub use error::*;
pub use network::*;
