//! Applies the relocations of each code section once, before linking.
//!
//! Map and global-data references and helper calls by name are resolved in place (their
//! result does not depend on where the code ends up). Local calls and code addresses depend on
//! the linked layout, so they are recorded as [`Link`]s to a (section, slot) target and patched
//! by [`crate::link`] for each program.

use std::collections::BTreeMap;

use apiary_linux::helper_id;
use apiary_vm::insn::{insns_from_bytes, Insn};
use apiary_vm::opcode::{self, call_src, lddw_src};

use crate::error::ElfError;
use crate::externs::{is_weak, Externs, KconfigSlot};
use crate::maps::MapTable;
use crate::sections::{ElfFile, Rel, Symbol};

/// `R_BPF_NONE`.
const R_BPF_NONE: u32 = 0;
/// `R_BPF_64_64`: an `lddw` immediate (map, global data, code address).
const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: a call immediate, `(S + A) / 8 - 1`.
const R_BPF_64_32: u32 = 10;

/// A (section, slot) location in the object's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Target {
    pub section: usize,
    pub slot: usize,
}

/// A reference from one slot to code elsewhere, resolved at link time: a `call` with
/// src = 1 or an `lddw` with src = 4, whose imm becomes the displacement to the target.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    pub target: Target,
}

/// A code section with its relocations applied.
#[derive(Debug)]
pub(crate) struct CodeSection {
    pub name: String,
    pub insns: Vec<Insn>,
    /// Slot → link, for every local call and code address in the section.
    pub links: BTreeMap<usize, Link>,
    /// Slot → why its symbol cannot be linked (a strong kernel symbol, a call to an undefined
    /// function, a `__kconfig` extern without a value). Only the programs whose code includes
    /// the slot fail; the object's other programs load.
    pub unresolved: BTreeMap<usize, ElfError>,
}

/// Relocates every non-empty code section; the map keys are section indices.
pub(crate) fn relocate_all(
    elf: &ElfFile<'_>,
    maps: &MapTable,
    externs: &Externs,
) -> Result<BTreeMap<usize, CodeSection>, ElfError> {
    let mut out = BTreeMap::new();
    for (index, section) in elf.sections.iter().enumerate() {
        if !section.is_code() {
            continue;
        }
        if section.size == 0 {
            // clang leaves an empty `.text` in every object; an empty section is only an error
            // when a program (a function or global label) is defined in it.
            let entry = elf.symbols.iter().find(|s| {
                s.section == Some(index) && (s.is_function() || (s.is_global() && !s.is_section()))
            });
            if let Some(symbol) = entry {
                return Err(ElfError::EmptyProgramSection {
                    section: section.name.to_string(),
                    symbol: symbol.name.to_string(),
                });
            }
            continue;
        }
        if let Some(offset) = section.bad_name {
            return Err(ElfError::BadSectionName { index, offset });
        }
        let name = section.name.to_string();
        if section.size % 8 != 0 {
            return Err(ElfError::BadSectionSize {
                section: name,
                size: section.size,
                unit: 8,
            });
        }
        let insns = insns_from_bytes(section.data).map_err(|_| ElfError::BadSectionSize {
            section: name.clone(),
            size: section.size,
            unit: 8,
        })?;
        let mut code = CodeSection {
            name,
            insns,
            links: BTreeMap::new(),
            unresolved: BTreeMap::new(),
        };
        let rels = relocations_by_slot(elf, index, &code)?;
        let mut cx = Relocator {
            elf,
            maps,
            externs,
            code: &mut code,
            section: index,
        };
        for (&slot, rel) in &rels {
            cx.apply(slot, rel)?;
        }
        cx.pc_relative_links(&rels)?;
        out.insert(index, code);
    }
    Ok(out)
}

/// The relocations of section `index`, keyed by slot, with offsets checked.
fn relocations_by_slot(
    elf: &ElfFile<'_>,
    index: usize,
    code: &CodeSection,
) -> Result<BTreeMap<usize, Rel>, ElfError> {
    let mut by_slot = BTreeMap::new();
    for table in elf.rel_tables.iter().filter(|t| t.target == index) {
        for rel in &table.rels {
            let bad = || ElfError::BadRelocationOffset {
                section: code.name.clone(),
                offset: rel.offset,
            };
            let slot = usize::try_from(rel.offset).map_err(|_| bad())?;
            if slot % 8 != 0 || slot / 8 >= code.insns.len() {
                return Err(bad());
            }
            if by_slot.insert(slot / 8, *rel).is_some() {
                return Err(ElfError::DuplicateRelocation {
                    section: code.name.clone(),
                    offset: rel.offset,
                });
            }
        }
    }
    Ok(by_slot)
}

struct Relocator<'e, 'a, 'c> {
    elf: &'e ElfFile<'a>,
    maps: &'e MapTable,
    externs: &'e Externs,
    code: &'c mut CodeSection,
    section: usize,
}

