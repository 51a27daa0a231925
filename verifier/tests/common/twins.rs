//! The unsafe-twin tables' one runner: each case is an unsafe program the verifier must reject
//! with an expected reason and its safe twin it must accept. Used by `unsafe_programs.rs` (the
//! `mem`-type table and more) and `issue13_soundness.rs` (helpers, callbacks, references).

use apiary_verifier::{verify, MapInfo, Platform, ProgramType, RejectReason};
use apiary_vm::{asm, LoadOptions, Program};

/// A case whose outcome is known to be wrong today, kept visible instead of failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Expected to hold.
    None,
    /// The verifier accepts the unsafe program (or rejects it for another reason).
    KnownUnsound(&'static str),
    /// The verifier rejects the safe twin.
    KnownGap(&'static str),
}

/// One unsafe program and its safe twin.
pub struct Case {
    pub name: &'static str,
    pub class: &'static str,
    pub ptype: ProgramType,
    pub maps: &'static [MapInfo],
    pub unsafe_asm: String,
    pub safe_asm: String,
    /// The expected variant of [`RejectReason`] (its name, as in `Debug`).
    pub expect: &'static str,
    pub flag: Flag,
}

impl Case {
    /// A case expected to hold.
    pub fn new(
        name: &'static str,
        class: &'static str,
        ptype: ProgramType,
        maps: &'static [MapInfo],
        unsafe_asm: impl Into<String>,
        safe_asm: impl Into<String>,
        expect: &'static str,
    ) -> Self {
        Self {
            name,
            class,
            ptype,
            maps,
            unsafe_asm: unsafe_asm.into(),
            safe_asm: safe_asm.into(),
            expect,
            flag: Flag::None,
        }
    }

    /// The same case, flagged.
    pub fn flag(mut self, f: Flag) -> Self {
        self.flag = f;
        self
    }
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
    verify(&p, &Platform::linux(), &c.ptype, c.maps)
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
        let sound = matches!(&u, Err(e) if e.split('|').next() == Some(c.expect));
        let precise = s.is_ok();
        right_reason += usize::from(sound);
        twins_ok += usize::from(precise);
        let e = by_class.entry(c.class).or_default();
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
        match c.flag {
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
