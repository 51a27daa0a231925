//! `apiary verify`: one verdict per program, as text or JSON; exit code 0 iff every selected
//! program is accepted.
//!
//! With `--kernel`, each program of an ELF object is also loaded alone into the running kernel
//! through libbpf ([`apiary_conformance::kernel::libbpf`]), and both verdicts are shown: the
//! programs where apiary and the kernel disagree come first in text output, and JSON gains
//! `kernel: {accepted, reason}`, or `kernel: {environment}` when the kernel could not judge
//! (no permission, no trampolines, a missing attach target or kfunc).

use std::path::Path;
use std::process::ExitCode;

use apiary::platform::{choose_type, inner_maps, map_infos, TypeChoice, PROGRAM_TYPE_NAMES};
use apiary::{LoadOptions, Program};
use apiary_conformance::json::{array, object, Value};
use apiary_conformance::kernel::libbpf::{self, LibbpfOptions, Outcome};
use apiary_verifier::{verify_log_with, verify_with, MapInfo, Options, Platform, ProgramType};

use super::inputs::{parse_object_with, parse_program, read_file};
use super::{CliError, FormatArg};

/// Arguments of `apiary verify`.
pub struct VerifyArgs<'a> {
    pub path: &'a Path,
    pub format: FormatArg,
    pub section: Option<&'a str>,
    pub program_type: Option<&'a str>,
    pub json: bool,
    pub log: bool,
    /// Also ask the running kernel (through libbpf), per program.
    pub kernel: bool,
    /// A kernel configuration file for `__kconfig` externs, over the host's.
    pub kconfig: Option<&'a Path>,
    /// A target BTF file for CO-RE.
    pub btf: Option<&'a Path>,
}

/// One program to verify.
struct Job {
    section: String,
    function: String,
    program_type: ProgramType,
    insns: Vec<apiary::Insn>,
    /// Why the program could not be linked, if it could not.
    link_error: Option<String>,
}

/// The verdict on one program.
struct Verdict {
    section: String,
    function: String,
    /// The program type it was verified as ([`choose_type`]).
    program_type: &'static str,
    accepted: bool,
    pc: Option<usize>,
    reason: Option<String>,
    detail: Option<String>,
    time_us: u64,
    log: Option<String>,
    /// The kernel's outcome (`--kernel`).
    kernel: Option<Outcome>,
}

