//! bpf_conformance's `negative/unused-*.data`: one instruction with a non-zero reserved field,
//! written byte by byte (`07 00 01 00 ...`), which the official raw parser cannot read. We decode
//! the bytes ourselves and check that `Program::new` rejects each file naming the field its
//! name ends with (`-offset`, `-src`, `-imm`, `-dst`).

use apiary_vm::error::Field;
use apiary_vm::{Insn, LoadError, LoadOptions, Program};

/// The slots of a byte-by-byte `-- raw` section: 8 hex bytes per line.
fn raw_bytes(text: &str) -> Result<Vec<Insn>, String> {
    let mut in_raw = false;
    let mut insns = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.contains("--") {
            in_raw = line.contains("raw");
            continue;
        }
        if !in_raw || line.is_empty() {
            continue;
        }
        let bytes: Vec<u8> = line
            .split_whitespace()
            .map(|t| u8::from_str_radix(t, 16).map_err(|e| format!("line {}: {t:?}: {e}", n + 1)))
            .collect::<Result<_, _>>()?;
        let slot: [u8; 8] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("line {}: {} bytes, not 8", n + 1, b.len()))?;
        insns.push(Insn::from_bytes(slot));
    }
    Ok(insns)
}

/// The field named by the file's suffix.
fn field_of(name: &str) -> Option<Field> {
    let stem = name.strip_suffix(".data")?;
    match stem.rsplit('-').next()? {
        "offset" => Some(Field::Off),
        "src" => Some(Field::Src),
        "imm" => Some(Field::Imm),
        "dst" => Some(Field::Dst),
        _ => None,
    }
}

/// The field a load error blames, if it blames one.
fn blamed(e: &LoadError) -> Option<Field> {
    match e {
        LoadError::ReservedField { field, .. } | LoadError::InvalidRegister { field, .. } => {
            Some(*field)
        }
        LoadError::WritesFramePointer { .. } => Some(Field::Dst),
        _ => None,
    }
}

#[test]
fn unused_fields_are_rejected_naming_the_field() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/negative") else {
        return;
    };
    let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    entries.sort();
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.starts_with("unused-") || !name.ends_with(".data") {
            continue;
        }
        checked += 1;
        let Some(want) = field_of(&name) else {
            problems.push(format!("{name}: no field suffix"));
            continue;
        };
        let insns = match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| raw_bytes(&t))
        {
            Ok(i) if !i.is_empty() => i,
            Ok(_) => {
                problems.push(format!("{name}: no raw bytes"));
                continue;
            }
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        match Program::new(insns, &LoadOptions::all()) {
            Ok(_) => problems.push(format!("{name}: accepted")),
            Err(e) if blamed(&e) == Some(want) && e.pc() == Some(0) => {}
            Err(e) => problems.push(format!(
                "{name}: rejected, but as {e:?} (wanted the {want} of instruction 0)"
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(checked, 45, "expected 45 unused-* files");
}
