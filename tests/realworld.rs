//! The realworld corpus (`../shared/realworld`: bcc libbpf-tools, libbpf-bootstrap, Katran) against
//! the Linux kernel's verdict per program (`expected.tsv`). Every object loads (externs resolved
//! as libbpf does; a program that cannot be linked fails alone), every program libbpf lists is
//! listed with the type libbpf gives it, no program the kernel's verifier rejects is accepted,
//! and acceptance of the programs the kernel accepts does not fall below its floor.

use std::collections::BTreeMap;

use apiary::object::{object_load_options, parse_object};
use apiary::platform::{inner_maps, map_infos};
use apiary::ObjectOptions;
use apiary_elf::{Object, ProgramType as LinuxType};
use apiary_verifier::{verify_with, Options, Platform, RejectReason};
use apiary_vm::Program;

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
