//! `apiary verify`: one verdict per program, as text or JSON; exit code 0 iff every selected
//! program is accepted.

use std::path::Path;
use std::process::ExitCode;

use apiary::platform::{choose_type, inner_maps, map_infos, TypeChoice, PROGRAM_TYPE_NAMES};
use apiary::{LoadOptions, Program};
use apiary_conformance::json::{array, object, Value};
use apiary_verifier::{verify_log_with, verify_with, MapInfo, Options, Platform, ProgramType};

use super::inputs::{parse_object, parse_program, read_file};
use super::{CliError, FormatArg};

/// Arguments of `apiary verify`.
pub struct VerifyArgs<'a> {
    pub path: &'a Path,
    pub format: FormatArg,
    pub section: Option<&'a str>,
    pub program_type: Option<&'a str>,
    pub json: bool,
    pub log: bool,
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
    let verdicts: Vec<Verdict> = jobs
        .into_iter()
        .map(|j| judge(j, &setting, args.log))
        .collect();
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

fn jobs(
    args: &VerifyArgs<'_>,
    forced: Option<TypeChoice>,
) -> Result<(Vec<Job>, Setting), CliError> {
    let bytes = read_file(args.path)?;
    if matches!(args.format, FormatArg::Auto) {
        if let Some(object) = parse_object(args.path, &bytes)? {
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
    if args.section.is_some() {
        return Err(CliError::ObjectOnly {
            option: "--section",
            path: args.path.to_owned(),
        });
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
    };
    if let Some(reason) = job.link_error {
        v.reason = Some(reason);
        return v;
    }
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
            v.reason = Some(r.reason.to_string());
            v.detail = Some(format!("{}: {}\n{}", r.pc, r.instruction, r.state));
        }
    }
    v
}

fn print(verdicts: &[Verdict], json: bool) {
    if json {
        let items = verdicts.iter().map(|v| {
            object(vec![
                ("section", Value::Str(v.section.clone())),
                ("function", Value::Str(v.function.clone())),
                ("type", Value::Str(v.program_type.to_owned())),
                ("accepted", Value::Bool(v.accepted)),
                ("pc", v.pc.map_or(Value::Null, |pc| Value::Num(pc as u64))),
                ("reason", v.reason.clone().map_or(Value::Null, Value::Str)),
                ("time_us", Value::Num(v.time_us)),
            ])
        });
        println!("{}", array(items));
        return;
    }
    for v in verdicts {
        if let Some(log) = &v.log {
            print!("{log}");
        }
        let name = if v.section.is_empty() {
            "program".to_owned()
        } else if v.section == v.function {
            v.section.clone()
        } else {
            format!("{}:{}", v.section, v.function)
        };
        if v.accepted {
            println!("{name}: accepted ({} us)", v.time_us);
        } else {
            let at =
                v.pc.map(|pc| format!(" at instruction {pc}"))
                    .unwrap_or_default();
            println!(
                "{name}: rejected{at}: {}",
                v.reason.as_deref().unwrap_or("?")
            );
            if let Some(d) = &v.detail {
                for line in d.lines() {
                    println!("    {line}");
                }
            }
        }
    }
}
