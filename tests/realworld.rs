//! The realworld corpus (`../shared/realworld`: bcc libbpf-tools, libbpf-bootstrap, Katran) against
//! the Linux kernel's verdict per program (`expected.tsv`). Every object loads (externs resolved
//! as libbpf does; a program that cannot be linked fails alone), every program libbpf lists is
//! listed with the type libbpf gives it, no program the kernel's verifier rejects is accepted,
//! and acceptance of the programs the kernel accepts does not fall below its floor.
//!
//! Where this process can load programs (root, or `CAP_BPF`), the same comparison runs against
//! the live kernel too, each program loaded alone with libbpf as `apiary verify --kernel` does
//! ([`apiary_conformance::kernel::libbpf`]); an unusable kernel is a counted skip, or a failure
//! under `APIARY_REQUIRE_KERNEL=1`.

use std::collections::BTreeMap;

use apiary::object::{object_load_options, parse_object};
use apiary::platform::{inner_maps, map_infos};
use apiary::ObjectOptions;
use apiary_conformance::kernel::libbpf::{self, LibbpfOptions, Outcome};
use apiary_elf::{Object, ProgramType as LinuxType};
use apiary_testkit::Coverage;
use apiary_verifier::{verify_with, Options, Platform, RejectReason};
use apiary_vm::Program;

/// Of the programs the live kernel accepts, the share apiary must accept (the recorded floor's
/// share: [`PASS_FLOOR`] of 317).
const LIVE_PASS_SHARE: f64 = PASS_FLOOR as f64 / 317.0;
/// The live comparison stops taking new objects after this long (all 84 take about 15 s in a
/// debug build); the objects left are counted skips.
const LIVE_TIME_BOUND: std::time::Duration = std::time::Duration::from_secs(120);

/// Programs the kernel accepts that apiary accepts (of 317; 250 before issue 14's loader work,
/// 294 before its verifier precision work).
const PASS_FLOOR: usize = 316;

struct Row {
    file: String,
    section: String,
    function: String,
    kernel_pass: bool,
    env: bool,
}

fn rows(text: &str) -> Vec<Row> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let [file, section, function, kernel, reason] = c[..] else {
                return None;
            };
            Some(Row {
                file: file.into(),
                section: section.into(),
                function: function.into(),
                kernel_pass: kernel == "pass",
                env: reason.starts_with("[env]") || reason.contains("[env]"),
            })
        })
        .collect()
}

/// As `apiary verify` decides: the section's Linux type, the object's maps and inner maps.
fn accepted(object: &Object, index: usize) -> Result<(), String> {
    let p = &object.programs[index];
    if let Some(e) = &p.link_error {
        return Err(format!("link: {e}"));
    }
    let program =
        Program::new(p.insns.clone(), &object_load_options()).map_err(|e| e.to_string())?;
    let options = Options {
        inner_maps: inner_maps(object),
        ..Options::default()
    };
    let ty = apiary::platform::TypeChoice::Linux(p.program_type).verifier_type();
    verify_with(
        &program,
        &Platform::linux(),
        &ty,
        &map_infos(object),
        &options,
    )
    .0
    .map(|_| ())
    .map_err(|r| {
        // A resource limit is no verdict on safety (and a verifier panic comes back as a state
        // limit: the analysis thread failed).
        let limit = matches!(
            r.reason,
            RejectReason::IterationLimit { .. }
                | RejectReason::StateLimit { .. }
                | RejectReason::Timeout { .. }
        );
        format!("{}{}", if limit { NO_VERDICT } else { "" }, r.reason)
    })
}

/// Marks a rejection for no safety reason (a resource limit or a verifier panic).
const NO_VERDICT: &str = "[no verdict] ";

