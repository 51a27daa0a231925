//! The raw ELF view: header checks, section headers, the symbol table and relocation tables.
//!
//! goblin reads the fixed-size records (headers, symbols, relocations) with bounds-checked
//! reads; everything that points somewhere (section offsets, name offsets, symbol section
//! indices, relocation targets) is checked here before it is used, so the later stages can
//! index without panicking. Nothing here allocates more than the input size justifies: record
//! counts are derived from section sizes that are checked against the file length.

use std::borrow::Cow;

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{self, Header};
use goblin::elf::reloc::RelocSection;
use goblin::elf::section_header::{self, SectionHeader};
use goblin::elf::sym::{self, Symtab};

use crate::error::ElfError;

/// `EM_BPF`.
const EM_BPF: u16 = 247;
/// `EM_NONE`, written by some old LLVM BPF backends.
const EM_NONE: u16 = 0;
/// Size of one ELF64 symbol record.
const SYM_SIZE: u64 = 24;
/// Size of one ELF64 `Rel` record.
const REL_SIZE: u64 = 16;
/// Names longer than this are cut: they are only used for matching and messages, and a cap
/// keeps many symbols pointing at one huge string from costing quadratic memory.
const MAX_NAME: usize = 1024;
/// Size of the ELF64 file header.
const SIZEOF_EHDR: usize = 64;
/// Size of one ELF64 section header.
const SIZEOF_SHDR: usize = 64;

/// One section, with its bytes (empty for `SHT_NOBITS`).
#[derive(Debug)]
pub(crate) struct Section<'a> {
    pub name: Cow<'a, str>,
    /// The name offset, when it lies outside the name table (the name is then empty).
    pub bad_name: Option<usize>,
    pub sh_type: u32,
    pub flags: u64,
    pub size: u64,
    pub data: &'a [u8],
    pub info: u32,
    pub link: u32,
}

impl Section<'_> {
    /// A section holding instructions: `PROGBITS` with `SHF_EXECINSTR`.
    pub fn is_code(&self) -> bool {
        self.sh_type == section_header::SHT_PROGBITS
            && self.flags & u64::from(section_header::SHF_EXECINSTR) != 0
    }
}

/// One symbol-table entry, with its section index checked.
#[derive(Debug)]
pub(crate) struct Symbol<'a> {
    pub name: Cow<'a, str>,
    pub value: u64,
    pub size: u64,
    pub sym_type: u8,
    pub bind: u8,
    /// The defining section; `None` for undefined, absolute and common symbols.
    pub section: Option<usize>,
}

impl Symbol<'_> {
    pub fn is_function(&self) -> bool {
        self.sym_type == sym::STT_FUNC
    }
    pub fn is_section(&self) -> bool {
        self.sym_type == sym::STT_SECTION
    }
    pub fn is_global(&self) -> bool {
        matches!(self.bind, sym::STB_GLOBAL | sym::STB_WEAK)
    }
}

/// One `Rel` record whose symbol index has been checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rel {
    pub offset: u64,
    /// Explicit addend of an `SHT_RELA` entry (0 for `SHT_REL`).
    pub addend: i64,
    pub symbol: usize,
    pub kind: u32,
}

/// A relocation table and the section it patches.
#[derive(Debug)]
pub(crate) struct RelTable {
    /// Index of the section the relocations apply to (`sh_info`).
    pub target: usize,
    pub rels: Vec<Rel>,
}

/// The checked raw view of an object file.
#[derive(Debug)]
pub(crate) struct ElfFile<'a> {
    pub sections: Vec<Section<'a>>,
    pub symbols: Vec<Symbol<'a>>,
    pub rel_tables: Vec<RelTable>,
}

