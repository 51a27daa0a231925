//! apiary-vm: the eBPF instruction set (RFC 9669 plus Linux practice), the checked program
//! model, memory regions, helpers, and the interpreter.
//!
//! Data flow: bytes or assembly → [`Insn`] slots → [`Program::new`] (every field checked) →
//! an [`Executable`] engine ([`Interpreter`], or a JIT from `apiary-jit`) → [`Outcome`].

pub mod asm;
pub mod decode;
pub mod disasm;
pub mod engine;
pub mod error;
pub mod facts;
pub mod fault;
pub mod helpers;
pub mod insn;
pub mod instruction;
pub mod interpreter;
pub mod limits;
pub mod linux;
pub mod linux_helpers;
pub mod maps;
pub mod memory;
pub mod opcode;
pub mod packet;
pub mod program;
pub mod racy;
pub mod semantics;

pub use apiary_window as window;
pub use decode::LoadOptions;
pub use engine::{Environment, ExecConfig, Executable, NoSuchProgram, Outcome, ProgramSet};
pub use error::LoadError;
pub use facts::Facts;
pub use fault::{Access, Fault, HelperError};
pub use helpers::{HelperContext, HelperTable};
pub use insn::Insn;
pub use instruction::{Instruction, Reg};
pub use interpreter::Interpreter;
pub use limits::Limits;
pub use maps::{MapSpec, MapTable};
pub use memory::{Confinement, ExecState, Region, RunControl};
pub use packet::{FrameKind, FrameLayout, PacketFrame, Redirect};
pub use program::Program;