#[test]
fn realworld_objects_load_list_and_verify_as_the_kernel() {
    let Some(root) = apiary_testkit::shared::corpus("realworld") else {
        return;
    };
    let table = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
    let rows = rows(&table);
    let mut objects: BTreeMap<String, Object> = BTreeMap::new();
    for r in &rows {
        if !objects.contains_key(&r.file) {
            let bytes = std::fs::read(root.join(&r.file)).expect("object file");
            let object = parse_object(&bytes, &ObjectOptions::default())
                .unwrap_or_else(|e| panic!("{}: every realworld object loads: {e}", r.file));
            objects.insert(r.file.clone(), object);
        }
    }
    let (mut pass, mut pass_total, mut bad) = (0, 0, Vec::new());
    let mut rejected = Vec::new();
    for r in &rows {
        let object = &objects[&r.file];
        let index = object
            .programs
            .iter()
            .position(|p| p.section == r.section && p.function == r.function)
            .unwrap_or_else(|| panic!("{} {}:{} is not listed", r.file, r.section, r.function));
        let t = object.programs[index].program_type;
        assert_ne!(
            t,
            LinuxType::Unspecified,
            "{} {}: libbpf knows this section",
            r.file,
            r.section
        );
        let verdict = accepted(object, index);
        if r.kernel_pass {
            pass_total += 1;
            match verdict {
                Ok(()) => pass += 1,
                Err(e) => rejected.push(format!("{} {}:{}: {e}", r.file, r.section, r.function)),
            }
        } else if !r.env {
            match verdict {
                Ok(()) => bad.push(format!("{} {}:{}", r.file, r.section, r.function)),
                // A program the kernel rejects must be rejected for a reason, not a limit.
                Err(e) if e.starts_with(NO_VERDICT) => {
                    bad.push(format!("{} {}:{}: {e}", r.file, r.section, r.function));
                }
                Err(_) => {}
            }
        }
        // Only a program the kernel could not load either may fail to link.
        if let Some(e) = &object.programs[index].link_error {
            assert!(!r.kernel_pass, "{} {}: {e}", r.file, r.function);
        }
    }
    let mut coverage = Coverage::new("realworld.recorded").expect_comparisons(true);
    coverage.add_compared(rows.iter().filter(|r| r.kernel_pass || !r.env).count() as u64);
    coverage.add_skipped(
        "kernel: environment failure recorded, no verdict",
        rows.iter().filter(|r| !r.kernel_pass && r.env).count() as u64,
    );
    println!("{}", coverage.finish());
    println!("realworld: kernel-pass accepted {pass}/{pass_total}");
    for r in &rejected {
        println!("  rejected {r}");
    }
    assert!(
        bad.is_empty(),
        "programs the kernel's verifier rejects were accepted (or rejected for no safety reason): {bad:?}"
    );
    assert!(
        pass >= PASS_FLOOR,
        "kernel-pass accepted {pass} < floor {PASS_FLOOR}"
    );
}

#[test]
fn kconfig_externs_take_overrides() {
    let Some(path) = apiary_testkit::shared::corpus("realworld/bcc/capable.o") else {
        return;
    };
    let bytes = std::fs::read(path).expect("object");
    let mut options = ObjectOptions::default();
    options
        .kconfig
        .insert("LINUX_KERNEL_VERSION".into(), "0x050a00".into());
    let object = parse_object(&bytes, &options).expect("loads");
    let kconfig = object
        .maps
        .iter()
        .find(|m| m.name == ".kconfig")
        .expect("a .kconfig map");
    assert!(
        kconfig
            .initial
            .windows(4)
            .any(|w| w == 0x050a00u32.to_le_bytes()),
        "{:?}",
        kconfig.initial
    );
    assert!(object.programs.iter().all(|p| p.link_error.is_none()));
}

/// The class of an environment failure, for the skip counts (names and numbers cut off).
fn environment_class(reason: &str) -> String {
    let cut = reason
        .find(['\'', '(', '#'])
        .map_or(reason, |i| &reason[..i])
        .trim();
    format!("kernel: no verdict (environment): {cut}")
}

