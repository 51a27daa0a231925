//! Why an object could not be loaded. Every variant names the section, symbol and byte offset
//! it concerns, so a user can find the problem with `llvm-objdump -dr` or `llvm-readelf`.
//! These are all input errors: a malformed or unsupported object, never a bug in apiary.

use thiserror::Error;

/// An ELF loading error.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ElfError {
    /// goblin could not parse a header or table (truncated file, bad counts).
    #[error("malformed ELF: {reason}")]
    Malformed { reason: String },
    /// The file is not ELF64 little-endian `EM_BPF` relocatable object.
    #[error("not a relocatable little-endian ELF64 eBPF object: {reason}")]
    NotBpfObject { reason: String },
    /// A section's bytes lie outside the file.
    #[error(
        "section {section}: range {offset:#x}+{size:#x} lies outside the file ({file_len} bytes)"
    )]
    SectionOutOfBounds {
        section: String,
        offset: u64,
        size: u64,
        file_len: usize,
    },
    /// A section name offset outside the section-name string table.
    #[error("section {index}: name offset {offset:#x} is outside the string table")]
    BadSectionName { index: usize, offset: usize },
    /// A section whose size must be a multiple of some record size is not.
    #[error("section {section}: size {size} is not a multiple of {unit}")]
    BadSectionSize {
        section: String,
        size: u64,
        unit: u64,
    },
    /// A header field referring to another section names no section.
    #[error("section {section}: refers to section {index}, which does not exist")]
    BadSectionIndex { section: String, index: usize },
    /// A section header's `sh_link` or `sh_info` names a section that cannot be the one the
    /// field must name (itself, a section of the wrong type).
    #[error("section {section}: {field} = {index} {problem}")]
    BadSectionLink {
        section: String,
        field: &'static str,
        index: usize,
        problem: String,
    },
    /// An executable section of size 0 that defines a function or entry symbol: the program
    /// it should hold has no instruction.
    #[error("section {section}: program section of size 0 (sh_size = 0) holds no instruction, yet defines symbol {symbol}")]
    EmptyProgramSection { section: String, symbol: String },
    /// The symbol table is malformed.
    #[error("symbol table: {reason}")]
    BadSymbolTable { reason: String },
    /// A symbol lies (partly) outside its section, or is misaligned in a code section.
    #[error("symbol {symbol}: value {value:#x} size {size:#x} is not inside section {section} (size {section_size:#x}) or not on an instruction boundary")]
    SymbolOutOfRange {
        symbol: String,
        section: String,
        value: u64,
        size: u64,
        section_size: u64,
    },
    /// A relocation names a symbol index outside the symbol table.
    #[error("section {section} offset {offset:#x}: relocation names symbol {index}, outside the symbol table")]
    BadSymbolIndex {
        section: String,
        offset: u64,
        index: usize,
    },
    /// A relocation offset outside its section or not on an instruction boundary.
    #[error("section {section}: relocation offset {offset:#x} is outside the section or not on an instruction boundary")]
    BadRelocationOffset { section: String, offset: u64 },
    /// A relocation type the loader does not know in a program section.
    #[error("section {section} offset {offset:#x}: unsupported relocation type {kind}")]
    UnknownRelocation {
        section: String,
        offset: u64,
        kind: u32,
    },
    /// Two relocations for one instruction.
    #[error("section {section} offset {offset:#x}: more than one relocation")]
    DuplicateRelocation { section: String, offset: u64 },
    /// A relocation on an instruction of the wrong kind (e.g. R_BPF_64_64 on a non-`lddw`).
    #[error("section {section} offset {offset:#x}: relocation type {kind} against {symbol} applies to opcode {op:#04x}, which it cannot patch")]
    RelocationOnWrongInstruction {
        section: String,
        offset: u64,
        kind: u32,
        symbol: String,
        op: u8,
    },
    /// A call to an undefined symbol that names no known Linux helper: a kfunc, or a function
    /// clang did not inline (`memset`) or another object defines. Fails only the programs
    /// that reach the call ([`crate::ProgramSection::link_error`]).
    #[error("section {section} offset {offset:#x}: call to undefined symbol {symbol}, which is not a known helper (kfuncs and functions defined outside the object cannot be linked)")]
    UnknownHelper {
        section: String,
        offset: u64,
        symbol: String,
    },
    /// A relocation against a symbol the loader cannot resolve (extern variable, kfunc, ...).
    #[error("section {section} offset {offset:#x}: cannot resolve relocation against {symbol}: {reason}")]
    UnresolvedSymbol {
        section: String,
        offset: u64,
        symbol: String,
        reason: String,
    },
    /// A call or code address whose target is outside the target section or misaligned.
    #[error("section {section} offset {offset:#x}: call or code-address target {target} (slot) is outside section {target_section}")]
    BadCallTarget {
        section: String,
        offset: u64,
        target: i64,
        target_section: String,
    },
    /// A legacy or BTF map definition is malformed.
    #[error("map section {section}: {reason}")]
    BadMap { section: String, reason: String },
    /// The `.BTF` section is malformed.
    #[error(".BTF offset {offset:#x}: {reason}")]
    BadBtf { offset: usize, reason: String },
    /// Linking would produce more instructions than the input size justifies.
    #[error(
        "program {function} in section {section}: linked program exceeds {limit} instructions"
    )]
    TooLarge {
        section: String,
        function: String,
        limit: usize,
    },
    /// A global data section larger than [`apiary_vm::Limits::max_data_section`] (checked before
    /// any map is made for it; a `.bss` has no bytes in the file to bound it).
    #[error("section {section}: size {size} bytes exceeds the global data section limit of {limit} bytes")]
    SectionTooLarge {
        section: String,
        size: u64,
        limit: u64,
    },
    /// A linked program longer than [`apiary_vm::Limits::max_insns`].
    #[error("program {function} in section {section}: {insns} instructions exceed the limit of {limit} instructions per program")]
    ProgramTooLarge {
        section: String,
        function: String,
        insns: usize,
        limit: usize,
    },
    /// More maps or programs than [`apiary_vm::Limits`] allows in one object.
    #[error("the object has {count} {what}, more than the limit of {limit} {what} per object")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
}

