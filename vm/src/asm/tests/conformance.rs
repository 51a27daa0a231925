//! The bpf_conformance corpus: every `-- asm` section of `tests/*.data` must assemble (and match
//! the `-- raw` section where there is one), and every `negative/invalid_*.data` assembler case
//! must be rejected. Where the corpus is not beside the workspace, `apiary_testkit::shared`
//! decides: a failure under `CI=true`, a recorded skip elsewhere.

use std::fs;
use std::path::{Path, PathBuf};

use crate::asm::assemble;
use crate::insn::Insn;

/// The assembler-error cases of `negative/` (the other negative files are not about assembly).
const INVALID: [&str; 10] = [
    "invalid_label",
    "invalid_lock",
    "invalid_lock2",
    "invalid_mnemonic",
    "invalid_offset",
    "invalid_offset_range",
    "invalid_operand_count",
    "invalid_register",
    "invalid_imm32_dec_range",
    "invalid_imm32_hex_range",
];

/// The `asm` text and `raw` slots of a `.data` file, split the way bpf_conformance does:
/// a line whose comment-free part contains `--` opens a section named by substring.
struct DataFile {
    asm: String,
    raw: Vec<Insn>,
}

fn split(text: &str) -> DataFile {
    #[derive(PartialEq)]
    enum Section {
        None,
        Asm,
        Raw,
    }
    let mut section = Section::None;
    let mut file = DataFile {
        asm: String::new(),
        raw: Vec::new(),
    };
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("");
        if code.contains("--") {
            section = if code.contains("asm") {
                Section::Asm
            } else if code.contains("raw") {
                Section::Raw
            } else {
                Section::None
            };
            continue;
        }
        match section {
            Section::Asm => {
                file.asm.push_str(line);
                file.asm.push('\n');
            }
            Section::Raw => {
                for token in code.split_whitespace() {
                    let value = match token.strip_prefix("0x") {
                        Some(hex) => u64::from_str_radix(hex, 16),
                        None => token.parse(),
                    };
                    file.raw.push(Insn::from_u64(
                        value.unwrap_or_else(|e| panic!("raw token {token}: {e}")),
                    ));
                }
            }
            Section::None => {}
        }
    }
    file
}

fn data_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    Some(files)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_conformance_program_assembles() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/tests") else {
        return;
    };
    let Some(files) = data_files(&dir) else {
        panic!("{}: not readable", dir.display());
    };
    let mut with_raw = 0;
    for path in &files {
        let file = split(&read(path));
        let insns = assemble(&file.asm).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!insns.is_empty(), "{}: no instructions", path.display());
        if !file.raw.is_empty() {
            assert_eq!(
                insns,
                file.raw,
                "{}: asm and raw sections differ",
                path.display()
            );
            with_raw += 1;
        }
    }
    assert_eq!(
        files.len(),
        313,
        "expected the 313 files of bpf_conformance f558566"
    );
    assert_eq!(with_raw, 1, "only lddw.data has a raw section");
}

#[test]
fn invalid_assembly_is_rejected() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/negative") else {
        return;
    };
    for name in INVALID {
        let path = dir.join(format!("{name}.data"));
        let file = split(&read(&path));
        match assemble(&file.asm) {
            Ok(insns) => panic!("{name}: assembled to {insns:?}"),
            Err(e) => eprintln!("{name}: rejected: {e}"),
        }
    }
}

#[test]
fn splitter_reads_sections() {
    let f = split("# licence -- not a directive\n-- asm\nmov %r0, 1 # c\nexit\n-- raw\n0x95 149\n-- result\n0x1\n");
    assert_eq!(f.asm, "mov %r0, 1 # c\nexit\n");
    assert_eq!(f.raw, vec![Insn::new(0x95, 0, 0, 0, 0); 2]);
}
