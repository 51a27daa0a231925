//! apiary-elf: loads relocatable eBPF object files as clang builds them
//! (`clang -target bpf -O2 -g -c`).
//!
//! [`Object::parse`] reads the ELF64 little-endian `EM_BPF` object with goblin, collects maps
//! (legacy `maps` sections, BTF-defined `.maps`, and `.data`/`.rodata`/`.bss` as single-element
//! arrays), applies relocations (maps become `lddw` src 5, global data src 6, helper calls by
//! name get their Linux id, local calls and callbacks are linked), and returns one
//! [`ProgramSection`] per program with slots ready for [`apiary_vm::Program::new`].
//!
//! Input is untrusted: every offset, index and size is checked, loops in BTF are bounded, and
//! allocations are bounded by the input size. Errors are [`ElfError`] values naming the section,
//! symbol and offset; nothing panics.

mod btf;
pub mod co_re;
pub mod error;
pub mod externs;
mod link;
pub mod maps;
pub mod object;
/// Program types and libbpf's section table: the Linux catalogue's ([`apiary_linux`]).
pub use apiary_linux::program_type;
mod relocate;
mod sections;

pub use co_re::{CoreStats, TargetBtf};
pub use error::ElfError;
pub use externs::Kconfig;
pub use maps::{MapDef, MapKind};
pub use object::{Object, ParseOptions, ProgramSection};
pub use program_type::ProgramType;

/// Parses an object file; shorthand for [`Object::parse`].
///
/// # Errors
/// As [`Object::parse`].
pub fn load(bytes: &[u8]) -> Result<Object, ElfError> {
    Object::parse(bytes)
}
