//! Run-time faults: how a run of a loaded program can end other than by `exit`. Every engine
//! reports the same fault (kind and pc) for the same program and input.

use thiserror::Error;

/// Whether a memory access reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// An error a helper reports to the engine (which turns it into [`Fault::Helper`]).
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum HelperError {
    /// A pointer argument does not lie in a region the program may access that way.
    #[error("{access} of {len} bytes at {addr:#x} is outside every accessible region")]
    OutOfBounds { addr: u64, len: u64, access: Access },
    /// An argument is outside the helper's domain.
    #[error("argument {index} has invalid value {value:#x}")]
    InvalidArgument { index: u8, value: u64 },
    /// The helper needs the run's control cells (tail calls, callbacks) and the engine built
    /// its region table without them ([`crate::memory::RegionTable::new`]).
    #[error("helper {id} needs run control cells the engine does not provide")]
    NoRunControl { id: u32 },
    /// A packet helper ran without a packet of the kind it needs (an XDP or socket-buffer
    /// context the host described with [`crate::ExecState::set_frame`]), or was not given that
    /// context as its first argument. Linux's verifier rejects such programs.
    #[error("helper {id} needs the run's packet context")]
    NoPacket { id: u32 },
    /// A callback the helper called faulted; the engine reports the callback's own fault.
    #[error("a callback called by the helper faulted")]
    CallbackFailed,
}

/// Something the program did that cannot be given a meaning at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unsupported {
    /// A kfunc call (`call` src = 2); apiary's platforms define no kfuncs yet.
    Kfunc { btf_id: i32 },
    /// An `lddw` pseudo form (src 1, 2, 3, 5, 6) whose map or variable the engine has not been given.
    LddwPseudo { src: u8, imm: i32 },
    /// An `lddw` code address (src 4, a callback) in an environment without callback helpers.
    CodeAddress { target: usize },
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsupported::Kfunc { btf_id } => write!(f, "kfunc call to BTF id {btf_id}"),
            Unsupported::LddwPseudo { src, imm } => {
                write!(
                    f,
                    "lddw pseudo source {src} (imm {imm}) with nothing bound to it"
                )
            }
            Unsupported::CodeAddress { target } => {
                write!(
                    f,
                    "lddw code address of instruction {target} with no callback helper"
                )
            }
        }
    }
}

/// Why a run stopped without returning a value. `pc` is the slot of the faulting instruction.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A load, store or atomic outside every region that permits the access.
    #[error("instruction {pc}: {access} of {len} bytes at {addr:#x} is out of bounds")]
    OutOfBounds {
        pc: usize,
        addr: u64,
        len: u8,
        access: Access,
    },
    /// An atomic operation on an address not aligned to its size.
    #[error("instruction {pc}: atomic access of {len} bytes at {addr:#x} is misaligned")]
    MisalignedAtomic { pc: usize, addr: u64, len: u8 },
    /// The instruction budget ran out (checked at taken backward jumps and calls).
    #[error("instruction {pc}: instruction budget of {budget} exhausted")]
    BudgetExhausted { pc: usize, budget: u64 },
    /// A local call beyond the frame limit.
    #[error("instruction {pc}: call depth exceeds {max} frames")]
    CallDepthExceeded { pc: usize, max: usize },
    /// `callx` to a value that is not a registered helper id.
    #[error("instruction {pc}: no helper with id {id}")]
    UnknownHelper { pc: usize, id: u64 },
    /// A helper reported an error.
    #[error("instruction {pc}: helper {id} failed: {error}")]
    Helper {
        pc: usize,
        id: u32,
        error: HelperError,
    },
    /// A helper panicked; the panic was caught at the engine boundary.
    #[error("instruction {pc}: helper {id} panicked")]
    HelperPanicked { pc: usize, id: u32 },
    /// A program prepared in verified mode for inputs of one length was given another: running
    /// it would void the verifier's proof, so it does not start (reported at pc 0).
    #[error("input of {actual} bytes, but the program was verified for {expected}")]
    InputLength { expected: u64, actual: u64 },
    /// A sandboxed run could not place its stack or its input copy (`len` bytes) in its
    /// sandbox window, which is full; the program does not start (reported at pc 0).
    #[error("no room for {len} bytes in the sandbox window")]
    SandboxFull { len: u64 },
    /// The instruction has no run-time meaning in this engine's platform.
    #[error("instruction {pc}: unsupported {what}")]
    Unsupported { pc: usize, what: Unsupported },
}

impl Fault {
    /// The slot of the faulting instruction.
    #[must_use]
    pub const fn pc(&self) -> usize {
        match self {
            Fault::OutOfBounds { pc, .. }
            | Fault::MisalignedAtomic { pc, .. }
            | Fault::BudgetExhausted { pc, .. }
            | Fault::CallDepthExceeded { pc, .. }
            | Fault::UnknownHelper { pc, .. }
            | Fault::Helper { pc, .. }
            | Fault::HelperPanicked { pc, .. }
            | Fault::Unsupported { pc, .. } => *pc,
            Fault::InputLength { .. } | Fault::SandboxFull { .. } => 0,
        }
    }
}
