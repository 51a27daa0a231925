//! Command-line parsing (clap) and dispatch to one module per subcommand.

mod commands;
mod error;
mod inputs;
mod machine_code;
mod run_object;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use error::CliError;

/// apiary: a userspace eBPF runtime.
#[derive(Debug, Parser)]
#[command(name = "apiary", version, about)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

/// How a program file is written.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// Decide from the content.
    Auto,
    /// Little-endian 8-byte instruction slots.
    Raw,
    /// Hex bytes.
    Hex,
    /// bpf_conformance/uBPF assembly.
    Asm,
}

/// Which engine runs a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The interpreter.
    Interp,
    /// The JIT for this host.
    Jit,
    /// The Linux kernel (BPF_PROG_TEST_RUN), where this process may load BPF programs.
    Kernel,
    /// Every available engine; their results must agree.
    All,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a program and print r0 (for an ELF object: one program, with its maps and helpers).
    Run {
        /// Program file (`-` for standard input): an ELF object, raw bytecode, hex or assembly.
        program: PathBuf,
        /// Input memory: `-` (standard input), `@FILE`, an existing file, or hex bytes
        /// (`"01 02 03"`); an argument with `/` or `.` that is no file is a missing file. r1
        /// points at it, r2 holds its length. For an object's XDP or socket program it is the
        /// packet (an Ethernet frame); for kprobe/tracepoint programs the context bytes. Larger
        /// than the program type takes (64 MiB of memory, a 64 KiB packet, the context
        /// structure's size): refused before it is read.
        #[arg(long)]
        mem: Option<String>,
        /// How the program file is written.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// ELF objects: the section of the program to run.
        #[arg(long)]
        section: Option<String>,
        /// ELF objects: the function, when the section holds several programs.
        #[arg(long)]
        function: Option<String>,
        /// Engine.
        #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
        engine: EngineArg,
        /// Instruction budget (checked at backward jumps and calls); 0 turns metering off.
        #[arg(long, default_value_t = 100_000_000)]
        budget: u64,
        /// ELF objects: run in checked mode, even when the verifier rejects the program. By
        /// default every program of the object is verified and runs in verified mode (the
        /// accesses the verifier proved safe are not checked again at run time).
        #[arg(long)]
        unverified: bool,
        /// ELF objects: verified mode *without* the sandbox window, for programs you trust.
        /// By default verified programs are sandboxed: maps, globals, context, packet and stack
        /// live in one window, and every unchecked access is confined to it, so a verifier bug
        /// cannot reach the rest of the process.
        #[arg(long, conflicts_with = "unverified")]
        unsandboxed: bool,
        /// Raw programs, for testing the sandbox only: treat *every* load, store and atomic as
        /// proven safe (no verifier, no checks) and run sandboxed, so wild accesses stay in the
        /// program's window instead of faulting. Exists only to test the sandbox.
        #[arg(long, hide = true)]
        forge_proofs: bool,
        /// ELF objects: print every map's contents after the run (ring buffers are consumed).
        #[arg(long)]
        dump_maps: bool,
        /// ELF objects: put a program in a prog-array slot before the run: `MAP:INDEX=PROGRAM`
        /// (repeatable).
        #[arg(long = "tail-call", value_name = "MAP:INDEX=PROGRAM")]
        tail_calls: Vec<String>,
        /// ELF objects: the program type (its context and verifier rules) instead of the one
        /// the section name gives; chosen as `apiary verify` chooses it (`mem`, a libbpf type
        /// name such as `xdp` or `sched_cls`, or a section name such as `tc` or `fentry`).
        #[arg(long = "type")]
        program_type: Option<String>,
        /// Accept `callx` (0x8d), an extension outside RFC 9669.
        #[arg(long)]
        callx: bool,
        /// Also print the executed instruction count.
        #[arg(long)]
        stats: bool,
        /// Print the input memory after the run, as hex.
        #[arg(long)]
        dump_mem: bool,
    },
    /// Verify programs: memory bounds, types, termination. One verdict per program.
    Verify {
        /// Program file: an ELF object (every program, or those of --section), or raw/hex/asm.
        program: PathBuf,
        /// How the program file is written.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// ELF objects: only the programs of this section.
        #[arg(long)]
        section: Option<String>,
        /// Program type (default: from the ELF section name, as `apiary run` chooses it;
        /// `mem` for raw programs).
        #[arg(long = "type")]
        program_type: Option<String>,
        /// Print a JSON list of verdicts.
        #[arg(long)]
        json: bool,
        /// Print the abstract state before each instruction.
        #[arg(long)]
        log: bool,
        /// ELF objects: also load each program alone into the running kernel with libbpf (maps
        /// created, CO-RE against the kernel's BTF) and show both verdicts, disagreements first.
        #[arg(long)]
        kernel: bool,
        /// A kernel configuration file (`CONFIG_X=y` lines) for `__kconfig` externs, over the
        /// host's configuration.
        #[arg(long, value_name = "FILE")]
        kconfig: Option<PathBuf>,
        /// The target BTF for CO-RE relocations: raw BTF (like /sys/kernel/btf/vmlinux, the
        /// default) or an ELF file with a .BTF section.
        #[arg(long, value_name = "FILE")]
        btf: Option<PathBuf>,
    },
    /// Assemble a program to raw bytecode (or hex).
    Asm {
        /// Assembly file (`-` for standard input).
        input: PathBuf,
        /// Output file (standard output when absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write hex text instead of raw bytes.
        #[arg(long)]
        hex: bool,
    },
    /// Disassemble a program.
    Disasm {
        /// Program file (`-` for standard input).
        program: PathBuf,
        /// How the program file is written.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// ELF objects: only the programs of this section (all programs otherwise).
        #[arg(long)]
        section: Option<String>,
        /// Also print the raw bytes of each slot.
        #[arg(long)]
        bytes: bool,
        /// Also print the machine code the JIT generates for each instruction.
        #[arg(long)]
        jit: bool,
    },
    /// Run a directory of bpf_conformance `.data` tests.
    Conformance {
        /// Directory holding `*.data` files (or one file).
        path: PathBuf,
        /// Engine(s); `all` also reports disagreements between engines.
        #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
        engine: EngineArg,
        /// Print a JSON summary instead of the table.
        #[arg(long)]
        json: bool,
        /// List every test's verdict, not only failures.
        #[arg(long)]
        verbose: bool,
    },
}

