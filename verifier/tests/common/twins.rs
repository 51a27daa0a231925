//! The unsafe-twin cases' one runner. Each case is a data file, `tests/unsafe/<table>/<name>.twin`:
//! an unsafe program the verifier must reject with an expected reason and its safe twin (the
//! smallest change that makes it safe) it must accept. A table is a folder whose `maps` file
//! lists the maps every case in it sees (by `lddw map_idx`).
//!
//! A case file is a header of `#` comments (the assembler's comment syntax) and the two
//! programs, each after its marker line. (`.twin`, not `.asm`: the file holds two programs, and
//! pairs that differ in one line are data, not code repeated.)
//!
//! ```text
//! # name: r0 never written
//! # class: uninit-reg
//! # type: mem 8                  (or xdp, socket_filter, sched_cls, kprobe, tracepoint)
//! # expect: UninitRegister       (the RejectReason variant, as in Debug)
//! # flag: known_unsound: why     (optional; or known_gap: why)
//! # unsafe:
//! exit
//! # safe:
//! mov %r0, 0
//! exit
//! ```
//!
//! [`Case::to_text`] writes this format and [`parse`] reads it, so that a table still written
//! as Rust can be converted with [`write_table`] instead of being retyped: in the file holding
//! the table (its `cases()` returning [`Case`]s), run once
//!
//! ```text
//! #[test]
//! #[ignore = "converter"]
//! fn export_table() {
//!     twins::write_table(&twins::table_dir("NAME"), &cases()).unwrap();
//! }
//! ```
//!
//! with `cargo test -p apiary-verifier --test FILE -- --ignored export_table`, write the table's
//! `maps` file (its maps by `map_idx`), add `table("NAME", FLOOR, 0)` to `unsafe_twins.rs` and
//! delete the Rust table. The mem and issue-13 tables were converted that way, with a check that
//! every file read back equals its Rust case.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use apiary_verifier::platform::{map_type, CtxKind};
use apiary_verifier::{verify, MapInfo, Platform, ProgramType, RejectReason};
use apiary_vm::{asm, LoadOptions, Program};

/// A case whose outcome is known to be wrong today, kept visible instead of failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Expected to hold.
    None,
    /// The verifier accepts the unsafe program (or rejects it for another reason).
    KnownUnsound(String),
    /// The verifier rejects the safe twin.
    KnownGap(String),
}

/// One unsafe program and its safe twin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub class: String,
    pub ptype: ProgramType,
    pub maps: Vec<MapInfo>,
    pub unsafe_asm: String,
    pub safe_asm: String,
    /// The expected variant of [`RejectReason`] (its name, as in `Debug`).
    pub expect: String,
    pub flag: Flag,
}

impl Case {
    /// A case expected to hold.
    pub fn new(
        name: &str,
        class: &str,
        ptype: ProgramType,
        maps: &[MapInfo],
        unsafe_asm: impl Into<String>,
        safe_asm: impl Into<String>,
        expect: &str,
    ) -> Self {
        Self {
            name: name.to_owned(),
            class: class.to_owned(),
            ptype,
            maps: maps.to_vec(),
            unsafe_asm: unsafe_asm.into(),
            safe_asm: safe_asm.into(),
            expect: expect.to_owned(),
            flag: Flag::None,
        }
    }

    /// The same case, flagged.
    pub fn flag(mut self, f: Flag) -> Self {
        self.flag = f;
        self
    }

    /// The case as a data file (the maps are the table's, not the file's).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# name: {}", self.name);
        let _ = writeln!(s, "# class: {}", self.class);
        let _ = writeln!(s, "# type: {}", type_name(&self.ptype));
        let _ = writeln!(s, "# expect: {}", self.expect);
        match &self.flag {
            Flag::None => {}
            Flag::KnownUnsound(n) => {
                let _ = writeln!(s, "# flag: known_unsound: {n}");
            }
            Flag::KnownGap(n) => {
                let _ = writeln!(s, "# flag: known_gap: {n}");
            }
        }
        let _ = writeln!(s, "{UNSAFE}\n{}", self.unsafe_asm.trim_end());
        let _ = writeln!(s, "{SAFE}\n{}", self.safe_asm.trim_end());
        s
    }
}

const UNSAFE: &str = "# unsafe:";
const SAFE: &str = "# safe:";

/// The header spelling of a program type: `mem N` or the type's name.
fn type_name(t: &ProgramType) -> String {
    match t.ctx {
        CtxKind::Mem(Some(n)) => format!("mem {n}"),
        CtxKind::Mem(None) => "mem".to_owned(),
        CtxKind::Struct(_) => t.name.to_owned(),
    }
}

