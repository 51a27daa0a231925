//! The Linux catalogue against the kernel's own verdicts (issue 12 item 3): every helper a
//! program of `../shared/realworld` calls, where the Linux kernel accepted the program, is
//! allowed for the program's type by the catalogue's helper list, and is a helper the
//! catalogue lists. A permission written too narrowly fails here.

use std::collections::BTreeMap;

use apiary::object::{object_load_options, parse_object};
use apiary::ObjectOptions;
use apiary_testkit::shared::corpus;
use apiary_testkit::Coverage;
use apiary_vm::{Instruction, Program};

#[test]
fn helpers_of_kernel_accepted_programs_are_allowed_for_their_type() {
    let mut cov = Coverage::new("catalogue: helper permissions vs the kernel (realworld)");
    let Some(root) = corpus("realworld") else {
        cov.skip("realworld corpus not found");
        cov.finish();
        return;
    };
    let tsv = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
    let mut passing: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in tsv.lines().skip(1) {
        if let [file, section, function, "pass", ..] = line.split('\t').collect::<Vec<_>>()[..] {
            passing
                .entry(file.to_owned())
                .or_default()
                .push((section.to_owned(), function.to_owned()));
        }
    }
    let mut wrong = Vec::new();
    for (file, programs) in &passing {
        let bytes = std::fs::read(root.join(file)).expect("object");
        let object = parse_object(&bytes, &ObjectOptions::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        for (section, function) in programs {
            let Some(p) = object
                .programs
                .iter()
                .find(|p| &p.section == section && &p.function == function)
            else {
                cov.skip("program not listed by the loader");
                continue;
            };
            let Ok(program) = Program::new(p.insns.clone(), &object_load_options()) else {
                cov.skip("program does not decode");
                continue;
            };
            for ins in program.instructions() {
                if let Instruction::Call { helper } = *ins {
                    match apiary_linux::helper(helper) {
                        Some(h) if h.allowed_for(p.program_type) => {}
                        Some(h) => wrong.push(format!(
                            "{file} {section}: {} not allowed for {}",
                            h.name,
                            p.program_type.name()
                        )),
                        None => wrong.push(format!("{file} {section}: helper {helper} unknown")),
                    }
                    cov.compared();
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} calls:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    cov.finish();
}
