//! Hand-built ELF objects, for tests that need an object clang would never write (hostile
//! sizes, unusual relocations, static entry points, externs) and must run where clang is not
//! installed: an ELF64 little-endian `EM_BPF` relocatable file laid out from a list of sections.

/// `SHT_PROGBITS`.
pub const SHT_PROGBITS: u32 = 1;
/// `SHT_SYMTAB`.
pub const SHT_SYMTAB: u32 = 2;
/// `SHT_STRTAB`.
pub const SHT_STRTAB: u32 = 3;
/// `SHT_NOBITS` (`.bss`: a size and no bytes in the file).
pub const SHT_NOBITS: u32 = 8;
/// `SHT_REL`.
pub const SHT_REL: u32 = 9;
/// `SHF_ALLOC | SHF_EXECINSTR`: a program section.
pub const SHF_ALLOC_EXEC: u64 = 0x2 | 0x4;
/// `EM_BPF`.
pub const EM_BPF: u16 = 247;

/// One section of a hand-built object. Section 0 and `.shstrtab` (last) are added by
/// [`build`], so section `i` of the list has index `i + 1` in the file.
#[derive(Clone, Debug)]
pub struct Section {
    /// Name (written to `.shstrtab`).
    pub name: String,
    /// `sh_type`.
    pub kind: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// The bytes in the file.
    pub data: Vec<u8>,
    /// `sh_size` when it differs from the data's length (`SHT_NOBITS`, or a lying header).
    pub size: Option<u64>,
    /// `sh_link`.
    pub link: u32,
    /// `sh_info`.
    pub info: u32,
    /// `sh_entsize`.
    pub entsize: u64,
}

impl Section {
    /// A section with no link, info or entry size, its size that of `data`.
    #[must_use]
    pub fn new(name: &str, kind: u32, flags: u64, data: Vec<u8>) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            flags,
            data,
            size: None,
            link: 0,
            info: 0,
            entsize: 0,
        }
    }
}

/// An `Elf64_Sym`: name offset, `st_info`, section index, value, size.
#[must_use]
pub fn sym(name: u32, info: u8, shndx: u16, value: u64, size: u64) -> Vec<u8> {
    let mut s = Vec::with_capacity(24);
    s.extend_from_slice(&name.to_le_bytes());
    s.push(info);
    s.push(0);
    s.extend_from_slice(&shndx.to_le_bytes());
    s.extend_from_slice(&value.to_le_bytes());
    s.extend_from_slice(&size.to_le_bytes());
    s
}

/// An `Elf64_Rel`: offset, symbol index and relocation type.
#[must_use]
pub fn rel(offset: u64, sym: u64, kind: u64) -> Vec<u8> {
    [offset.to_le_bytes(), ((sym << 32) | kind).to_le_bytes()].concat()
}

/// Little-endian u32s as bytes.
#[must_use]
pub fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Lays out an ELF64 little-endian `EM_BPF` relocatable object: the header, every section's
/// bytes 8-aligned, `.shstrtab`, then the section header table (section 0, the given
/// sections, `.shstrtab`).
#[must_use]
pub fn build(sections: &[Section]) -> Vec<u8> {
    build_for(EM_BPF, sections)
}