fn parse_type(s: &str) -> Result<ProgramType, String> {
    let mut w = s.split_whitespace();
    let t = match (w.next(), w.next()) {
        (Some("mem"), None) => ProgramType::mem(None),
        (Some("mem"), Some(n)) => {
            ProgramType::mem(Some(n.parse().map_err(|e| format!("mem size {n:?}: {e}"))?))
        }
        (Some("xdp"), None) => ProgramType::xdp(),
        (Some("socket_filter"), None) => ProgramType::socket_filter(),
        (Some("sched_cls"), None) => ProgramType::sched_cls(),
        (Some("kprobe"), None) => ProgramType::kprobe(),
        (Some("tracepoint"), None) => ProgramType::tracepoint(),
        _ => return Err(format!("unknown program type {s:?}")),
    };
    if w.next().is_some() {
        return Err(format!("trailing words in program type {s:?}"));
    }
    Ok(t)
}

/// Reads one case file's text; `maps` are its table's.
pub fn parse(text: &str, maps: &[MapInfo]) -> Result<Case, String> {
    let (head, programs) = text
        .split_once(&format!("{UNSAFE}\n"))
        .ok_or_else(|| format!("no `{UNSAFE}` line"))?;
    let (unsafe_asm, safe_asm) = programs
        .split_once(&format!("\n{SAFE}\n"))
        .ok_or_else(|| format!("no `{SAFE}` line after `{UNSAFE}`"))?;
    let mut fields = std::collections::BTreeMap::new();
    for line in head.lines() {
        let l = line
            .strip_prefix("# ")
            .ok_or_else(|| format!("header line is not `# key: value`: {line:?}"))?;
        let (k, v) = l
            .split_once(": ")
            .ok_or_else(|| format!("header line is not `# key: value`: {line:?}"))?;
        if fields.insert(k, v).is_some() {
            return Err(format!("header field {k:?} given twice"));
        }
    }
    let mut take = |k: &str| {
        fields
            .remove(k)
            .ok_or_else(|| format!("no `# {k}:` header"))
    };
    let name = take("name")?;
    let class = take("class")?;
    let ptype = parse_type(take("type")?)?;
    let expect = take("expect")?;
    let flag = match fields.remove("flag") {
        None => Flag::None,
        Some(f) => match f.split_once(": ") {
            Some(("known_unsound", n)) => Flag::KnownUnsound(n.to_owned()),
            Some(("known_gap", n)) => Flag::KnownGap(n.to_owned()),
            _ => {
                return Err(format!(
                    "flag {f:?}: want `known_unsound: why` or `known_gap: why`"
                ))
            }
        },
    };
    if let Some(k) = fields.keys().next() {
        return Err(format!("unknown header field {k:?}"));
    }
    Ok(Case::new(
        name,
        class,
        ptype,
        maps,
        unsafe_asm.trim_end().to_owned(),
        safe_asm.trim_end().to_owned(),
        expect,
    )
    .flag(flag))
}

/// Reads a table's `maps` file: one map a line, `TYPE key value max_entries [readonly]
/// [last_nul=N]`, `#` comments; the line's rank is its `map_idx`.
pub fn parse_maps(text: &str) -> Result<Vec<MapInfo>, String> {
    let mut maps = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: String| format!("maps line {}: {what}", i + 1);
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() < 4 {
            return Err(bad(format!(
                "want `TYPE key value max_entries`, got {line:?}"
            )));
        }
        let num = |s: &str| s.parse::<u32>().map_err(|e| bad(format!("{s:?}: {e}")));
        let ty = match w[0] {
            "HASH" => map_type::HASH,
            "ARRAY" => map_type::ARRAY,
            "PROG_ARRAY" => map_type::PROG_ARRAY,
            "PERF_EVENT_ARRAY" => map_type::PERF_EVENT_ARRAY,
            "RINGBUF" => map_type::RINGBUF,
            t => return Err(bad(format!("unknown map type {t:?}"))),
        };
        let mut m = MapInfo {
            map_type: ty,
            key_size: num(w[1])?,
            value_size: num(w[2])?,
            max_entries: num(w[3])?,
            ..MapInfo::default()
        };
        for opt in &w[4..] {
            match opt.split_once('=') {
                None if *opt == "readonly" => m.readonly = true,
                Some(("last_nul", n)) => m.last_nul = Some(num(n)?),
                _ => return Err(bad(format!("unknown option {opt:?}"))),
            }
        }
        maps.push(m);
    }
    Ok(maps)
}

/// The folder of a table of cases.
pub fn table_dir(table: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/unsafe")
        .join(table)
}

