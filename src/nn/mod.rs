//! Networks: architectures, their layer plans and the burn modules built from them.

mod arch;
mod error;
mod network;

pub use arch::*;
pub use error::*;
pub use network::*;
