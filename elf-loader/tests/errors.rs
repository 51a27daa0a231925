//! Each error path, reached by damaging one field of a real object, must name the section,
//! symbol and offset concerned.

use apiary_elf::{ElfError, Object};

fn read(name: &str) -> Option<Vec<u8>> {
    let path = apiary_testkit::shared::corpus(&format!("ebpf-samples/{name}"))?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// (name, position of the section header, sh_offset) of every section.
fn sections(b: &[u8]) -> Vec<(String, usize, usize)> {
    let shoff = u64_at(b, 0x28) as usize;
    let shnum = u16::from_le_bytes([b[0x3c], b[0x3d]]) as usize;
    let shstrndx = u16::from_le_bytes([b[0x3e], b[0x3f]]) as usize;
    let strtab = u64_at(b, shoff + shstrndx * 64 + 0x18) as usize;
    (0..shnum)
        .map(|i| {
            let h = shoff + i * 64;
            let name_off = u32::from_le_bytes(b[h..h + 4].try_into().expect("4 bytes")) as usize;
            let start = strtab + name_off;
            let end = start + b[start..].iter().position(|&c| c == 0).expect("NUL");
            (
                String::from_utf8_lossy(&b[start..end]).into_owned(),
                h,
                u64_at(b, h + 0x18) as usize,
            )
        })
        .collect()
}

fn section(b: &[u8], name: &str) -> (usize, usize) {
    let (_, header, offset) = sections(b)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .expect("section");
    (header, offset)
}

/// `build/externalfunction.o` with `edit` applied; `.rel.text` holds R_BPF_64_64 `test_map`
/// at 0x20 and R_BPF_64_32 `bpf_map_lookup_elem` at 0x30.
fn external_function_with(edit: impl FnOnce(&mut Vec<u8>)) -> Option<Result<Object, ElfError>> {
    let mut b = read("build/externalfunction.o")?;
    edit(&mut b);
    Some(Object::parse(&b))
}

#[test]
fn relocation_errors_name_section_and_offset() {
    let rel = |b: &Vec<u8>| section(b, ".rel.text").1;
    let Some(r) = external_function_with(|b| {
        let at = rel(b) + 8;
        let info = u64_at(b, at);
        put_u64(b, at, (info & !0xffff_ffff) | 7);
    }) else {
        return;
    };
    assert_eq!(
        r,
        Err(ElfError::UnknownRelocation {
            section: ".text".into(),
            offset: 0x20,
            kind: 7
        })
    );

    for bad in [0x21, 0x1_0000, u64::MAX] {
        let r = external_function_with(|b| {
            let at = rel(b);
            put_u64(b, at, bad);
        });
        assert_eq!(
            r,
            Some(Err(ElfError::BadRelocationOffset {
                section: ".text".into(),
                offset: bad
            }))
        );
    }

    let r = external_function_with(|b| {
        let at = rel(b) + 16;
        put_u64(b, at, 0x20);
    });
    assert_eq!(
        r,
        Some(Err(ElfError::DuplicateRelocation {
            section: ".text".into(),
            offset: 0x20
        }))
    );

    let r = external_function_with(|b| {
        let at = rel(b) + 8;
        put_u64(b, at, (0xffff << 32) | 1);
    });
    assert_eq!(
        r,
        Some(Err(ElfError::BadSymbolIndex {
            section: ".rel.text".into(),
            offset: 0x20,
            index: 0xffff
        }))
    );

    // The map relocation moved onto `r1 = r0` (slot 7).
    let r = external_function_with(|b| {
        let at = rel(b);
        put_u64(b, at, 0x38);
    });
    assert!(
        matches!(r, Some(Err(ElfError::RelocationOnWrongInstruction { ref section, offset: 0x38, kind: 1, ref symbol, op: 0xbf }))
            if section == ".text" && symbol == "test_map"),
        "{r:?}"
    );
}

#[test]
fn unknown_helper_names_symbol() {
    let r = external_function_with(|b| {
        let (_, strtab) = section(b, ".strtab");
        let rest = &b[strtab..];
        let pos = rest
            .windows(19)
            .position(|w| w == b"bpf_map_lookup_elem")
            .expect("name")
            + strtab;
        b[pos + 18] = b'x';
    });
    let Some(r) = r else { return };
    // Only the programs reaching the call fail, each naming the symbol; the object loads.
    let object = r.expect("the object loads");
    assert_eq!(object.programs.len(), 1);
    assert!(object.programs[0].insns.is_empty());
    assert_eq!(
        object.programs[0].link_error,
        Some(ElfError::UnknownHelper {
            section: ".text".into(),
            offset: 0x30,
            symbol: "bpf_map_lookup_elex".into()
        })
    );
}

#[test]
fn header_and_section_errors() {
    let Some(r) = external_function_with(|b| b[0x12] = 62) else {
        return;
    };
    assert!(matches!(r, Err(ElfError::NotBpfObject { .. })), "{r:?}");

    let r = external_function_with(|b| b[4] = 1);
    assert!(
        matches!(r, Some(Err(ElfError::NotBpfObject { .. }))),
        "{r:?}"
    );

    // .text one byte longer: not whole instructions.
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".text");
        let size = u64_at(b, h + 0x20);
        put_u64(b, h + 0x20, size + 1);
    });
    assert_eq!(
        r,
        Some(Err(ElfError::BadSectionSize {
            section: ".text".into(),
            size: 0x61,
            unit: 8
        }))
    );

    // .text pointing past the end of the file.
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".text");
        put_u64(b, h + 0x18, 0x10_0000);
    });
    assert!(
        matches!(r, Some(Err(ElfError::SectionOutOfBounds { ref section, .. })) if section == ".text"),
        "{r:?}"
    );
}