#[test]
fn realworld_verdicts_agree_with_the_live_kernel_through_libbpf() {
    let Some(root) = apiary_testkit::shared::corpus("realworld") else {
        return;
    };
    let mut coverage = Coverage::new("realworld.live_kernel").expect_comparisons(true);
    if let Err(why) = libbpf::usable() {
        assert!(
            !apiary_conformance::kernel::required(),
            "APIARY_REQUIRE_KERNEL=1 but the kernel cannot load programs: {why}"
        );
        coverage.skip(format!("kernel unusable: {why}"));
        println!("{}", coverage.finish());
        return;
    }
    let table = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
    let mut files: Vec<String> = rows(&table).into_iter().map(|r| r.file).collect();
    files.dedup();
    let start = std::time::Instant::now();
    let (mut kernel_pass, mut pass) = (0usize, 0usize);
    let (mut unsafe_accepts, mut rejected) = (Vec::new(), Vec::new());
    for (n, file) in files.iter().enumerate() {
        if start.elapsed() > LIVE_TIME_BOUND {
            coverage.add_skipped(
                format!("time bound of {LIVE_TIME_BOUND:?} reached"),
                (files.len() - n) as u64,
            );
            break;
        }
        let path = root.join(file);
        let bytes = std::fs::read(&path).expect("object file");
        let object = parse_object(&bytes, &ObjectOptions::default()).expect("loads");
        let outcomes = match libbpf::verdicts(&path, &LibbpfOptions::default()) {
            Ok(o) => o,
            // As recorded for tc_decap.o: an extern this kernel's BTF lacks stops libbpf
            // opening the object at all; no verdict on any of its programs.
            Err(e) => {
                coverage.add_skipped(environment_class(&e), object.programs.len() as u64);
                continue;
            }
        };
        for o in outcomes {
            let index = object
                .programs
                .iter()
                .position(|p| p.section == o.section && p.function == o.function)
                .unwrap_or_else(|| {
                    panic!(
                        "{file} {}:{}: libbpf lists it, apiary does not",
                        o.section, o.function
                    )
                });
            let name = format!("{file} {}:{}", o.section, o.function);
            let apiary = accepted(&object, index);
            match &o.outcome {
                Outcome::Environment { reason } => coverage.skip(environment_class(reason)),
                Outcome::Accepted => {
                    coverage.compared();
                    kernel_pass += 1;
                    match apiary {
                        Ok(()) => pass += 1,
                        Err(e) => rejected.push(format!("{name}: {e}")),
                    }
                }
                Outcome::Rejected { reason } => {
                    coverage.compared();
                    match apiary {
                        Ok(()) => unsafe_accepts.push(format!("{name}: kernel: {reason}")),
                        Err(e) if e.starts_with(NO_VERDICT) => {
                            unsafe_accepts.push(format!("{name}: {e}; kernel: {reason}"));
                        }
                        Err(_) => {}
                    }
                }
            }
        }
    }
    let line = coverage.finish();
    println!("{line}");
    println!("live kernel: apiary accepts {pass} of the {kernel_pass} programs it accepts");
    for r in &rejected {
        println!("  disagreement (kernel accepts, apiary rejects): {r}");
    }
    assert!(
        unsafe_accepts.is_empty(),
        "apiary accepts programs the live kernel's verifier rejects: {unsafe_accepts:#?}"
    );
    let floor = (kernel_pass as f64 * LIVE_PASS_SHARE).floor() as usize;
    assert!(
        pass >= floor,
        "apiary accepts {pass} of the live kernel's {kernel_pass}, below the floor {floor}"
    );
}

/// An `Insn` as the same 8 bytes libbpf holds.
fn raw(i: &apiary_vm::Insn) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = i.op;
    b[1] = (i.src << 4) | (i.dst & 0x0f);
    b[2..4].copy_from_slice(&i.off.to_le_bytes());
    b[4..8].copy_from_slice(&i.imm.to_le_bytes());
    b
}

/// apiary's relocated programs (CO-RE against the running kernel's BTF) against libbpf's
/// (`bpf_object__prepare`), slot by slot over each entry function: equal except where the two
/// legitimately differ (`lddw` map and global-data references are fds for libbpf and indices for
/// apiary; calls are numbered differently once subprograms are appended).
#[test]
fn core_relocations_agree_with_libbpf() {
    let Some(root) = apiary_testkit::shared::corpus("realworld") else {
        return;
    };
    let mut coverage = Coverage::new("realworld.core_vs_libbpf").expect_comparisons(true);
    if let Err(why) = libbpf::usable() {
        assert!(
            !apiary_conformance::kernel::required(),
            "APIARY_REQUIRE_KERNEL=1 but the kernel cannot be used: {why}"
        );
        coverage.skip(format!("kernel unusable: {why}"));
        println!("{}", coverage.finish());
        return;
    }
    let table = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
    let mut files: Vec<String> = rows(&table).into_iter().map(|r| r.file).collect();
    files.dedup();
    let mut differ = Vec::new();
    for file in &files {
        let path = root.join(file);
        let bytes = std::fs::read(&path).expect("object");
        let object = parse_object(&bytes, &ObjectOptions::default()).expect("loads");
        let theirs = match libbpf::relocated(&path, &LibbpfOptions::default()) {
            Ok(t) => t,
            Err(e) => {
                coverage.add_skipped(environment_class(&e), object.programs.len() as u64);
                continue;
            }
        };
        for t in theirs {
            let Some(ours) = object.program(&t.section, &t.function) else {
                differ.push(format!("{file} {}: not listed by apiary", t.function));
                continue;
            };
            if ours.link_error.is_some() {
                coverage.skip("apiary: program not linked");
                continue;
            }
            let mut slot = 0;
            let mut bad = None;
            while slot < ours.insns.len().min(t.insns.len()) {
                let (a, b) = (raw(&ours.insns[slot]), t.insns[slot]);
                if a[0] == 0x18 {
                    slot += 2;
                    continue;
                }
                if a[0] == 0x85 {
                    slot += 1;
                    continue;
                }
                if a != b {
                    bad = Some(format!("slot {slot}: apiary {a:02x?}, libbpf {b:02x?}"));
                    break;
                }
                slot += 1;
            }
            coverage.compared();
            if let Some(b) = bad {
                differ.push(format!("{file} {}:{}: {b}", t.section, t.function));
            }
        }
    }
    println!("{}", coverage.finish());
    assert!(
        differ.is_empty(),
        "relocated programs differ from libbpf's: {differ:#?}"
    );
}
