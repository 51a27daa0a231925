//! [`Object`]: everything a loader needs from one clang-built eBPF object file.

use apiary_vm::insn::Insn;
use apiary_vm::opcode::{self, lddw_src};
use apiary_vm::Limits;

use crate::error::ElfError;
use crate::externs::{self, Kconfig};
use crate::link::Linker;
use crate::maps::{self, MapDef};
use crate::program_type::ProgramType;
use crate::relocate;
use crate::sections::ElfFile;

/// Across all programs, linked code may repeat shared subprograms; this many times the input's
/// slot count (plus a floor) is allowed before the object is refused as absurd.
const TOTAL_SLOTS_FACTOR: usize = 16;
const TOTAL_SLOTS_FLOOR: usize = 1 << 16;

/// One program: an entry function of a code section, linked with the functions it calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSection {
    /// The ELF section holding the entry function (`SEC("...")` name).
    pub section: String,
    /// The entry function's symbol (the section name when the object has no function symbols).
    pub function: String,
    /// The type implied by the section name.
    pub program_type: ProgramType,
    /// Relocated and linked slots, ready for [`apiary_vm::Program::new`]: maps are `lddw`
    /// src = 5 (index into [`Object::maps`]), global data src = 6, helpers by Linux id.
    pub insns: Vec<Insn>,
    /// Indices into [`Object::maps`] of the maps the program refers to, sorted.
    pub maps_used: Vec<usize>,
    /// Why the program could not be linked (then `insns` is empty): it uses a symbol apiary
    /// cannot resolve, such as a strong kfunc or `__ksym`, a call to a function no object
    /// section defines, or a `__kconfig` extern without a value. The object's other
    /// programs are not affected, as one libbpf program with autoload off does not fail the
    /// others.
    pub link_error: Option<ElfError>,
}

/// How to parse an object: limits, and the values of the externs libbpf would resolve.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// Limits on what the object asks for.
    pub limits: Limits,
    /// Values of `__kconfig` externs by name (see [`crate::externs`]).
    pub kconfig: Kconfig,
    /// The BTF CO-RE relocations are resolved against ([`crate::co_re`]); `None` leaves the
    /// object's own (compile-time) layout in place.
    pub target_btf: Option<std::sync::Arc<crate::co_re::TargetBtf>>,
    /// Where to get a target when `target_btf` is `None`, asked only for an object that has
    /// CO-RE relocations (reading the kernel's BTF costs a few milliseconds and megabytes).
    pub default_target_btf: Option<fn() -> Option<std::sync::Arc<crate::co_re::TargetBtf>>>,
}

/// A loaded object file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    /// Every program, in section then symbol order.
    pub programs: Vec<ProgramSection>,
    /// Every map: legacy, BTF-defined, then global data.
    pub maps: Vec<MapDef>,
    /// Contents of the `license` section, up to the first NUL.
    pub license: Option<String>,
}

impl Object {
    /// Parses, relocates and links an object file under the default [`Limits`].
    ///
    /// # Errors
    /// An [`ElfError`] naming the section, symbol and offset of the first problem found.
    pub fn parse(bytes: &[u8]) -> Result<Self, ElfError> {
        Self::parse_with(bytes, &Limits::default())
    }

    /// Parses, relocates and links an object file, refusing one that asks for more than
    /// `limits` allow (global data section sizes, number of maps and programs, instructions per
    /// program) before allocating for it. Map definitions themselves are checked when the maps
    /// are made ([`apiary_vm::MapTable::create`]).
    ///
    /// # Errors
    /// An [`ElfError`] naming the section, symbol and offset of the first problem found.
    pub fn parse_with(bytes: &[u8], limits: &Limits) -> Result<Self, ElfError> {
        Self::parse_options(
            bytes,
            &ParseOptions {
                limits: *limits,
                kconfig: Kconfig::new(),
                target_btf: None,
                default_target_btf: None,
            },
        )
    }

    /// Parses, relocates and links an object file under `options`: the limits of
    /// [`Object::parse_with`], and `__kconfig` extern values (a `.kconfig` map is added after
    /// the object's own maps when the object declares such externs).
    ///
    /// # Errors
    /// An [`ElfError`] naming the section, symbol and offset of the first problem found. A
    /// symbol that cannot be linked fails only the programs using it
    /// ([`ProgramSection::link_error`]).
    pub fn parse_options(bytes: &[u8], options: &ParseOptions) -> Result<Self, ElfError> {
        let limits = &options.limits;
        let elf = ElfFile::parse(bytes)?;
        let mut table = maps::collect(&elf, limits)?;
        let externs = externs::collect(&elf, &options.kconfig, &mut table)?;
        let mut code = relocate::relocate_all(&elf, &table, &externs)?;
        if crate::co_re::has_relocations(&elf) {
            let target = options
                .target_btf
                .clone()
                .or_else(|| options.default_target_btf.and_then(|f| f()));
            if let Some(target) = target {
                crate::co_re::apply(&elf, &mut code, &target)?;
            }
        }
        let (linker, entries) = Linker::new(&elf, &code, bytes.len())?;
        if entries.len() > limits.max_programs {
            return Err(ElfError::TooMany {
                what: "programs",
                count: entries.len(),
                limit: limits.max_programs,
            });
        }
        let budget = (bytes.len() / 8)
            .saturating_mul(TOTAL_SLOTS_FACTOR)
            .saturating_add(TOTAL_SLOTS_FLOOR);
        let mut total = 0usize;
        let mut programs = Vec::with_capacity(entries.len());
        for entry in &entries {
            let section = elf.section_name(entry.function.section).to_string();
            let insns = match linker.link(entry) {
                Ok(insns) => insns,
                Err(e @ (ElfError::UnknownHelper { .. } | ElfError::UnresolvedSymbol { .. })) => {
                    programs.push(ProgramSection {
                        program_type: ProgramType::from_section(&section),
                        section,
                        function: entry.name.clone(),
                        insns: Vec::new(),
                        maps_used: Vec::new(),
                        link_error: Some(e),
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            total = total.saturating_add(insns.len());
            if insns.len() > limits.max_insns {
                return Err(ElfError::ProgramTooLarge {
                    section,
                    function: entry.name.clone(),
                    insns: insns.len(),
                    limit: limits.max_insns,
                });
            }
            if total > budget {
                return Err(ElfError::TooLarge {
                    section,
                    function: entry.name.clone(),
                    limit: budget,
                });
            }
            programs.push(ProgramSection {
                program_type: ProgramType::from_section(&section),
                section,
                function: entry.name.clone(),
                maps_used: maps_used(&insns),
                insns,
                link_error: None,
            });
        }
        let license = elf.sections.iter().find(|s| s.name == "license").map(|s| {
            let end = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
            String::from_utf8_lossy(&s.data[..end]).into_owned()
        });
        Ok(Self {
            programs,
            maps: table.maps,
            license,
        })
    }

    /// The program with entry `function` in `section`.
    #[must_use]
    pub fn program(&self, section: &str, function: &str) -> Option<&ProgramSection> {
        self.programs
            .iter()
            .find(|p| p.section == section && p.function == function)
    }
}

/// Map indices named by `lddw` src 5 / 6 in `insns`.
fn maps_used(insns: &[Insn]) -> Vec<usize> {
    let mut used: Vec<usize> = insns
        .iter()
        .filter(|i| {
            i.op == opcode::LDDW && matches!(i.src, lddw_src::MAP_IDX | lddw_src::MAP_IDX_VALUE)
        })
        .filter_map(|i| usize::try_from(i.imm).ok())
        .collect();
    used.sort_unstable();
    used.dedup();
    used
}