/// Runs `apiary verify`.
pub fn verify(args: &VerifyArgs<'_>) -> Result<ExitCode, CliError> {
    let forced = match args.program_type {
        Some(name) => Some(
            TypeChoice::named(name).ok_or_else(|| CliError::ProgramType {
                name: name.to_owned(),
                available: PROGRAM_TYPE_NAMES,
            })?,
        ),
        None => None,
    };
    let (jobs, setting) = jobs(args, forced)?;
    if jobs.is_empty() {
        return Err(CliError::NoPrograms {
            path: args.path.to_owned(),
        });
    }
    let mut verdicts: Vec<Verdict> = jobs
        .into_iter()
        .map(|j| judge(j, &setting, args.log))
        .collect();
    if args.kernel {
        ask_kernel(args, &mut verdicts)?;
    }
    print(&verdicts, args.json);
    let all = verdicts.iter().all(|v| v.accepted);
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What every program of one file is verified against.
struct Setting {
    maps: Vec<MapInfo>,
    inner_maps: Vec<(u32, MapInfo)>,
    platform: Platform,
    load: LoadOptions,
}

/// The loader options of `--kconfig` and `--btf`.
fn object_options(args: &VerifyArgs<'_>) -> Result<apiary::Config, CliError> {
    let mut options = apiary::Config::default();
    if let Some(path) = args.kconfig {
        let text = String::from_utf8_lossy(&read_file(path)?).into_owned();
        apiary_elf::externs::parse_kconfig(&text, &mut options.kconfig);
    }
    if let Some(path) = args.btf {
        let btf = apiary_elf::TargetBtf::parse(read_file(path)?.into()).map_err(|e| {
            CliError::Source {
                path: path.to_owned(),
                source: apiary::source::SourceError::Elf(e),
            }
        })?;
        options.target_btf = Some(std::sync::Arc::new(btf));
    }
    Ok(options)
}

/// Loads each program into the kernel with libbpf and records its outcome beside apiary's.
fn ask_kernel(args: &VerifyArgs<'_>, verdicts: &mut [Verdict]) -> Result<(), CliError> {
    if !matches!(args.format, FormatArg::Auto) || verdicts.iter().all(|v| v.section.is_empty()) {
        return Err(CliError::ObjectOnly {
            option: "--kernel",
            path: args.path.to_owned(),
        });
    }
    let names: Vec<(String, String)> = verdicts
        .iter()
        .map(|v| (v.section.clone(), v.function.clone()))
        .collect();
    let options = LibbpfOptions {
        kconfig: args.kconfig,
        btf: args.btf,
        only: Some(&names),
    };
    match libbpf::verdicts(args.path, &options) {
        Ok(outcomes) => {
            for v in verdicts.iter_mut() {
                v.kernel = Some(
                    outcomes
                        .iter()
                        .find(|o| o.section == v.section && o.function == v.function)
                        .map_or_else(
                            || Outcome::Environment {
                                reason: "libbpf does not list this program".into(),
                            },
                            |o| o.outcome.clone(),
                        ),
                );
            }
        }
        Err(reason) => {
            for v in verdicts.iter_mut() {
                v.kernel = Some(Outcome::Environment {
                    reason: format!("libbpf cannot open the object: {reason}"),
                });
            }
        }
    }
    Ok(())
}

fn jobs(
    args: &VerifyArgs<'_>,
    forced: Option<TypeChoice>,
) -> Result<(Vec<Job>, Setting), CliError> {
    let bytes = read_file(args.path)?;
    if matches!(args.format, FormatArg::Auto) {
        let options = object_options(args)?;
        if let Some(object) = parse_object_with(args.path, &bytes, &options)? {
            let path = args.path.to_string_lossy();
            let jobs = object
                .programs
                .iter()
                .filter(|p| args.section.is_none_or(|s| p.section == s))
                .map(|p| Job {
                    section: p.section.clone(),
                    function: p.function.clone(),
                    program_type: choose_type(&path, &p.section, forced).verifier_type(),
                    insns: p.insns.clone(),
                    link_error: p.link_error.as_ref().map(|e| format!("link: {e}")),
                })
                .collect::<Vec<_>>();
            if jobs.is_empty() && args.section.is_some() {
                // Name the section asked for and the ones the object has.
                let selection = apiary::source::Selection {
                    section: args.section,
                    function: None,
                };
                if let Err(source) = apiary::source::select(&object, selection) {
                    return Err(CliError::Source {
                        path: args.path.to_owned(),
                        source,
                    });
                }
            }
            let setting = Setting {
                maps: map_infos(&object),
                inner_maps: inner_maps(&object),
                platform: Platform::linux(),
                load: apiary::object::object_load_options(),
            };
            return Ok((jobs, setting));
        }
    }
    for (given, option) in [
        (args.section.is_some(), "--section"),
        (args.kernel, "--kernel"),
        (args.kconfig.is_some(), "--kconfig"),
        (args.btf.is_some(), "--btf"),
    ] {
        if given {
            return Err(CliError::ObjectOnly {
                option,
                path: args.path.to_owned(),
            });
        }
    }
    let insns = parse_program(args.path, &bytes, args.format)?;
    let job = Job {
        section: String::new(),
        function: String::new(),
        program_type: forced.unwrap_or(TypeChoice::Mem).verifier_type(),
        insns,
        link_error: None,
    };
    let setting = Setting {
        maps: Vec::new(),
        inner_maps: Vec::new(),
        platform: Platform::conformance(),
        load: LoadOptions::default(),
    };
    Ok((vec![job], setting))
}

fn judge(job: Job, setting: &Setting, log: bool) -> Verdict {
    let (platform, maps) = (&setting.platform, &setting.maps[..]);
    let mut v = Verdict {
        section: job.section,
        function: job.function,
        program_type: job.program_type.name,
        accepted: false,
        pc: None,
        reason: None,
        detail: None,
        time_us: 0,
        log: None,
        kernel: None,
    };
    if let Some(reason) = job.link_error {
        v.reason = Some(reason);
        return v;
    }
    // Slots holding libbpf's CO-RE poison call, to explain a rejection there.
    let poisoned: Vec<usize> = job
        .insns
        .iter()
        .enumerate()
        .filter(|(_, i)| i.op == 0x85 && i.src == 0 && i.imm == apiary_elf::co_re::POISON)
        .map(|(pc, _)| pc)
        .collect();
    let program = match Program::new(job.insns, &setting.load) {
        Ok(p) => p,
        Err(e) => {
            v.pc = e.pc();
            v.reason = Some(e.to_string());
            return v;
        }
    };
    let start = std::time::Instant::now();
    // One set of options with or without the log: maps of maps are described either way.
    let options = Options {
        inner_maps: setting.inner_maps.clone(),
        ..Options::default()
    };
    let result = if log {
        let (r, text) = verify_log_with(&program, platform, &job.program_type, maps, &options);
        v.log = Some(text);
        r
    } else {
        verify_with(&program, platform, &job.program_type, maps, &options).0
    };
    v.time_us = start.elapsed().as_micros() as u64;
    match result {
        Ok(_) => v.accepted = true,
        Err(r) => {
            v.pc = Some(r.pc);
            v.reason = Some(if poisoned.contains(&r.pc) {
                // As libbpf explains the kernel's "invalid func unknown#195896080".
                format!(
                    "a CO-RE relocation that could not be resolved against the target BTF is \
                     reached (its instruction was poisoned, as libbpf does): {}",
                    r.reason
                )
            } else {
                r.reason.to_string()
            });
            v.detail = Some(format!("{}: {}\n{}", r.pc, r.instruction, r.state));
        }
    }
    v
}

/// The kernel's outcome as JSON.
fn kernel_json(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Accepted => object(vec![
            ("accepted", Value::Bool(true)),
            ("reason", Value::Null),
        ]),
        Outcome::Rejected { reason } => object(vec![
            ("accepted", Value::Bool(false)),
            ("reason", Value::Str(reason.clone())),
        ]),
        Outcome::Environment { reason } => {
            object(vec![("environment", Value::Str(reason.clone()))])
        }
    }
}

