//! Abstract domains: known bits, scalars, register values, stacks, whole states.

pub mod disjuncts;
pub mod linrel;
pub mod pkt_guard;
pub mod pkt_rename;
pub mod scalar;
pub mod scalar_cmp;
pub mod scalar_ops;
pub mod stack;
pub mod state;
pub mod tnum;
pub mod value;

pub use scalar::{Scalar, Thresholds};
pub use state::State;
pub use value::{Ptr, Region, Val};
