//! `apiary run FILE.o`: one program of an ELF object, with its maps, helpers and context.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use std::sync::Arc;

use apiary::platform::{choose_type, LinuxType, TypeChoice};
use apiary::{
    Config, ContextKind, EngineKind, Instance, Module, ProgramError, RunOutput, Store,
    VerifyFailure,
};

use super::inputs::{read_mem, MemArg};
use super::CliError;

/// Arguments of `apiary run` for an object.
pub struct ObjectRunArgs<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub mem: &'a MemArg,
    pub section: Option<&'a str>,
    pub function: Option<&'a str>,
    pub engines: Vec<EngineKind>,
    pub budget: Option<u64>,
    pub callx: bool,
    pub unverified: bool,
    pub unsandboxed: bool,
    pub stats: bool,
    pub dump_mem: bool,
    pub dump_maps: bool,
    pub tail_calls: &'a [String],
    pub context: Option<&'a str>,
}

fn object_err(path: &Path) -> impl Fn(apiary::ObjectError) -> CliError + '_ {
    move |source| CliError::Object {
        path: path.to_owned(),
        source,
    }
}

/// A `MAP:INDEX=PROGRAM` argument.
fn parse_tail_call(arg: &str) -> Result<(&str, u32, &str), CliError> {
    let bad = |why| CliError::TailCallArg {
        arg: super::inputs::shorten(arg),
        why,
    };
    let (slot, program) = arg.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let (map, index) = slot
        .rsplit_once(':')
        .ok_or_else(|| bad("no `:` before `=`"))?;
    let index = match index.parse::<u32>() {
        Ok(i) => i,
        Err(e) if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) => {
            return Err(bad("INDEX does not fit in 32 bits"))
        }
        Err(_) => return Err(bad("INDEX is not a number")),
    };
    if map.is_empty() {
        return Err(bad("MAP is empty"));
    }
    if program.is_empty() {
        return Err(bad("PROGRAM is empty"));
    }
    Ok((map, index, program))
}

/// Forwards what is written to `inner` and keeps a digest of it, so that engines' map
/// listings can be compared without holding them.
struct DigestWriter<'a, W: Write> {
    inner: &'a mut W,
    hasher: std::collections::hash_map::DefaultHasher,
}

impl<'a, W: Write> DigestWriter<'a, W> {
    fn new(inner: &'a mut W) -> Self {
        Self {
            inner,
            hasher: std::collections::hash_map::DefaultHasher::new(),
        }
    }

    /// The underlying writer, for bytes that are not part of the digest (an engine's prefix).
    fn inner(&mut self) -> &mut W {
        self.inner
    }

    fn finish(self) -> u64 {
        std::hash::Hasher::finish(&self.hasher)
    }
}