/// Whether the kernel gave a verdict that differs from apiary's.
fn disagrees(v: &Verdict) -> bool {
    v.kernel
        .as_ref()
        .and_then(Outcome::accepted)
        .is_some_and(|k| k != v.accepted)
}

/// Writes the verdicts to standard output; a closed pipe (`| head`) ends the output quietly
/// instead of panicking as `println!` would.
fn print(verdicts: &[Verdict], json: bool) {
    use std::io::Write as _;
    let text = render(verdicts, json);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The verdicts as `apiary verify` prints them.
fn render(verdicts: &[Verdict], json: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if json {
        let items = verdicts.iter().map(|v| {
            let mut fields = vec![
                ("section", Value::Str(v.section.clone())),
                ("function", Value::Str(v.function.clone())),
                ("type", Value::Str(v.program_type.to_owned())),
                ("accepted", Value::Bool(v.accepted)),
                ("pc", v.pc.map_or(Value::Null, |pc| Value::Num(pc as u64))),
                ("reason", v.reason.clone().map_or(Value::Null, Value::Str)),
                ("time_us", Value::Num(v.time_us)),
            ];
            if let Some(k) = &v.kernel {
                fields.push(("kernel", kernel_json(k)));
            }
            object(fields)
        });
        let _ = writeln!(out, "{}", array(items));
        return out;
    }
    // Disagreements with the kernel first (a stable partition keeps the object's order).
    let (first, rest): (Vec<&Verdict>, Vec<&Verdict>) = verdicts.iter().partition(|v| disagrees(v));
    if verdicts.iter().any(|v| v.kernel.is_some()) {
        let judged = verdicts
            .iter()
            .filter(|v| v.kernel.as_ref().and_then(Outcome::accepted).is_some())
            .count();
        let _ = writeln!(
            out,
            "kernel: {} of {judged} kernel verdicts differ from apiary's ({} programs without a kernel verdict)",
            first.len(),
            verdicts.len() - judged
        );
    }
    for v in first.into_iter().chain(rest) {
        if let Some(log) = &v.log {
            out.push_str(log);
        }
        let name = if v.section.is_empty() {
            "program".to_owned()
        } else if v.section == v.function {
            v.section.clone()
        } else {
            format!("{}:{}", v.section, v.function)
        };
        if v.accepted {
            let _ = writeln!(out, "{name}: accepted ({} us)", v.time_us);
        } else {
            let at =
                v.pc.map(|pc| format!(" at instruction {pc}"))
                    .unwrap_or_default();
            let _ = writeln!(
                out,
                "{name}: rejected{at}: {}",
                v.reason.as_deref().unwrap_or("?")
            );
            if let Some(d) = &v.detail {
                for line in d.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        match &v.kernel {
            None => {}
            Some(Outcome::Accepted) => {
                let _ = writeln!(out, "    kernel: accepted{}", mark(v));
            }
            Some(Outcome::Rejected { reason }) => {
                let _ = writeln!(out, "    kernel: rejected: {reason}{}", mark(v));
            }
            Some(Outcome::Environment { reason }) => {
                let _ = writeln!(out, "    kernel: no verdict (environment): {reason}");
            }
        }
    }
    out
}

/// Flags a kernel verdict that differs from apiary's.
fn mark(v: &Verdict) -> &'static str {
    if disagrees(v) {
        "  [DISAGREES]"
    } else {
        ""
    }
}
