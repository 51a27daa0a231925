//! The interpreter: checked mode (every memory access tested against the run's region table).
//!
//! A [`Program`] is lowered once into a flat array of `Op`s: one operation code per
//! (operation, width, operand kind), immediates pre-extended, helper ids resolved to table
//! indices, jump targets as slot indices. The run loop is a single `match` on that code (a jump
//! table), with no allocation and, when metering is off, no per-instruction bookkeeping.
//!
//! What makes one op cheap (measured in host instructions with `benches/callgrind.sh`, since
//! wall-clock figures on a shared machine are noise): an op is 16 bytes; registers are a
//! 16-value enum, so register-file accesses carry no bounds check; the op array is sealed
//! (`lower::seal`: a faulting sentinel last, every target inside), so the fetch is a pointer
//! load with no bounds check; the region test has no size-dependent invariant for the compiler
//! to hoist and spill at every run's start. (Function-pointer tables have not been measured
//! against the `match`: without guaranteed tail calls each op would pay a call and a return.)
//!
//! Split by concern: `ops` (the lowered form), `lower` (program → ops, once per
//! prepare), `run` (the run loop and atomics); this module holds the engine itself, its
//! [`Executable`] implementation and the callback re-entry.

use std::cell::Cell;
use std::sync::Arc;

use crate::engine::{Environment, ExecConfig, Executable, Outcome};
use crate::error::LoadError;
use crate::facts::Facts;
use crate::fault::{Fault, HelperError, Unsupported};
use crate::helpers::{HelperFn, HelperTable, PlainHelperFn};
use crate::memory::{
    code_target, Confinement, ExecState, FunctionCaller, Region, RegionTable, FRAME_SIZE,
    MAX_FRAMES, STACK_SIZE,
};
use crate::program::Program;

mod lower;
mod ops;
mod run;

use lower::{mark_proven, seal, Lowering};
use ops::Op;

/// A program prepared for the interpreter.
pub struct Interpreter {
    program: Arc<Program>,
    ops: Vec<Op>,
    helpers: Vec<(u32, Arc<HelperFn>)>,
    /// Plain helpers called by `Code::CallPlain`.
    plain: Vec<PlainHelperFn>,
    table: Arc<HelperTable>,
    unsupported: Vec<Unsupported>,
    regions: Arc<[Region]>,
    config: ExecConfig,
    /// Where proven accesses are confined (identity unless sandboxed).
    confine: Confinement,
    /// Whether callbacks are enabled (the environment has `bpf_loop` or
    /// `bpf_for_each_map_elem`): `lddw` code addresses then load [`code_address`]es and helpers
    /// may call program functions.
    callbacks: bool,
}

/// Linux helper ids that take callbacks (`bpf_for_each_map_elem`, `bpf_loop`).
const CALLBACK_HELPERS: [u32; 2] = [164, 181];

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("slots", &self.program.instructions().len())
            .field(
                "helpers",
                &self.helpers.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Interpreter {
    /// Prepares `program` to run against `env`.
    ///
    /// # Errors
    /// [`LoadError::UnknownHelper`] when the program calls a helper `env` does not provide.
    pub fn new(program: Arc<Program>, env: &Environment) -> Result<Self, LoadError> {
        Self::prepare(program, env, None, Confinement::NONE)
    }

    /// Prepares `program` in verified mode: the loads, stores and atomics that `facts` mark as
    /// proven in bounds run without the region-table check (atomics keep their alignment check).
    ///
    /// # Errors
    /// As [`Interpreter::new`].
    ///
    /// # Safety
    /// `facts` must come from a sound verifier run on this very `program` for an environment
    /// whose regions, program type and helpers are those of `env` and of every run's input (the
    /// input length and context the verifier assumed). A fact that is wrong lets the program
    /// read or write memory outside its regions.
    pub unsafe fn with_facts(
        program: Arc<Program>,
        env: &Environment,
        facts: &Facts,
    ) -> Result<Self, LoadError> {
        Self::prepare(program, env, Some(facts), Confinement::NONE)
    }

    /// [`Interpreter::with_facts`] with every proven load, store and atomic confined:
    /// it accesses `confine.apply(addr)` (sandboxed verified mode: a wrong fact then reaches only
    /// memory inside the window, never outside it).
    ///
    /// # Errors
    /// As [`Interpreter::new`].
    ///
    /// # Safety
    /// As [`Interpreter::with_facts`] for the program's *correctness*; for memory safety it is
    /// enough that every address of `[base, base + mask + 1 + 7)` is mapped read-write for as
    /// long as the interpreter lives (an `apiary_window::Window` with the read-zero policy, kept
    /// alive by the caller).
    pub unsafe fn with_facts_confined(
        program: Arc<Program>,
        env: &Environment,
        facts: &Facts,
        confine: Confinement,
    ) -> Result<Self, LoadError> {
        Self::prepare(program, env, Some(facts), confine)
    }

    fn prepare(
        program: Arc<Program>,
        env: &Environment,
        facts: Option<&Facts>,
        confine: Confinement,
    ) -> Result<Self, LoadError> {
        env.check_helpers(&program)?;
        let callbacks = CALLBACK_HELPERS
            .iter()
            .any(|&id| env.helpers.get(id).is_some());
        let mut lowering = Lowering {
            helpers: Vec::new(),
            plain: Vec::new(),
            unsupported: Vec::new(),
            table: &env.helpers,
            callbacks,
        };
        let mut ops: Vec<Op> = program
            .instructions()
            .iter()
            .enumerate()
            .map(|(pc, ins)| {
                let mut op = lowering.lower(pc, ins);
                if facts.is_some_and(|f| f.access_proven(pc)) {
                    mark_proven(&mut op);
                }
                op
            })
            .collect();
        let Lowering {
            helpers,
            plain,
            mut unsupported,
            ..
        } = lowering;
        seal(&mut ops, &mut unsupported);
        Ok(Self {
            program,
            ops,
            helpers,
            plain,
            table: Arc::clone(&env.helpers),
            unsupported,
            regions: Arc::clone(&env.regions),
            config: env.config,
            confine,
            callbacks,
        })
    }
}

impl Executable for Interpreter {
    fn engine_name(&self) -> &'static str {
        "interp"
    }

    fn program(&self) -> &Program {
        &self.program
    }

    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        let packet = state.packet();
        let (stack, control) = state.split();
        let input_region = Region::writable(input);
        let mut regs = [0u64; ops::REGS];
        regs[1] = if input_region.len == 0 {
            0
        } else {
            input_region.start
        };
        regs[2] = input_region.len;
        regs[10] = stack.start + STACK_SIZE as u64;
        let entry = Entry {
            pc: 0,
            regs: &mut regs,
            depth: 0,
            count: 0,
        };
        let regions = RegionTable::with_control(stack, input_region, &self.regions, control)
            .with_packet(packet);
        if !self.callbacks {
            return self.start(&regions, entry, None);
        }
        // Only environments with callback helpers pay for the callback state.
        let callbacks = Callbacks {
            interp: self,
            budget: self.config.budget,
            depth: Cell::new(0),
            r10: Cell::new(entry.regs[10]),
            count: Cell::new(0),
            pc: Cell::new(0),
            fault: Cell::new(None),
        };
        self.start(&regions.with_caller(&callbacks), entry, Some(&callbacks))
    }
}