/// As [`build`], with another `e_machine` (for loaders' machine checks).
#[must_use]
pub fn build_for(machine: u16, sections: &[Section]) -> Vec<u8> {
    let mut shstr = vec![0u8];
    let mut names = Vec::with_capacity(sections.len());
    for s in sections {
        names.push(shstr.len() as u32);
        shstr.extend_from_slice(s.name.as_bytes());
        shstr.push(0);
    }
    let shstr_name = shstr.len() as u32;
    shstr.extend_from_slice(b".shstrtab\0");
    let mut body = Vec::new();
    let mut offsets = Vec::with_capacity(sections.len() + 1);
    for data in sections.iter().map(|s| &s.data).chain([&shstr]) {
        body.resize(body.len().next_multiple_of(8), 0);
        offsets.push(64 + body.len() as u64);
        body.extend_from_slice(data);
    }
    body.resize(body.len().next_multiple_of(8), 0);
    let shnum = sections.len() as u16 + 2;
    let mut out = Vec::new();
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&1u16.to_le_bytes()); // ET_REL
    out.extend_from_slice(&machine.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    out.extend_from_slice(&0u64.to_le_bytes()); // e_phoff
    out.extend_from_slice(&(64 + body.len() as u64).to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
                                                // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    for v in [64u16, 0, 0, 64, shnum, shnum - 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&body);
    out.extend_from_slice(&[0u8; 64]); // section 0
    let mut header = |name: u32, s: Option<&Section>, offset: u64, size: u64| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&s.map_or(SHT_STRTAB, |s| s.kind).to_le_bytes());
        out.extend_from_slice(&s.map_or(0, |s| s.flags).to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&s.map_or(0, |s| s.link).to_le_bytes());
        out.extend_from_slice(&s.map_or(0, |s| s.info).to_le_bytes());
        out.extend_from_slice(&8u64.to_le_bytes()); // sh_addralign
        out.extend_from_slice(&s.map_or(0, |s| s.entsize).to_le_bytes());
    };
    for (i, s) in sections.iter().enumerate() {
        let size = s.size.unwrap_or(s.data.len() as u64);
        header(names[i], Some(s), offsets[i], size);
    }
    header(
        shstr_name,
        None,
        offsets[sections.len()],
        shstr.len() as u64,
    );
    out
}

/// Raw BTF (`.BTF`, or a target BTF file like `/sys/kernel/btf/vmlinux`) from its type section
/// as little-endian words and its string section.
#[must_use]
pub fn btf(types: &[u32], strings: &[u8]) -> Vec<u8> {
    let type_len = (types.len() * 4) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9f_u16.to_le_bytes());
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&u32s(&[24, 0, type_len, type_len, strings.len() as u32]));
    b.extend_from_slice(&u32s(types));
    b.extend_from_slice(strings);
    b
}

/// A BTF type's info word: kind, member count, kind flag.
#[must_use]
pub const fn btf_info(kind: u32, vlen: u32, kflag: bool) -> u32 {
    ((kflag as u32) << 31) | (kind << 24) | vlen
}

/// A `.BTF.ext` section with only CO-RE relocations, all for the section named at string offset
/// `section` of `.BTF`: records of (instruction byte offset, local type id, access string
/// offset, relocation kind), as clang writes them.
#[must_use]
pub fn btf_ext_core(section: u32, records: &[[u32; 4]]) -> Vec<u8> {
    let mut core = u32s(&[16, section, records.len() as u32]);
    for r in records {
        core.extend_from_slice(&u32s(r));
    }
    let mut ext = Vec::new();
    ext.extend_from_slice(&0xeb9f_u16.to_le_bytes());
    ext.extend_from_slice(&[1, 0]);
    // hdr_len 32; func_info, line_info empty; core_relo at offset 0.
    ext.extend_from_slice(&u32s(&[32, 0, 0, 0, 0, 0, core.len() as u32]));
    ext.extend_from_slice(&core);
    ext
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_has_the_header_fields_and_every_section() {
        let text = Section::new(
            "xdp",
            SHT_PROGBITS,
            SHF_ALLOC_EXEC,
            vec![0x95, 0, 0, 0, 0, 0, 0, 0],
        );
        let bss = Section {
            size: Some(1 << 20),
            ..Section::new(".bss", SHT_NOBITS, 0x3, Vec::new())
        };
        let obj = build(&[text, bss]);
        assert_eq!(&obj[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([obj[18], obj[19]]), EM_BPF);
        let shoff = u64::from_le_bytes(obj[40..48].try_into().expect("8 bytes")) as usize;
        assert_eq!(u16::from_le_bytes([obj[60], obj[61]]), 4, "e_shnum");
        assert_eq!(obj.len(), shoff + 4 * 64);
        // Section 2 (.bss): sh_size as given, not its (empty) data.
        let bss_header = shoff + 2 * 64;
        let size = u64::from_le_bytes(obj[bss_header + 32..bss_header + 40].try_into().expect("8"));
        assert_eq!(size, 1 << 20);
    }
}
