//! The assembler: bpf_conformance/uBPF assembly text → raw [`Insn`] slots.
//!
//! The syntax is the one of the assembler bundled with bpf_conformance (see
//! `CONFORMANCE.md` §1.1), so every `-- asm` section of the official suite assembles. In short:
//!
//! - one instruction per line; `# comment` to end of line; blank lines ignored;
//! - registers `%r0`..`%r10` (or `r0`..`r10`); operands separated by whitespace and an optional
//!   comma; immediates decimal or `0x` hex, optionally negative;
//! - labels `name:` (alone on a line, or before an instruction); the first `exit` is also the
//!   label `exit` unless a label of that name is defined;
//! - jump targets `+N`, `-N` or a label, counted in 8-byte slots (`lddw` takes two).
//!
//! Extensions, so that everything [`crate::disasm`] prints reads back to the same bytes:
//! `call runtime <btf_id>, <module>` (kfunc with a non-zero `off`), the `lddw` pseudo sources
//! `lddw %rN, map_fd N` / `map_value N, OFF` / `var_addr N` / `code_addr <target>` /
//! `map_idx N` / `map_idx_value N, OFF`, `gotol` as a synonym of `ja32`, and `.raw <u64>`, one
//! slot given as the little-endian u64 of a `.data` `-- raw` section.
//!
//! The assembler checks syntax and field ranges only; whether the result is a valid program is
//! decided by [`crate::Program::new`].

mod encode;
mod error;
mod lexer;
mod mnemonic;
mod number;
mod operand;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::insn::Insn;
use encode::{encode, Encoded, Fixup, Target, TargetField};
pub use error::{AsmError, OperandKind, ValueRange};
use lexer::{tokenize, Token, TokenKind};
use mnemonic::Mnemonic;
use operand::{looks_like_register, parse_operands};

/// One assembled instruction awaiting its target.
struct Statement<'a> {
    line: usize,
    pc: usize,
    encoded: Encoded<'a>,
}

/// Where a label points, and where it was defined.
#[derive(Clone, Copy)]
struct LabelDef {
    pc: usize,
    line: usize,
}

/// Label definitions of a whole text.
#[derive(Default)]
struct Labels<'a> {
    defs: HashMap<&'a str, LabelDef>,
}

impl<'a> Labels<'a> {
    fn define(&mut self, name: Token<'a>, pc: usize, line: usize) -> Result<(), AsmError> {
        if looks_like_register(name.text) {
            return Err(AsmError::InvalidLabel {
                line,
                column: name.column,
                label: name.text.to_owned(),
            });
        }
        if let Some(first) = self.defs.get(name.text) {
            return Err(AsmError::DuplicateLabel {
                line,
                column: name.column,
                label: name.text.to_owned(),
                first_line: first.line,
            });
        }
        self.defs.insert(name.text, LabelDef { pc, line });
        Ok(())
    }
}

/// Assembles `text` into instruction slots (an `lddw` gives two).
///
/// # Errors
/// The first problem in the text, as an [`AsmError`] with its line and column.
pub fn assemble(text: &str) -> Result<Vec<Insn>, AsmError> {
    let mut labels = Labels::default();
    let mut statements = Vec::new();
    let mut first_exit = None;
    let mut pc = 0usize;
    for (index, line_text) in text.lines().enumerate() {
        let line = index + 1;
        let tokens = tokenize(line_text, line)?;
        let mut rest = &tokens[..];
        while let [name, colon, tail @ ..] = rest {
            if name.kind != TokenKind::Word || colon.kind != TokenKind::Colon {
                break;
            }
            labels.define(*name, pc, line)?;
            rest = tail;
        }
        let Some((first, operand_tokens)) = rest.split_first() else {
            continue;
        };
        if first.kind != TokenKind::Word {
            return Err(AsmError::UnexpectedToken {
                line,
                column: first.column,
                token: first.text.to_owned(),
            });
        }
        let Some(mnemonic) = mnemonic::lookup(first.text) else {
            return Err(AsmError::UnknownMnemonic {
                line,
                column: first.column,
                mnemonic: first.text.to_owned(),
            });
        };
        let operands = parse_operands(line_text, operand_tokens, line)?;
        let encoded = encode(mnemonic, first.text, &operands, line, first.column)?;
        if mnemonic == Mnemonic::Exit && first_exit.is_none() {
            first_exit = Some(LabelDef { pc, line });
        }
        let slots = encoded.slots.len();
        statements.push(Statement { line, pc, encoded });
        pc += slots;
    }
    if let Some(def) = first_exit {
        labels.defs.entry("exit").or_insert(def);
    }
    let mut insns = Vec::with_capacity(pc);
    for Statement { line, pc, encoded } in statements {
        let mut slots = encoded.slots;
        if let Some(fixup) = encoded.fixup {
            resolve(&fixup, &labels, line, pc, &mut slots)?;
        }
        insns.extend(slots);
    }
    Ok(insns)
}

/// Fills the displacement of the instruction at `pc` (whose first slot is `slots[0]`).
fn resolve(
    fixup: &Fixup<'_>,
    labels: &Labels<'_>,
    line: usize,
    pc: usize,
    slots: &mut [Insn],
) -> Result<(), AsmError> {
    let column = fixup.column;
    let displacement: i128 = match &fixup.target {
        Target::Relative(n) => n.value,
        Target::Label(name) => match labels.defs.get(name) {
            // Slot counts are far below i128 limits; the subtraction cannot overflow.
            Some(def) => def.pc as i128 - pc as i128 - 1,
            None => {
                return Err(AsmError::UnknownLabel {
                    line,
                    column,
                    label: (*name).to_owned(),
                })
            }
        },
    };
    let Some(first) = slots.first_mut() else {
        return Ok(());
    };
    match fixup.field {
        TargetField::Off => {
            first.off = i16::try_from(displacement).map_err(|_| AsmError::JumpOutOfRange {
                line,
                column,
                displacement,
                bits: 16,
            })?;
        }
        TargetField::Imm => {
            first.imm = i32::try_from(displacement).map_err(|_| AsmError::JumpOutOfRange {
                line,
                column,
                displacement,
                bits: 32,
            })?;
        }
    }
    Ok(())
}
