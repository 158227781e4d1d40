//! Networks: architectures, their layer plans and the burn modules built from them.

mod arch;
mod network;

pub use arch::*;
pub use network::*;