/// Every case of a table, in file-name order; panics naming the file that does not parse.
pub fn load_table(table: &str) -> Vec<Case> {
    let dir = table_dir(table);
    let read =
        |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let maps = parse_maps(&read(&dir.join("maps")))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("maps").display()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|x| x == "twin"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| parse(&read(p), &maps).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// A file name for a case: its name's words, lowercased and joined by `-`.
pub fn file_stem(name: &str) -> String {
    let mut s = String::new();
    for w in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if s.len() + w.len() > 72 {
            break;
        }
        if !s.is_empty() {
            s.push('-');
        }
        s.push_str(&w.to_ascii_lowercase());
    }
    s
}

/// Writes `cases` as a table's files in `dir` (the converter for a table written as Rust; the
/// `maps` file is written by hand). Names that slug alike get `-2`, `-3`, ...
pub fn write_table(dir: &Path, cases: &[Case]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for c in cases {
        let stem = file_stem(&c.name);
        let n = seen.entry(stem.clone()).or_default();
        *n += 1;
        let file = if *n == 1 {
            format!("{stem}.twin")
        } else {
            format!("{stem}-{n}.twin")
        };
        std::fs::write(dir.join(file), c.to_text())?;
    }
    Ok(())
}

/// The variant name of a rejection reason (`OutOfBounds`, `UninitRegister`, ...).
pub fn variant(r: &RejectReason) -> String {
    let d = format!("{r:?}");
    d.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn program(text: &str) -> Result<Program, String> {
    let insns = asm::assemble(text).map_err(|e| format!("assemble: {e}"))?;
    Program::new(insns, &LoadOptions::all()).map_err(|e| format!("load: {e}"))
}

fn verdict(c: &Case, text: &str) -> Result<(), String> {
    let p = program(text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", c.name));
    verify(&p, &Platform::linux(), &c.ptype, &c.maps)
        .map(|_| ())
        .map_err(|r| format!("{}|{r}", variant(&r.reason)))
}

/// Runs every case: an unflagged case fails the test when its unsafe program is not rejected
/// with the expected reason or its safe twin is rejected; flagged cases are printed, and at
/// most `max_known_gaps` may be flagged [`Flag::KnownGap`]. Prints the per-class tally.
pub fn check(cases: &[Case], max_known_gaps: usize) {
    let mut failures = Vec::new();
    let mut loud = Vec::new();
    let mut by_class: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut right_reason = 0;
    let mut twins_ok = 0;
    for c in cases {
        let u = verdict(c, &c.unsafe_asm);
        let s = verdict(c, &c.safe_asm);
        let sound = matches!(&u, Err(e) if e.split('|').next() == Some(c.expect.as_str()));
        let precise = s.is_ok();
        right_reason += usize::from(sound);
        twins_ok += usize::from(precise);
        let e = by_class.entry(&c.class).or_default();
        e.0 += 1;
        e.1 += usize::from(sound && precise);
        let describe = |what: &str| {
            format!(
                "[{}] {}: {what}\n  unsafe -> {} (want {})\n  safe   -> {}",
                c.class,
                c.name,
                match &u {
                    Ok(()) => "ACCEPTED".to_string(),
                    Err(e) => format!("rejected {e}"),
                },
                c.expect,
                match &s {
                    Ok(()) => "accepted".to_string(),
                    Err(e) => format!("REJECTED {e}"),
                },
            )
        };
        let unsound = || describe("unsafe program not rejected with the expected reason");
        match &c.flag {
            Flag::None => {
                if !sound {
                    failures.push(unsound());
                }
                if !precise {
                    failures.push(describe("safe twin rejected"));
                }
            }
            Flag::KnownUnsound(note) => {
                let what = if sound {
                    "FIXED? flagged known_unsound"
                } else {
                    "KNOWN UNSOUND"
                };
                loud.push(describe(&format!("{what}: {note}")));
                if !precise {
                    failures.push(describe("safe twin rejected"));
                }
            }
            Flag::KnownGap(note) => {
                let what = if precise {
                    "FIXED? flagged known_gap"
                } else {
                    "KNOWN GAP"
                };
                loud.push(describe(&format!("{what}: {note}")));
                if !sound {
                    failures.push(unsound());
                }
            }
        }
    }
    println!(
        "{} cases: {right_reason} unsafe rejected with the expected reason, {twins_ok} safe twins accepted",
        cases.len()
    );
    for (class, (n, ok)) in &by_class {
        println!("  {class:18} {ok}/{n}");
    }
    for l in &loud {
        println!("!!!!!!!! {l}");
    }
    let gaps = cases
        .iter()
        .filter(|c| matches!(c.flag, Flag::KnownGap(_)))
        .count();
    assert!(
        gaps <= max_known_gaps,
        "{gaps} known gaps (at most {max_known_gaps})"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