impl<'a> ElfFile<'a> {
    /// Parses and checks the header, section headers, symbols and relocations.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ElfError> {
        let header = check_header(bytes)?;
        let ctx = Ctx::new(Container::Big, Endian::Little);
        let shoff = usize::try_from(header.e_shoff).map_err(|_| malformed("e_shoff too large"))?;
        if shoff == 0 || shoff >= bytes.len() {
            return Err(malformed("section header table offset outside the file"));
        }
        let headers = SectionHeader::parse(bytes, shoff, usize::from(header.e_shnum), ctx)?;
        let shstrndx = usize::from(header.e_shstrndx);
        let sections = read_sections(bytes, &headers, shstrndx)?;
        let (symbols, symtab_index) = read_symbols(&sections, &headers, ctx)?;
        let rel_tables = read_relocations(&sections, &headers, symtab_index, symbols.len(), ctx)?;
        Ok(Self {
            sections,
            symbols,
            rel_tables,
        })
    }

    /// The name of section `index`, or a placeholder for out-of-range indices.
    pub fn section_name(&self, index: usize) -> &str {
        self.sections.get(index).map_or("<none>", |s| &s.name)
    }
}

fn malformed(reason: &str) -> ElfError {
    ElfError::Malformed {
        reason: reason.to_string(),
    }
}

fn check_header(bytes: &[u8]) -> Result<Header, ElfError> {
    let not_bpf = |reason: String| ElfError::NotBpfObject { reason };
    if bytes.len() < SIZEOF_EHDR {
        return Err(malformed("file shorter than an ELF header"));
    }
    let header = goblin::elf::Elf::parse_header(bytes)?;
    if header.e_ident[header::EI_CLASS] != header::ELFCLASS64 {
        return Err(not_bpf(format!(
            "ELF class {} (want ELFCLASS64)",
            header.e_ident[header::EI_CLASS]
        )));
    }
    if header.e_ident[header::EI_DATA] != header::ELFDATA2LSB {
        return Err(not_bpf(format!(
            "data encoding {} (want little-endian)",
            header.e_ident[header::EI_DATA]
        )));
    }
    // Objects from old LLVM releases (e.g. ovs/datapath.o in ebpf-samples) carry EM_NONE, so
    // it is accepted; any other machine is named, since the usual mistake is an object built
    // for the host (`EM_X86_64`, `EM_AARCH64`).
    if header.e_machine != EM_BPF && header.e_machine != EM_NONE {
        return Err(not_bpf(format!(
            "e_machine {} (EM_{}), want EM_BPF = 247",
            header.e_machine,
            header::machine_to_str(header.e_machine)
        )));
    }
    if header.e_type != header::ET_REL {
        return Err(not_bpf(format!("type {} (want ET_REL)", header.e_type)));
    }
    if usize::from(header.e_shentsize) != SIZEOF_SHDR {
        return Err(malformed("section header entry size is not 64"));
    }
    Ok(header)
}

/// A NUL-terminated string at `offset` in `table`, cut at [`MAX_NAME`] bytes.
pub(crate) fn string_at(table: &[u8], offset: usize) -> Option<Cow<'_, str>> {
    let rest = table.get(offset..)?;
    let end = rest
        .iter()
        .take(MAX_NAME)
        .position(|&b| b == 0)
        .unwrap_or(rest.len().min(MAX_NAME));
    rest.get(..end).map(String::from_utf8_lossy)
}