#[test]
fn legacy_map_section_size_must_divide() {
    let Some(mut b) = read("linux/test_map_in_map_kern.o") else {
        return;
    };
    let (h, _) = section(&b, "maps");
    let size = u64_at(&b, h + 0x20);
    put_u64(&mut b, h + 0x20, size - 4);
    let r = Object::parse(&b);
    assert!(
        matches!(r, Err(ElfError::BadMap { ref section, .. }) if section == "maps"),
        "{r:?}"
    );
}

#[test]
fn function_symbol_outside_section() {
    let Some(mut b) = read("build/externalfunction.o") else {
        return;
    };
    // Find the `func` symbol (FUNC, GLOBAL) and make its size run past .text.
    let (h, symtab) = section(&b, ".symtab");
    let size = u64_at(&b, h + 0x20) as usize;
    let (_, strtab) = section(&b, ".strtab");
    let sym = (0..size / 24)
        .map(|i| symtab + i * 24)
        .find(|&s| {
            let name = u32::from_le_bytes(b[s..s + 4].try_into().expect("4")) as usize + strtab;
            b[name..].starts_with(b"func\0") && b[s + 4] & 0xf == 2
        })
        .expect("func symbol");
    put_u64(&mut b, sym + 16, 0x1000);
    let r = Object::parse(&b);
    assert!(
        matches!(r, Err(ElfError::SymbolOutOfRange { ref symbol, .. }) if symbol == "func"),
        "{r:?}"
    );
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The index of section `name`.
fn index_of(b: &[u8], name: &str) -> u32 {
    sections(b)
        .iter()
        .position(|(n, _, _)| n == name)
        .expect("section") as u32
}

#[test]
fn foreign_machines_are_named() {
    let Some(r) = external_function_with(|b| b[0x12] = 62) else {
        return;
    };
    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("e_machine 62 (EM_X86_64), want EM_BPF = 247"),
        "{e}"
    );
    let r = external_function_with(|b| {
        b[0x12] = 183;
        b[0x13] = 0;
    });
    let e = r
        .and_then(Result::err)
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("e_machine 183 (EM_AARCH64)"), "{e}");
    // EM_NONE (old LLVM BPF backends) is accepted.
    let r = external_function_with(|b| {
        b[0x12] = 0;
        b[0x13] = 0;
    });
    assert!(matches!(r, Some(Ok(_))), "{r:?}");
}

#[test]
fn empty_program_section_is_named() {
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".text");
        put_u64(b, h + 0x20, 0);
    });
    let Some(r) = r else { return };
    assert!(
        matches!(r, Err(ElfError::EmptyProgramSection { ref section, .. }) if section == ".text"),
        "{r:?}"
    );
    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("section .text: program section of size 0 (sh_size = 0)"),
        "{e}"
    );
}

#[test]
fn self_referencing_links_are_named() {
    // A relocation section that patches itself (sh_info = its own index).
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".rel.text");
        let own = index_of(b, ".rel.text");
        put_u32(b, h + 0x2c, own);
    });
    let Some(r) = r else { return };
    assert!(
        matches!(r, Err(ElfError::BadSectionLink { ref section, field: "sh_info", ref problem, .. })
            if section == ".rel.text" && problem.contains("refers to the section itself")),
        "{r:?}"
    );
    // A symbol table whose string table is itself.
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".symtab");
        let own = index_of(b, ".symtab");
        put_u32(b, h + 0x28, own);
    });
    assert!(
        matches!(r, Some(Err(ElfError::BadSectionLink { ref section, field: "sh_link", ref problem, .. }))
            if section == ".symtab" && problem.contains("itself, not the string table")),
        "{r:?}"
    );
    // A relocation section whose symbol table is the string table.
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".rel.text");
        let strtab = index_of(b, ".strtab");
        put_u32(b, h + 0x28, strtab);
    });
    let e = r
        .and_then(Result::err)
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("section .rel.text: sh_link = ")
            && e.contains("names section .strtab of type SHT_STRTAB, not the symbol table"),
        "{e}"
    );
    // sh_info past the last section.
    let r = external_function_with(|b| {
        let (h, _) = section(b, ".rel.text");
        put_u32(b, h + 0x2c, 999);
    });
    let e = r
        .and_then(Result::err)
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("sh_info = 999 names no section"), "{e}");
}
