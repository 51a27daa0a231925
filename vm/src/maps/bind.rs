//! Binding a program to a [`MapTable`]: `lddw` map pseudo forms become plain 64-bit constants
//! before the program reaches any engine.
//!
//! - src 1 (`map_fd N`) and src 5 (`map_idx N`) → the handle of map `N` ([`map_handle`]); apiary
//!   gives each map of a table the "fd" equal to its index;
//! - src 2 (`map_value N, OFF`) and src 6 (`map_idx_value N, OFF`) → the address of element 0's
//!   value plus `OFF`, for ARRAY maps only, with `0 <= OFF < value_size` (Linux's rule).
//!
//! Other forms (src 3 variable addresses, src 4 code addresses) are left as they are.

use thiserror::Error;

use super::{map_handle, map_type, MapTable};
use crate::error::LoadError;
use crate::insn::Insn;
use crate::instruction::{Instruction, Lddw};
use crate::memory::Region;
use crate::program::Program;

/// Why a program cannot be bound to a map table.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum BindError {
    /// The `lddw` names a map the table does not have.
    #[error("instruction {pc}: no map with index {index}")]
    UnknownMap { pc: usize, index: i32 },
    /// A map-value `lddw` on a map that is not an ARRAY.
    #[error("instruction {pc}: map {map} (type {map_type}) is not an array; map_value needs one")]
    NotAnArray {
        pc: usize,
        map: usize,
        map_type: u32,
    },
    /// A map-value offset outside the value.
    #[error("instruction {pc}: offset {offset} is outside map {map}'s {value_size}-byte value")]
    OffsetOutOfRange {
        pc: usize,
        map: usize,
        offset: i32,
        value_size: u32,
    },
    /// The rewritten program failed to load (cannot happen for a valid input program).
    #[error("rewritten program does not load: {source}")]
    Load {
        #[source]
        source: LoadError,
    },
}

/// A program bound to a map table, and the regions its environment needs.
#[derive(Debug)]
pub struct Bound {
    /// The program with every map `lddw` rewritten to a constant.
    pub program: Program,
    /// The map regions (every map of the table: lookups may return any of them) for
    /// [`crate::Environment::regions`]. Valid while the table's maps live.
    pub regions: Vec<Region>,
}

/// Rewrites `program`'s map `lddw`s for `table`.
///
/// # Errors
/// [`BindError`] naming the first `lddw` that cannot be bound.
pub fn bind(program: &Program, table: &MapTable) -> Result<Bound, BindError> {
    let mut insns: Vec<Insn> = program.insns().to_vec();
    for (pc, ins) in program.instructions().iter().enumerate() {
        let Instruction::LoadImm64 { value, .. } = *ins else {
            continue;
        };
        let constant = match value {
            Lddw::MapFd(index) | Lddw::MapIdx(index) => {
                let map = lookup(table, pc, index)?;
                map_handle(map)
            }
            Lddw::MapValue { map, offset } | Lddw::MapIdxValue { map, offset } => {
                let index = lookup(table, pc, map)?;
                value_address(table, pc, index, offset)?
            }
            Lddw::Imm(_) | Lddw::VarAddr(_) | Lddw::CodeAddr(_) => continue,
        };
        insns[pc].src = 0;
        insns[pc].imm = constant as u32 as i32;
        insns[pc + 1].imm = (constant >> 32) as u32 as i32;
    }
    let program =
        Program::new(insns, program.options()).map_err(|source| BindError::Load { source })?;
    Ok(Bound {
        program,
        regions: table.regions(),
    })
}

fn lookup(table: &MapTable, pc: usize, index: i32) -> Result<usize, BindError> {
    usize::try_from(index)
        .ok()
        .filter(|&i| i < table.len())
        .ok_or(BindError::UnknownMap { pc, index })
}

fn value_address(table: &MapTable, pc: usize, index: usize, offset: i32) -> Result<u64, BindError> {
    let Some(map) = table.get(index) else {
        return Err(BindError::UnknownMap {
            pc,
            index: index as i32,
        });
    };
    let spec = map.spec();
    if spec.map_type != map_type::ARRAY {
        return Err(BindError::NotAnArray {
            pc,
            map: index,
            map_type: spec.map_type,
        });
    }
    let out_of_range = BindError::OffsetOutOfRange {
        pc,
        map: index,
        offset,
        value_size: spec.value_size,
    };
    let off = u32::try_from(offset).map_err(|_| out_of_range.clone())?;
    if off >= spec.value_size {
        return Err(out_of_range);
    }
    let base = map.value_addr(0).ok_or(out_of_range)?;
    Ok(base + u64::from(off))
}