fn read_sections<'a>(
    bytes: &'a [u8],
    headers: &[SectionHeader],
    shstrndx: usize,
) -> Result<Vec<Section<'a>>, ElfError> {
    let data_of = |index: usize, sh: &SectionHeader| -> Result<&'a [u8], ElfError> {
        if sh.sh_type == section_header::SHT_NOBITS || sh.sh_type == section_header::SHT_NULL {
            return Ok(&[]);
        }
        let out = || ElfError::SectionOutOfBounds {
            section: format!("#{index}"),
            offset: sh.sh_offset,
            size: sh.sh_size,
            file_len: bytes.len(),
        };
        let start = usize::try_from(sh.sh_offset).map_err(|_| out())?;
        let size = usize::try_from(sh.sh_size).map_err(|_| out())?;
        let end = start.checked_add(size).ok_or_else(out)?;
        bytes.get(start..end).ok_or_else(out)
    };
    let names: &[u8] = match headers.get(shstrndx) {
        Some(sh) => data_of(shstrndx, sh)?,
        None if headers.is_empty() => &[],
        None => {
            return Err(ElfError::BadSectionIndex {
                section: "ELF header e_shstrndx".into(),
                index: shstrndx,
            })
        }
    };
    let mut sections = Vec::with_capacity(headers.len());
    for (index, sh) in headers.iter().enumerate() {
        let name_offset = sh.sh_name;
        // A damaged name only matters for sections the loader uses; those check `bad_name`.
        let (name, bad_name) = match string_at(names, name_offset) {
            _ if index == 0 => (Cow::Borrowed(""), None),
            Some(name) => (name, None),
            None => (Cow::Borrowed(""), Some(name_offset)),
        };
        let data = data_of(index, sh).map_err(|e| match e {
            ElfError::SectionOutOfBounds {
                offset,
                size,
                file_len,
                ..
            } => ElfError::SectionOutOfBounds {
                section: name.to_string(),
                offset,
                size,
                file_len,
            },
            other => other,
        })?;
        sections.push(Section {
            name,
            bad_name,
            sh_type: sh.sh_type,
            flags: sh.sh_flags,
            size: sh.sh_size,
            data,
            info: sh.sh_info,
            link: sh.sh_link,
        });
    }
    Ok(sections)
}

fn read_symbols<'a>(
    sections: &[Section<'a>],
    headers: &[SectionHeader],
    ctx: Ctx,
) -> Result<(Vec<Symbol<'a>>, Option<usize>), ElfError> {
    let bad = |reason: String| ElfError::BadSymbolTable { reason };
    let mut tables = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.sh_type == section_header::SHT_SYMTAB);
    let Some((index, symtab)) = tables.next() else {
        return Ok((Vec::new(), None));
    };
    if tables.next().is_some() {
        return Err(bad("more than one SHT_SYMTAB section".into()));
    }
    let entsize = headers.get(index).map_or(0, |h| h.sh_entsize);
    if entsize != SYM_SIZE {
        return Err(bad(format!("entry size {entsize} (want {SYM_SIZE})")));
    }
    if symtab.size % SYM_SIZE != 0 {
        return Err(ElfError::BadSectionSize {
            section: symtab.name.to_string(),
            size: symtab.size,
            unit: SYM_SIZE,
        });
    }
    let link = symtab.link as usize;
    let strings = linked(
        sections,
        index,
        "sh_link",
        link,
        section_header::SHT_STRTAB,
        "the string table (SHT_STRTAB)",
    )?
    .data;
    let count = symtab.data.len() / SYM_SIZE as usize;
    let table = Symtab::parse(symtab.data, 0, count, ctx)?;
    let mut symbols = Vec::with_capacity(count);
    for (i, s) in table.iter().enumerate() {
        let name = string_at(strings, s.st_name).ok_or_else(|| {
            bad(format!(
                "symbol {i}: name offset {:#x} outside the string table",
                s.st_name
            ))
        })?;
        let shndx = s.st_shndx;
        let section = match shndx {
            0 => None,
            x if x >= usize::from(section_header::SHN_LORESERVE as u16) => None,
            x if x < sections.len() => Some(x),
            x => {
                return Err(bad(format!(
                    "symbol {name}: section index {x} does not exist"
                )))
            }
        };
        symbols.push(Symbol {
            name,
            value: s.st_value,
            size: s.st_size,
            sym_type: s.st_type(),
            bind: s.st_bind(),
            section,
        });
    }
    Ok((symbols, Some(index)))
}