impl ElfError {
    /// A short stable name for the variant, for counting errors by kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            ElfError::Malformed { .. } => "malformed",
            ElfError::NotBpfObject { .. } => "not-bpf-object",
            ElfError::SectionOutOfBounds { .. } => "section-out-of-bounds",
            ElfError::BadSectionName { .. } => "bad-section-name",
            ElfError::BadSectionSize { .. } => "bad-section-size",
            ElfError::BadSectionIndex { .. } => "bad-section-index",
            ElfError::BadSectionLink { .. } => "bad-section-link",
            ElfError::EmptyProgramSection { .. } => "empty-program-section",
            ElfError::BadSymbolTable { .. } => "bad-symbol-table",
            ElfError::SymbolOutOfRange { .. } => "symbol-out-of-range",
            ElfError::BadSymbolIndex { .. } => "bad-symbol-index",
            ElfError::BadRelocationOffset { .. } => "bad-relocation-offset",
            ElfError::UnknownRelocation { .. } => "unknown-relocation",
            ElfError::DuplicateRelocation { .. } => "duplicate-relocation",
            ElfError::RelocationOnWrongInstruction { .. } => "relocation-on-wrong-instruction",
            ElfError::UnknownHelper { .. } => "unknown-helper",
            ElfError::UnresolvedSymbol { .. } => "unresolved-symbol",
            ElfError::BadCallTarget { .. } => "bad-call-target",
            ElfError::BadMap { .. } => "bad-map",
            ElfError::BadBtf { .. } => "bad-btf",
            ElfError::TooLarge { .. } => "too-large",
            ElfError::SectionTooLarge { .. } => "section-too-large",
            ElfError::ProgramTooLarge { .. } => "program-too-large",
            ElfError::TooMany { .. } => "too-many",
        }
    }
}

impl From<goblin::error::Error> for ElfError {
    fn from(e: goblin::error::Error) -> Self {
        ElfError::Malformed {
            reason: e.to_string(),
        }
    }
}
