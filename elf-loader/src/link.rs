//! Finds the programs of each code section and links each one with the functions it calls.
//!
//! A program is its entry function followed by every function it reaches through local calls
//! and code addresses (transitively), each appended once, in discovery order; then every call
//! and code-address displacement is recomputed for the new layout. Functions come from `FUNC`
//! symbols; objects from older clang that only have `NOTYPE` labels are cut at global labels.
//!
//! Entry points: every function of a program section, static or global, and the global
//! functions of `.text` (which PREVAIL lists as programs, and the ebpf-samples labels with it;
//! libbpf 1.x would make them subprograms only).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use apiary_vm::insn::Insn;

use crate::error::ElfError;
use crate::relocate::{CodeSection, Target};
use crate::sections::ElfFile;

/// A function: slots `start..end` of a code section.
#[derive(Clone, Debug)]
pub(crate) struct Function {
    pub section: usize,
    pub start: usize,
    pub end: usize,
}

/// An entry point: a program's function and its name.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub name: String,
    pub function: Function,
}

/// Function boundaries of one code section.
#[derive(Debug, Default)]
struct Layout {
    /// FUNC symbols with a size: start slot → end slot.
    sized: BTreeMap<usize, usize>,
    /// Every slot where a function or global label starts.
    starts: BTreeSet<usize>,
    len: usize,
}

impl Layout {
    fn extent(&self, start: usize) -> usize {
        if let Some(&end) = self.sized.get(&start) {
            return end;
        }
        self.starts
            .range(start + 1..)
            .next()
            .copied()
            .unwrap_or(self.len)
    }
}

/// The code sections' function layout and entry points.
#[derive(Debug)]
pub(crate) struct Linker<'c> {
    code: &'c BTreeMap<usize, CodeSection>,
    layouts: BTreeMap<usize, Layout>,
    /// Upper bound on one linked program, derived from the input size.
    limit: usize,
}

impl<'c> Linker<'c> {
    /// Reads function boundaries from the symbol table and lists every program entry.
    pub fn new(
        elf: &ElfFile<'_>,
        code: &'c BTreeMap<usize, CodeSection>,
        input_len: usize,
    ) -> Result<(Self, Vec<Entry>), ElfError> {
        let mut layouts: BTreeMap<usize, Layout> = BTreeMap::new();
        let mut entries = Vec::new();
        for (&index, section) in code {
            let len = section.insns.len();
            let mut layout = Layout {
                len,
                ..Layout::default()
            };
            let mut globals = Vec::new();
            let mut has_func = false;
            for s in elf.symbols.iter().filter(|s| s.section == Some(index)) {
                let is_label = s.is_function() || (s.is_global() && !s.is_section());
                if !is_label {
                    continue;
                }
                let out = || ElfError::SymbolOutOfRange {
                    symbol: s.name.to_string(),
                    section: section.name.clone(),
                    value: s.value,
                    size: s.size,
                    section_size: len as u64 * 8,
                };
                let end = s.value.checked_add(s.size).ok_or_else(out)?;
                if s.value % 8 != 0
                    || s.size % 8 != 0
                    || end > len as u64 * 8
                    || s.value >= len as u64 * 8
                {
                    return Err(out());
                }
                let (start, end) = ((s.value / 8) as usize, (end / 8) as usize);
                layout.starts.insert(start);
                if s.is_function() {
                    has_func = true;
                    if end > start {
                        layout.sized.insert(start, end);
                    }
                    // Global functions are programs; so are static ones outside `.text`, as
                    // libbpf, cilium/ebpf and PREVAIL list them (Cilium's tail-call programs
                    // are often static). Static functions in `.text` are subprograms.
                    if s.is_global() || section.name != ".text" {
                        globals.push((s.name.to_string(), start));
                    }
                }
            }
            if globals.is_empty() && !has_func {
                // No function symbols (old clang): the whole section is one program, named
                // after the section as PREVAIL and ebpf-samples do.
                let function = Function {
                    section: index,
                    start: 0,
                    end: len,
                };
                entries.push(Entry {
                    name: section.name.clone(),
                    function,
                });
            }
            for (name, start) in globals {
                let function = Function {
                    section: index,
                    start,
                    end: layout.extent(start),
                };
                entries.push(Entry { name, function });
            }
            layouts.insert(index, layout);
        }
        // A linked program holds each function at most once, so it is never larger than all
        // code together; the cap also bounds memory for adversarial inputs.
        let limit = input_len / 8 + 1;
        Ok((
            Self {
                code,
                layouts,
                limit,
            },
            entries,
        ))
    }

    /// The function that a call to `target` enters.
    fn function_at(&self, target: Target) -> Function {
        let end = self
            .layouts
            .get(&target.section)
            .map_or(target.slot + 1, |l| l.extent(target.slot));
        Function {
            section: target.section,
            start: target.slot,
            end,
        }
    }

    /// Links the program starting with `entry`.
    pub fn link(&self, entry: &Entry) -> Result<Vec<Insn>, ElfError> {
        let too_large = || ElfError::TooLarge {
            section: self.section_name(entry.function.section),
            function: entry.name.clone(),
            limit: self.limit,
        };
        let mut out: Vec<Insn> = Vec::new();
        // (section, start) → (end, position in `out`).
        let mut placed: BTreeMap<(usize, usize), (usize, usize)> = BTreeMap::new();
        let mut queue = VecDeque::new();
        let mut fixups = Vec::new();
        let place = |f: Function,
                     out: &mut Vec<Insn>,
                     placed: &mut BTreeMap<_, _>,
                     queue: &mut VecDeque<_>|
         -> Result<(), ElfError> {
            let code = self.code.get(&f.section).ok_or_else(too_large)?;
            if let Some((_, e)) = code.unresolved.range(f.start..f.end).next() {
                return Err(e.clone());
            }
            let slots = code.insns.get(f.start..f.end).ok_or_else(too_large)?;
            if out.len() + slots.len() > self.limit {
                return Err(too_large());
            }
            placed.insert((f.section, f.start), (f.end, out.len()));
            queue.push_back((f.clone(), out.len()));
            out.extend_from_slice(slots);
            Ok(())
        };
        place(entry.function.clone(), &mut out, &mut placed, &mut queue)?;
        while let Some((f, base)) = queue.pop_front() {
            let Some(code) = self.code.get(&f.section) else {
                continue;
            };
            for (&slot, link) in code.links.range(f.start..f.end) {
                let pc = base + (slot - f.start);
                fixups.push((pc, link.target));
                if find(&placed, link.target).is_none() {
                    place(
                        self.function_at(link.target),
                        &mut out,
                        &mut placed,
                        &mut queue,
                    )?;
                }
            }
        }
        for (pc, target) in fixups {
            let at = find(&placed, target).ok_or_else(too_large)?;
            let displacement = at as i64 - pc as i64 - 1;
            out[pc].imm = i32::try_from(displacement).map_err(|_| too_large())?;
        }
        Ok(out)
    }

    fn section_name(&self, index: usize) -> String {
        self.code
            .get(&index)
            .map_or_else(|| format!("#{index}"), |c| c.name.clone())
    }
}

/// The position in the linked program of `target`, if a placed function contains it.
fn find(placed: &BTreeMap<(usize, usize), (usize, usize)>, target: Target) -> Option<usize> {
    let (&(section, start), &(end, base)) =
        placed.range(..=(target.section, target.slot)).next_back()?;
    (section == target.section && target.slot < end).then(|| base + (target.slot - start))
}