/// The section `field` (`sh_link`, `sh_info`) of section `index` names, which must be of type
/// `want` (described by `what`) and not the section itself.
fn linked<'s, 'a>(
    sections: &'s [Section<'a>],
    index: usize,
    field: &'static str,
    target: usize,
    want: u32,
    what: &str,
) -> Result<&'s Section<'a>, ElfError> {
    match sections.get(target) {
        Some(s) if target != index && s.sh_type == want => Ok(s),
        _ => Err(link_error(sections, index, field, target, what)),
    }
}

/// Why `field` of section `index`, naming `target`, cannot name `what`.
fn link_error(
    sections: &[Section<'_>],
    index: usize,
    field: &'static str,
    target: usize,
    what: &str,
) -> ElfError {
    let problem = match sections.get(target) {
        _ if target == index => format!("refers to the section itself, not {what}"),
        None => format!(
            "names no section (the file has {}), not {what}",
            sections.len()
        ),
        Some(s) => format!(
            "names section {} of type {}, not {what}",
            if s.name.is_empty() {
                "<unnamed>"
            } else {
                &s.name
            },
            section_header::sht_to_str(s.sh_type)
        ),
    };
    ElfError::BadSectionLink {
        section: sections
            .get(index)
            .map_or_else(|| format!("#{index}"), |s| s.name.to_string()),
        field,
        index: target,
        problem,
    }
}

fn read_relocations(
    sections: &[Section<'_>],
    headers: &[SectionHeader],
    symtab_index: Option<usize>,
    symbol_count: usize,
    ctx: Ctx,
) -> Result<Vec<RelTable>, ElfError> {
    let mut tables = Vec::new();
    for (index, section) in sections.iter().enumerate() {
        let is_rela = section.sh_type == section_header::SHT_RELA;
        if !is_rela && section.sh_type != section_header::SHT_REL {
            continue;
        }
        let name = section.name.to_string();
        let target = section.info as usize;
        if target >= sections.len() || target == index {
            return Err(link_error(
                sections,
                index,
                "sh_info",
                target,
                "the section patched",
            ));
        }
        // Relocations of debug and BTF sections are never applied: skip their checks so a
        // damaged `.rel.debug_*` does not reject an otherwise sound object.
        if !sections[target].is_code() {
            tables.push(RelTable {
                target,
                rels: Vec::new(),
            });
            continue;
        }
        if Some(section.link as usize) != symtab_index {
            let link = section.link as usize;
            return Err(match symtab_index {
                None => ElfError::BadSymbolTable {
                    reason: format!("{name} relocates code, but the file has no SHT_SYMTAB"),
                },
                Some(_) => linked(
                    sections,
                    index,
                    "sh_link",
                    link,
                    section_header::SHT_SYMTAB,
                    "the symbol table (SHT_SYMTAB)",
                )
                .err()
                .unwrap_or_else(|| {
                    link_error(sections, index, "sh_link", link, "the symbol table")
                }),
            });
        }
        let unit = if is_rela { REL_SIZE + 8 } else { REL_SIZE };
        let entsize = headers.get(index).map_or(0, |h| h.sh_entsize);
        if section.size % unit != 0 || (entsize != 0 && entsize != unit) {
            return Err(ElfError::BadSectionSize {
                section: name,
                size: section.size,
                unit,
            });
        }
        let parsed = RelocSection::parse(section.data, 0, section.data.len(), is_rela, ctx)?;
        let mut rels = Vec::with_capacity(parsed.len());
        for r in parsed.iter() {
            if r.r_sym >= symbol_count {
                return Err(ElfError::BadSymbolIndex {
                    section: name,
                    offset: r.r_offset,
                    index: r.r_sym,
                });
            }
            rels.push(Rel {
                offset: r.r_offset,
                addend: r.r_addend.unwrap_or(0),
                symbol: r.r_sym,
                kind: r.r_type,
            });
        }
        tables.push(RelTable { target, rels });
    }
    Ok(tables)
}