impl Relocator<'_, '_, '_> {
    fn apply(&mut self, slot: usize, rel: &Rel) -> Result<(), ElfError> {
        let symbol = self
            .elf
            .symbols
            .get(rel.symbol)
            .ok_or_else(|| ElfError::BadSymbolIndex {
                section: self.code.name.clone(),
                offset: rel.offset,
                index: rel.symbol,
            })?;
        let op = self.code.insns[slot].op;
        let wrong = || ElfError::RelocationOnWrongInstruction {
            section: self.code.name.clone(),
            offset: rel.offset,
            kind: rel.kind,
            symbol: symbol.name.to_string(),
            op,
        };
        match rel.kind {
            // Very old LLVM (ovs/datapath.o in ebpf-samples) wrote type 0 with SHT_RELA for
            // map references: on an lddw or call it can only mean the usual relocation.
            R_BPF_NONE if op == opcode::LDDW && slot + 1 < self.code.insns.len() => {
                self.lddw(slot, rel, symbol)
            }
            R_BPF_NONE if op == opcode::CALL => self.call(slot, rel, symbol),
            R_BPF_NONE => Ok(()),
            R_BPF_64_64 if op == opcode::LDDW && slot + 1 < self.code.insns.len() => {
                self.lddw(slot, rel, symbol)
            }
            R_BPF_64_64 => Err(wrong()),
            R_BPF_64_32 if op == opcode::CALL => self.call(slot, rel, symbol),
            R_BPF_64_32 => Err(wrong()),
            kind => Err(ElfError::UnknownRelocation {
                section: self.code.name.clone(),
                offset: rel.offset,
                kind,
            }),
        }
    }

    fn unresolved(&self, rel: &Rel, symbol: &Symbol<'_>, reason: String) -> ElfError {
        ElfError::UnresolvedSymbol {
            section: self.code.name.clone(),
            offset: rel.offset,
            symbol: symbol.name.to_string(),
            reason,
        }
    }

    /// `R_BPF_64_64` on an `lddw`: a map, a global variable or a function address.
    fn lddw(&mut self, slot: usize, rel: &Rel, symbol: &Symbol<'_>) -> Result<(), ElfError> {
        // The instruction's imm is the addend, in bytes (plus an explicit RELA addend).
        let addend = i64::from(self.code.insns[slot].imm).saturating_add(rel.addend);
        let Some(section) = symbol.section else {
            return self.extern_lddw(slot, rel, symbol, addend);
        };
        let value = i64::try_from(symbol.value)
            .map_err(|_| self.unresolved(rel, symbol, "symbol value too large".into()))?;
        let offset = value
            .checked_add(addend)
            .ok_or_else(|| self.unresolved(rel, symbol, "offset overflows".into()))?;
        if let Some(&map) = self.maps.data_sections.get(&section) {
            let size = self.elf.sections[section].size;
            let in_range =
                u64::try_from(offset).is_ok_and(|o| o < size) && i32::try_from(offset).is_ok();
            if !in_range {
                return Err(self.unresolved(
                    rel,
                    symbol,
                    format!("offset {offset} outside global data section of {size} bytes"),
                ));
            }
            self.set_lddw(slot, lddw_src::MAP_IDX_VALUE, map, offset as i32);
            return Ok(());
        }
        let target_section = &self.elf.sections[section];
        if target_section.is_code() {
            let target = self.code_target(rel, symbol, section, offset, 8)?;
            self.set_lddw(slot, lddw_src::CODE_ADDR, 0, 0);
            self.code.links.insert(slot, Link { target });
            return Ok(());
        }
        let location = if symbol.is_section() { offset } else { value };
        let map = u64::try_from(location)
            .ok()
            .and_then(|loc| self.maps.by_location.get(&(section, loc)));
        match map {
            Some(&map) => {
                self.set_lddw(slot, lddw_src::MAP_IDX, map, 0);
                Ok(())
            }
            None => Err(self.unresolved(
                rel,
                symbol,
                format!(
                    "section {} offset {location:#x} holds no map or global data",
                    target_section.name
                ),
            )),
        }
    }

    /// An `lddw` of an undefined symbol: a `__kconfig` extern points into the `.kconfig` map;
    /// a kernel symbol (`__ksym` variable, or a kfunc's address as `bpf_ksym_exists()` takes
    /// it) is 0 when weak, as libbpf leaves an unresolved weak ksym, and fails the programs
    /// using it when strong: there is no kernel to take its address from.
    fn extern_lddw(
        &mut self,
        slot: usize,
        rel: &Rel,
        symbol: &Symbol<'_>,
        addend: i64,
    ) -> Result<(), ElfError> {
        match (self.externs.slot(&symbol.name), self.externs.map) {
            (Some(KconfigSlot::At(at)), Some(map)) => {
                let offset = i64::from(*at).saturating_add(addend);
                let Ok(offset) = i32::try_from(offset) else {
                    return Err(self.unresolved(rel, symbol, "offset overflows".into()));
                };
                self.set_lddw(slot, lddw_src::MAP_IDX_VALUE, map, offset);
            }
            (Some(KconfigSlot::Missing(reason)), _) => {
                let e = self.unresolved(rel, symbol, reason.clone());
                self.code.unresolved.insert(slot, e);
            }
            _ if is_weak(symbol.bind) => {
                self.code.insns[slot].src = 0;
                self.code.insns[slot].imm = 0;
                self.code.insns[slot + 1].imm = 0;
            }
            _ => {
                let e = self.unresolved(
                    rel,
                    symbol,
                    "a kernel symbol (__ksym), which apiary cannot resolve outside the kernel"
                        .into(),
                );
                self.code.unresolved.insert(slot, e);
            }
        }
        Ok(())
    }

    fn set_lddw(&mut self, slot: usize, src: u8, imm: usize, next: i32) {
        let insn = &mut self.code.insns[slot];
        insn.src = src;
        // Map indices are bounded by the number of symbols, far below i32::MAX for any file
        // whose size fits in memory; saturate rather than wrap if not.
        insn.imm = i32::try_from(imm).unwrap_or(i32::MAX);
        self.code.insns[slot + 1].imm = next;
    }

    /// `R_BPF_64_32` on a `call`: a helper by name or a local function.
    fn call(&mut self, slot: usize, rel: &Rel, symbol: &Symbol<'_>) -> Result<(), ElfError> {
        let Some(section) = symbol.section else {
            let insn = &mut self.code.insns[slot];
            if let Some(id) = helper_id(&symbol.name) {
                insn.src = call_src::HELPER;
                insn.imm = id as i32;
            } else if is_weak(symbol.bind) {
                // A weak kfunc apiary cannot resolve: libbpf poisons the call so that the
                // verifier refuses it if reachable; a kfunc call with no BTF id does the same
                // here (the verifier refuses kfunc calls, engines fault on one), while the
                // usual `if (bpf_ksym_exists(f))` guard makes it dead code.
                insn.src = call_src::KFUNC;
                insn.imm = 0;
                insn.off = 0;
            } else {
                // A kfunc, or a function clang did not inline (`memset`) or another object
                // defines: this section's programs that reach it cannot be linked.
                let e = ElfError::UnknownHelper {
                    section: self.code.name.clone(),
                    offset: rel.offset,
                    symbol: symbol.name.to_string(),
                };
                self.code.unresolved.insert(slot, e);
            }
            return Ok(());
        };
        if !self.elf.sections[section].is_code() {
            return Err(self.unresolved(
                rel,
                symbol,
                format!(
                    "call into non-code section {}",
                    self.elf.sections[section].name
                ),
            ));
        }
        // The call's imm is the addend in slots, minus one: target = S / 8 + imm + 1.
        let value = i64::try_from(symbol.value)
            .map_err(|_| self.unresolved(rel, symbol, "symbol value too large".into()))?;
        let imm = i64::from(self.code.insns[slot].imm);
        let byte = imm
            .checked_add(1)
            .and_then(|s| s.checked_mul(8))
            .and_then(|a| a.checked_add(value))
            .and_then(|b| b.checked_add(rel.addend));
        let byte =
            byte.ok_or_else(|| self.unresolved(rel, symbol, "call target overflows".into()))?;
        let target = self.code_target(rel, symbol, section, byte, 8)?;
        self.code.insns[slot].src = call_src::LOCAL;
        self.code.links.insert(slot, Link { target });
        Ok(())
    }

    /// Checks that byte offset `byte` is a slot inside code section `section`.
    fn code_target(
        &self,
        rel: &Rel,
        symbol: &Symbol<'_>,
        section: usize,
        byte: i64,
        unit: i64,
    ) -> Result<Target, ElfError> {
        let size = self.elf.sections[section].size;
        let ok = byte >= 0 && byte % unit == 0 && u64::try_from(byte).is_ok_and(|b| b < size);
        if !ok {
            return Err(ElfError::BadCallTarget {
                section: self.code.name.clone(),
                offset: rel.offset,
                target: byte / unit,
                target_section: format!(
                    "{} (via {})",
                    self.elf.sections[section].name, symbol.name
                ),
            });
        }
        Ok(Target {
            section,
            slot: (byte / unit) as usize,
        })
    }

    /// Local calls and code addresses without a relocation are already pc-relative inside
    /// this section (older clang, or calls the assembler resolved): record them as links too.
    fn pc_relative_links(&mut self, relocated: &BTreeMap<usize, Rel>) -> Result<(), ElfError> {
        let len = self.code.insns.len();
        for slot in 0..len {
            if relocated.contains_key(&slot) {
                continue;
            }
            let insn = self.code.insns[slot];
            if !matches!(
                (insn.op, insn.src),
                (opcode::CALL, call_src::LOCAL) | (opcode::LDDW, lddw_src::CODE_ADDR)
            ) {
                continue;
            }
            let target = slot as i64 + 1 + i64::from(insn.imm);
            if target < 0 || target >= len as i64 {
                return Err(ElfError::BadCallTarget {
                    section: self.code.name.clone(),
                    offset: slot as u64 * 8,
                    target,
                    target_section: self.code.name.clone(),
                });
            }
            self.code.links.insert(
                slot,
                Link {
                    target: Target {
                        section: self.section,
                        slot: target as usize,
                    },
                },
            );
        }
        Ok(())
    }
}