impl Interpreter {
    /// Runs from `entry` with or without metering, as configured.
    #[inline(always)]
    fn start(
        &self,
        regions: &RegionTable<'_>,
        entry: Entry<'_>,
        cb: Option<&Callbacks<'_>>,
    ) -> Outcome {
        match self.config.budget {
            None => {
                let (result, _) = self.execute::<false>(regions, u64::MAX, entry, cb);
                Outcome {
                    result,
                    instructions: None,
                }
            }
            Some(budget) => {
                let (result, count) = self.execute::<true>(regions, budget, entry, cb);
                Outcome {
                    result,
                    instructions: Some(count),
                }
            }
        }
    }
}

/// Where [`Interpreter::execute`] starts: a function's first slot, its registers, the frames
/// already in use below it (callbacks run on a new frame of the calling run) and the count so far.
struct Entry<'r> {
    pc: usize,
    regs: &'r mut [u64; ops::REGS],
    depth: usize,
    count: u64,
}

/// The interpreter's [`FunctionCaller`]: the state of the code that is calling a helper
/// (frame depth, r10, instruction count, pc), set before each helper call, and the fault of a
/// callback, reported as the run's fault.
struct Callbacks<'i> {
    interp: &'i Interpreter,
    budget: Option<u64>,
    depth: Cell<usize>,
    r10: Cell<u64>,
    count: Cell<u64>,
    pc: Cell<usize>,
    fault: Cell<Option<Fault>>,
}

impl Callbacks<'_> {
    fn enter(&self, depth: usize, r10: u64, count: u64, pc: usize) {
        self.depth.set(depth);
        self.r10.set(r10);
        self.count.set(count);
        self.pc.set(pc);
        self.fault.set(None);
    }
}

impl FunctionCaller for Callbacks<'_> {
    fn next_frame(&self) -> u64 {
        self.r10.get().wrapping_sub(FRAME_SIZE as u64)
    }

    fn call_function(
        &self,
        regions: &RegionTable<'_>,
        code: u64,
        args: [u64; 5],
    ) -> Result<u64, HelperError> {
        let Some(target) = code_target(code)
            .filter(|&t| t != 0 && self.interp.program.functions().iter().any(|f| f.start == t))
        else {
            return Err(HelperError::InvalidArgument {
                index: 2,
                value: code,
            });
        };
        let saved = (self.depth.get(), self.r10.get(), self.pc.get());
        if saved.0 + 1 >= MAX_FRAMES {
            self.fault.set(Some(Fault::CallDepthExceeded {
                pc: saved.2,
                max: MAX_FRAMES,
            }));
            return Err(HelperError::CallbackFailed);
        }
        let mut regs = [0u64; ops::REGS];
        regs[1..6].copy_from_slice(&args);
        regs[10] = self.next_frame();
        let entry = Entry {
            pc: target,
            regs: &mut regs,
            depth: saved.0 + 1,
            count: self.count.get(),
        };
        let (result, count) = match self.budget {
            None => self
                .interp
                .execute::<false>(regions, u64::MAX, entry, Some(self)),
            Some(budget) => self
                .interp
                .execute::<true>(regions, budget, entry, Some(self)),
        };
        self.enter(saved.0, saved.1, count, saved.2);
        result.map_err(|f| {
            self.fault.set(Some(f));
            HelperError::CallbackFailed
        })
    }
}