impl<W: Write> Write for DigestWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        std::hash::Hasher::write(&mut self.hasher, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the object's selected program on each engine; with several engines their r0, memory
/// and map contents must agree.
pub fn run(args: &ObjectRunArgs<'_>) -> Result<ExitCode, CliError> {
    let path = args.path;
    let forced = match args.context {
        Some(name) => Some(
            TypeChoice::named(name).ok_or_else(|| CliError::ProgramType {
                name: name.to_owned(),
                available: apiary::platform::PROGRAM_TYPE_NAMES,
            })?,
        ),
        None => None,
    };
    let mut config = Config {
        budget: args.budget,
        verified: !args.unverified,
        unsandboxed: args.unsandboxed,
        load: apiary::LoadOptions {
            callx: args.callx,
            ..apiary::LoadOptions::default()
        },
        // One store per engine.
        stores: 1,
        ..Config::default()
    };
    let object = config
        .parse_object(args.bytes)
        .map_err(|source| object_err(path)(apiary::ObjectError::Elf { source }))?;
    // The program's type is chosen as `apiary verify` chooses it (`choose_type`: `--type`,
    // else the section, with the same rule for sections libbpf does not know), from the
    // selected program's section, and given to every program of the object (its tail-call
    // targets run in the same context).
    let selection = apiary::source::Selection {
        section: args.section,
        function: args.function,
    };
    let program_type = match apiary::source::select(&object, selection) {
        Ok(index) => Some(choose_type(
            &path.to_string_lossy(),
            &object.programs[index].section,
            forced,
        )),
        // `Module::select` below reports the selection error.
        Err(_) => forced,
    };
    config.program_type = program_type;
    if let (true, Some(t)) = (args.stats, program_type) {
        // Before anything runs, so that the choice shows even for a program that cannot run.
        println!("type = {}", t.name());
    }
    // Parsed, decoded and (in verified mode) verified once, for every engine.
    let module = Arc::new(Module::from_object(&config, object).map_err(object_err(path))?);
    let prog = module
        .select(args.section, args.function)
        .map_err(object_err(path))?;
    let name = module.name(prog).unwrap_or_default();
    let kind = module.context(prog).unwrap_or(ContextKind::Mem);
    // Read once the program's context (its input limit) is known.
    let mut mem: Option<Vec<u8>> = None;
    // Each engine's instance stays alive until its maps are listed (streamed, see below).
    let mut results: Vec<(EngineKind, RunOutput, Instance)> = Vec::new();
    let mut proven = None;
    let mut stdout = std::io::stdout().lock();
    for &engine in &args.engines {
        let instance = Instance::new(Arc::clone(&module), engine).map_err(object_err(path))?;
        if let Some(ProgramError::Rejected { failure }) = instance.program_error(prog) {
            report_rejection(&name, failure, program_type);
            return Ok(ExitCode::FAILURE);
        }
        for spec in args.tail_calls {
            let (map, slot, program) = parse_tail_call(spec)?;
            let map = module.map(map).map_err(object_err(path))?;
            let program = module.find(program).map_err(object_err(path))?;
            instance
                .set_tail_call(map, slot, program)
                .map_err(object_err(path))?;
        }
        proven = instance.proven_accesses(prog);
        let input = match &mut mem {
            Some(m) => m,
            None => mem.insert(read_mem(args.mem, kind.max_input(), kind.input_name())?),
        };
        let mut store = Store::new(&instance).map_err(object_err(path))?;
        let out = instance
            .run(&mut store, prog, input)
            .map_err(object_err(path))?;
        results.push((engine, out, instance));
    }
    let several = results.len() > 1;
    // A digest of each engine's map listing, compared across engines: the listings are
    // streamed to stdout (a map of any size in constant memory), never held.
    let mut map_digests = Vec::with_capacity(results.len());
    for (engine, out, loaded) in &results {
        let prefix = if several {
            format!("{engine}: ")
        } else {
            String::new()
        };
        match out.outcome.result {
            Ok(r0) => {
                let action = out.action().map(|a| format!(" {a}")).unwrap_or_default();
                let _ = writeln!(stdout, "{prefix}r0 = {r0} ({r0:#x}){action}");
            }
            Err(fault) => {
                let _ = writeln!(stdout, "{prefix}fault: {fault}");
            }
        }
        if args.stats {
            if let Some(n) = out.outcome.instructions {
                let _ = writeln!(stdout, "{prefix}instructions = {n}");
            }
        }
        if args.dump_mem {
            let _ = writeln!(stdout, "{prefix}mem = {}", hex(&out.data));
        }
        if args.dump_maps {
            let mut sink = DigestWriter::new(&mut stdout);
            for index in 0..loaded.maps().len() {
                let _ = write!(sink.inner(), "{prefix}");
                let _ = loaded.write_map_dump(index, &mut sink);
            }
            map_digests.push(sink.finish());
        }
    }
    if let (true, Some((n, all))) = (args.stats, proven) {
        let _ = writeln!(
            stdout,
            "verified: {n} of {all} memory accesses run unchecked"
        );
    }
    let (_, first, _) = &results[0];
    let counts_differ =
        |a: Option<u64>, b: Option<u64>| matches!((a, b), (Some(x), Some(y)) if x != y);
    let disagree = map_digests.iter().any(|d| Some(d) != map_digests.first())
        || results.iter().any(|(_, o, _)| {
            o.outcome.result != first.outcome.result
                || o.data != first.data
                || counts_differ(o.outcome.instructions, first.outcome.instructions)
        });
    if disagree {
        eprintln!("error: engines disagree");
        return Ok(ExitCode::FAILURE);
    }
    Ok(if first.outcome.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints a verifier rejection as `apiary verify` does, plus how to run anyway (and, for a
/// section name that implies no program type, how to choose one).
fn report_rejection(name: &str, failure: &VerifyFailure, program_type: Option<TypeChoice>) {
    match failure {
        VerifyFailure::Load { source } => eprintln!("{name}: rejected: {source}"),
        VerifyFailure::Link { source } => eprintln!("{name}: cannot be linked: {source}"),
        VerifyFailure::Rejected { rejection: r } => {
            eprintln!("{name}: rejected at instruction {}: {}", r.pc, r.reason);
            for line in format!("{}: {}\n{}", r.pc, r.instruction, r.state).lines() {
                eprintln!("    {line}");
            }
        }
    }
    if program_type == Some(TypeChoice::Linux(LinuxType::Unspecified)) {
        eprintln!(
            "(libbpf's section table does not know the section name, so the program was \
             verified as `unspec`, a tc program's __sk_buff; --type chooses its type: {})",
            apiary::platform::PROGRAM_TYPE_NAMES
        );
    }
    eprintln!("(the verifier rejected the program; --unverified runs it in checked mode)");
}

/// Whether `bytes` is an ELF file.
#[must_use]
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_call_arguments() {
        assert!(matches!(
            parse_tail_call("jmp:3=handle_tcp"),
            Ok(("jmp", 3, "handle_tcp"))
        ));
        assert!(matches!(
            parse_tail_call("a:b:7=xdp:f"),
            Ok(("a:b", 7, "xdp:f"))
        ));
        for bad in ["jmp3=x", "jmp:x=y", ":1=y", "m:1=", "m:1"] {
            assert!(parse_tail_call(bad).is_err(), "{bad}");
        }
    }
}
