//! One function per subcommand.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use apiary::source::Selection;
use apiary::{Environment, ExecConfig, ExecState, LoadOptions, Program};
use apiary_conformance::engine::{prepare_for_input, EngineKind, EngineSelection, PrepareError};
use apiary_conformance::helpers::conformance_helpers;
use apiary_conformance::kernel::KernelError;
use apiary_conformance::runner::{disagreement, Observation};
use apiary_conformance::runner::{list_tests, run_file, RunConfig, RunReport, Verdict};
use apiary_vm::disasm;
use apiary_vm::insn::insns_to_bytes;

use super::inputs::{
    mem_arg, parse_object, parse_program, parse_selected, read_file, read_mem, read_program, MemArg,
};
use super::machine_code;
use super::run_object;
use super::{CliError, EngineArg, FormatArg};

/// Arguments of `apiary run`.
pub struct RunArgs {
    pub program: PathBuf,
    pub mem: Option<String>,
    pub format: FormatArg,
    pub section: Option<String>,
    pub function: Option<String>,
    pub engine: EngineArg,
    pub budget: Option<u64>,
    pub callx: bool,
    pub stats: bool,
    pub dump_mem: bool,
    pub unverified: bool,
    pub unsandboxed: bool,
    pub forge_proofs: bool,
    pub dump_maps: bool,
    pub tail_calls: Vec<String>,
    pub program_type: Option<String>,
}