/// Runs the parsed command.
///
/// # Errors
/// A [`CliError`] naming what went wrong and where.
pub fn execute(args: Args) -> Result<ExitCode, CliError> {
    match args.command {
        Command::Run {
            program,
            mem,
            format,
            section,
            function,
            engine,
            budget,
            unverified,
            unsandboxed,
            forge_proofs,
            dump_maps,
            tail_calls,
            program_type,
            callx,
            stats,
            dump_mem,
        } => commands::run(&commands::RunArgs {
            program,
            mem,
            format,
            section,
            function,
            engine,
            budget: (budget != 0).then_some(budget),
            callx,
            stats,
            dump_mem,
            unverified,
            unsandboxed,
            forge_proofs,
            dump_maps,
            tail_calls,
            program_type,
        }),
        Command::Verify {
            program,
            format,
            section,
            program_type,
            json,
            log,
            kernel,
            kconfig,
            btf,
        } => verify::verify(&verify::VerifyArgs {
            path: &program,
            format,
            section: section.as_deref(),
            program_type: program_type.as_deref(),
            json,
            log,
            kernel,
            kconfig: kconfig.as_deref(),
            btf: btf.as_deref(),
        }),
        Command::Asm { input, output, hex } => commands::asm(&input, output.as_deref(), hex),
        Command::Disasm {
            program,
            format,
            section,
            bytes,
            jit,
        } => commands::disasm(&program, format, section.as_deref(), bytes, jit),
        Command::Conformance {
            path,
            engine,
            json,
            verbose,
        } => commands::conformance(&path, engine, json, verbose),
    }
}