fn selection(engine: EngineArg) -> Result<EngineSelection, CliError> {
    let name = match engine {
        EngineArg::Interp => "interp",
        EngineArg::Jit => "jit",
        EngineArg::Kernel => "kernel",
        EngineArg::All => "all",
    };
    name.parse().map_err(CliError::Engine)
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `apiary run`: prints r0 (and the count with `--stats`); with several engines, every engine's
/// outcome and memory must agree.
pub fn run(args: &RunArgs) -> Result<ExitCode, CliError> {
    let path = &args.program;
    // What `--mem` means is decided (and a missing file reported) before anything is read.
    let mem = mem_arg(args.mem.as_deref())?;
    if mem == MemArg::File(PathBuf::from("-")) && path == Path::new("-") {
        return Err(CliError::StdinTwice);
    }
    // Read once: the program may come from standard input.
    let bytes = read_file(path)?;
    if matches!(args.format, FormatArg::Auto) && run_object::is_elf(&bytes) {
        if args.forge_proofs {
            return Err(CliError::RawOnly {
                option: "--forge-proofs",
                path: path.clone(),
            });
        }
        // Objects run on apiary's engines; `all` means every one of them.
        let engines = match args.engine {
            EngineArg::All => apiary::EngineKind::ALL.to_vec(),
            EngineArg::Kernel => return Err(CliError::KernelObject { path: path.clone() }),
            _ => selection(args.engine)?
                .engines()
                .into_iter()
                .filter_map(EngineKind::library)
                .collect(),
        };
        return run_object::run(&run_object::ObjectRunArgs {
            path,
            bytes: &bytes,
            mem: &mem,
            section: args.section.as_deref(),
            function: args.function.as_deref(),
            engines,
            budget: args.budget,
            callx: args.callx,
            unverified: args.unverified,
            unsandboxed: args.unsandboxed,
            stats: args.stats,
            dump_mem: args.dump_mem,
            dump_maps: args.dump_maps,
            tail_calls: &args.tail_calls,
            context: args.program_type.as_deref(),
        });
    }
    refuse_object_options(path, args)?;
    let insns = parse_selected(path, &bytes, args.format, Selection::default())?.insns;
    let options = LoadOptions {
        callx: args.callx,
        ..LoadOptions::default()
    };
    let program = Arc::new(
        Program::new(insns, &options).map_err(|source| CliError::Load {
            path: path.clone(),
            source,
        })?,
    );
    let env = Environment::new(
        conformance_helpers(),
        ExecConfig {
            budget: args.budget,
        },
    );
    let mem = read_mem(
        &mem,
        apiary::ContextKind::Mem.max_input(),
        apiary::ContextKind::Mem.input_name(),
    )?;
    let engines = selection(args.engine)?.engines();
    let several = engines.len() > 1;
    // What each engine did (for the agreement check, shared with the conformance runner), and
    // the memory each left behind.
    let mut observations: Vec<(EngineKind, Observation)> = Vec::new();
    let mut memories: Vec<Vec<u8>> = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for kind in engines {
        let prefix = if several {
            format!("{kind}: ")
        } else {
            String::new()
        };
        let prepared = if args.forge_proofs {
            prepare_forged(kind, &program, &env, path)?
        } else {
            prepare_for_input(kind, Arc::clone(&program), &env, Some(mem.len()))
        };
        let exe = match prepared {
            Ok(exe) => exe,
            // With several engines, an input past the kernel oracle's size limit leaves the
            // kernel out: the others still run and are compared.
            Err(
                e @ PrepareError::Kernel {
                    error: KernelError::InputTooLarge { .. },
                },
            ) if several => {
                let _ = writeln!(stdout, "{prefix}not run: {e}");
                continue;
            }
            // With several engines, the kernel's documented exclusions and its verifier's
            // refusals are reported, and judged by the runner's agreement rules.
            Err(e)
                if several
                    && (e.is_kernel_rejection()
                        || matches!(e, PrepareError::KernelExcluded { .. })) =>
            {
                let _ = writeln!(stdout, "{prefix}not run: {e}");
                observations.push((kind, Observation::Refused(e)));
                continue;
            }
            Err(source) => {
                return Err(CliError::Prepare {
                    path: path.clone(),
                    source,
                })
            }
        };
        let mut input = mem.clone();
        let outcome = exe.run(&mut ExecState::new(), &mut input);
        match outcome.result {
            Ok(r0) => {
                let _ = writeln!(stdout, "{prefix}r0 = {r0} ({r0:#x})");
            }
            Err(fault) => {
                let _ = writeln!(stdout, "{prefix}fault: {fault}");
            }
        }
        if args.stats {
            if let Some(n) = outcome.instructions {
                let _ = writeln!(stdout, "{prefix}instructions = {n}");
            }
        }
        if args.dump_mem {
            let _ = writeln!(stdout, "{prefix}mem = {}", hex(&input));
        }
        observations.push((kind, Observation::Ran(outcome)));
        memories.push(input);
    }
    let Some(first) = observations.iter().find_map(|(_, o)| match o {
        Observation::Ran(outcome) => Some(*outcome),
        Observation::Refused(_) => None,
    }) else {
        eprintln!("error: no engine ran the program");
        return Ok(ExitCode::FAILURE);
    };
    let memory_differs = memories.iter().any(|m| m != &memories[0]);
    if let Some(details) = disagreement(&observations) {
        eprintln!("error: engines disagree: {details}");
        return Ok(ExitCode::FAILURE);
    }
    if memory_differs {
        eprintln!("error: engines disagree on the memory left behind");
        return Ok(ExitCode::FAILURE);
    }
    Ok(if first.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--forge-proofs`: `program` with every access "proven", prepared sandboxed on one of apiary's
/// engines (the kernel has no such mode).
fn prepare_forged(
    kind: EngineKind,
    program: &Arc<Program>,
    env: &Environment,
    path: &Path,
) -> Result<Result<Box<dyn apiary::Executable>, PrepareError>, CliError> {
    let Some(engine) = kind.library() else {
        return Err(CliError::RawOnly {
            option: "--forge-proofs with --engine kernel (apiary's engines only)",
            path: path.to_owned(),
        });
    };
    // SAFETY: forged facts are prepared sandboxed only: every unchecked access is confined to
    // the program's private window (no regions here), which is what this option tests.
    let forged = unsafe { apiary::VerifiedProgram::forged(Arc::clone(program), None) };
    // SAFETY: as above; the environment has no regions and the conformance helpers check
    // their own accesses.
    Ok(unsafe { apiary::prepare_verified(engine, &forged, env) }.map_err(PrepareError::Engine))
}

/// A raw program has no sections, maps or context type: the options about those are errors
/// rather than silently ignored.
fn refuse_object_options(path: &Path, args: &RunArgs) -> Result<(), CliError> {
    let given = [
        ("--section", args.section.is_some()),
        ("--function", args.function.is_some()),
        ("--type", args.program_type.is_some()),
        ("--unverified", args.unverified),
        ("--unsandboxed", args.unsandboxed),
        ("--dump-maps", args.dump_maps),
        ("--tail-call", !args.tail_calls.is_empty()),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some(&(option, _)) => Err(CliError::ObjectOnly {
            option,
            path: path.to_owned(),
        }),
        None => Ok(()),
    }
}

/// `apiary asm`: assembly to raw bytecode or hex.
pub fn asm(input: &Path, output: Option<&Path>, as_hex: bool) -> Result<ExitCode, CliError> {
    let insns = read_program(input, FormatArg::Asm)?;
    let bytes = insns_to_bytes(&insns);
    let data = if as_hex {
        let mut text = insns
            .iter()
            .map(|i| hex(&i.to_bytes()))
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        text.into_bytes()
    } else {
        bytes
    };
    match output {
        Some(path) => std::fs::write(path, data).map_err(|source| CliError::Io {
            path: path.to_owned(),
            source,
        })?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&data).map_err(|source| CliError::Io {
                path: PathBuf::from("-"),
                source,
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `apiary disasm`: one line per instruction; undecodable slots are shown, not fatal.
pub fn disasm(
    path: &Path,
    format: FormatArg,
    section: Option<&str>,
    bytes: bool,
    jit: bool,
) -> Result<ExitCode, CliError> {
    let data = read_file(path)?;
    if matches!(format, FormatArg::Auto) {
        if let Some(object) = parse_object(path, &data)? {
            return disasm_object(path, &object, section, bytes, jit);
        }
    }
    if section.is_some() {
        return Err(CliError::ObjectOnly {
            option: "--section",
            path: path.to_owned(),
        });
    }
    disasm_insns(path, parse_program(path, &data, format)?, bytes, jit)
}

/// Disassembles every program of an ELF object (or those of one section).
fn disasm_object(
    path: &Path,
    object: &apiary_elf::Object,
    section: Option<&str>,
    bytes: bool,
    jit: bool,
) -> Result<ExitCode, CliError> {
    if let Some(wanted) = section {
        if !object.programs.iter().any(|p| p.section == wanted) {
            let err = apiary::source::select(
                object,
                Selection {
                    section,
                    function: None,
                },
            );
            if let Err(source) = err {
                return Err(CliError::Source {
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
    let mut status = ExitCode::SUCCESS;
    for p in object
        .programs
        .iter()
        .filter(|p| section.is_none_or(|s| p.section == s))
    {
        println!(
            "{}:{} ({:?}, {} slots)",
            p.section,
            p.function,
            p.program_type,
            p.insns.len()
        );
        if disasm_insns(path, p.insns.clone(), bytes, jit)? != ExitCode::SUCCESS {
            status = ExitCode::FAILURE;
        }
        println!();
    }
    Ok(status)
}

/// Disassembles one program's slots, with the JIT's code when asked.
fn disasm_insns(
    path: &Path,
    insns: Vec<apiary::Insn>,
    bytes: bool,
    jit: bool,
) -> Result<ExitCode, CliError> {
    let options = LoadOptions::all();
    let program = Program::new(insns.clone(), &options);
    let compiled = match (&program, jit) {
        (Ok(p), true) => {
            let env = Environment::new(conformance_helpers(), ExecConfig::default());
            let j = apiary_jit::Jit::new(Arc::new(p.clone()), &env).map_err(|source| {
                CliError::Jit {
                    path: path.to_owned(),
                    source,
                }
            })?;
            Some(j)
        }
        _ => None,
    };
    let mut stdout = std::io::stdout().lock();
    if let Some(j) = &compiled {
        let start = j.instruction_offsets().first().copied().unwrap_or(0);
        let _ = write!(
            stdout,
            "{}",
            machine_code::listing("entry", j.code(), 0, start)
        );
    }
    let mut pc = 0;
    while pc < insns.len() {
        let (text, slots) = disasm::format_slot(&insns, pc, &options);
        let slots = slots.max(1);
        if bytes {
            let raw = insns[pc..(pc + slots).min(insns.len())]
                .iter()
                .map(|i| hex(&i.to_bytes()))
                .collect::<Vec<_>>();
            let _ = writeln!(stdout, "{pc:5}: {:23}  {text}", raw.join(" "));
        } else {
            let _ = writeln!(stdout, "{pc:5}: {text}");
        }
        if let Some(j) = &compiled {
            let offsets = j.instruction_offsets();
            if let (Some(&from), Some(&to)) = (offsets.get(pc), offsets.get(pc + slots)) {
                let _ = write!(stdout, "{}", machine_code::listing("", j.code(), from, to));
            }
        }
        pc += slots;
    }
    if let Some(j) = &compiled {
        let end = j.instruction_offsets().last().copied().unwrap_or(0);
        let _ = write!(
            stdout,
            "{}",
            machine_code::listing("exits", j.code(), end, j.code_size())
        );
    }
    if let Err(e) = program {
        eprintln!("warning: {}: {e}", path.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `apiary conformance`: runs a directory of `.data` tests and prints a summary.
pub fn conformance(
    path: &Path,
    engine: EngineArg,
    json: bool,
    verbose: bool,
) -> Result<ExitCode, CliError> {
    let config = RunConfig::with_engines(selection(engine)?);
    let files = if path.is_file() {
        vec![path.to_owned()]
    } else {
        list_tests(path).map_err(|source| CliError::Conformance {
            path: path.to_owned(),
            source,
        })?
    };
    let progress = !json && std::io::stderr().is_terminal();
    let mut tests = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        if progress {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            eprint!("\r\x1b[K[{}/{}] {name}", i + 1, files.len());
        }
        tests.push(run_file(file, &config));
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    let report = RunReport {
        selection: config.engines,
        tests,
    };
    let mut stdout = std::io::stdout().lock();
    if json {
        let _ = writeln!(stdout, "{}", report.to_json());
    } else {
        for t in &report.tests {
            let shown = verbose || !matches!(t.verdict, Verdict::Passed | Verdict::Skipped { .. });
            if shown {
                let message = t
                    .verdict
                    .message()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                let _ = writeln!(stdout, "{:8} {}{message}", verdict_tag(&t.verdict), t.name);
            }
        }
        let _ = writeln!(
            stdout,
            "{:<8} {:>7} {:>7} {:>7} {:>7}",
            "engine", "passed", "failed", "errors", "skipped"
        );
        let mut rows = report.engine_summaries();
        if rows.len() > 1 {
            rows.push(report.summary());
        }
        for s in rows {
            let _ = writeln!(
                stdout,
                "{:<8} {:>7} {:>7} {:>7} {:>7}",
                s.engine, s.passed, s.failed, s.errors, s.skipped
            );
        }
    }
    // A run where nothing ran proves nothing: an empty or wrong folder is an error, not a pass.
    let summary = report.summary();
    if summary.failed == 0 && summary.errors == 0 && summary.passed == 0 {
        let why = if report.tests.is_empty() {
            "no .data file found".to_owned()
        } else {
            let first = report.tests.iter().find_map(|t| match &t.verdict {
                Verdict::Skipped { reason } => Some(format!(", {}: {reason}", t.name)),
                _ => None,
            });
            format!(
                "all {} tests were skipped{}",
                report.tests.len(),
                first.unwrap_or_default()
            )
        };
        return Err(CliError::NoTests {
            path: path.to_owned(),
            why,
        });
    }
    Ok(if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn verdict_tag(v: &Verdict) -> &'static str {
    match v {
        Verdict::Passed => "PASS",
        Verdict::Failed { .. } => "FAIL",
        Verdict::Disagreement { .. } => "DISAGREE",
        Verdict::Error { .. } => "ERROR",
        Verdict::Skipped { .. } => "SKIP",
    }
}
