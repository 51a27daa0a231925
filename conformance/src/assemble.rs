//! The one place that turns a test's [`Source`] into slots, so the runner and the tests agree
//! on how assembly is reached (through `apiary_vm::asm`).

use apiary_vm::Insn;

use crate::data::Source;

/// The slots of a test program. Assembly errors are returned as text carrying the *file* line
/// number (the source is padded so that the assembler's line numbers are the file's).
///
/// # Errors
/// The assembler's message, prefixed with nothing: it already starts with `line:column:`.
pub fn slots(source: &Source) -> Result<Vec<Insn>, String> {
    match source {
        Source::Raw(insns) => Ok(insns.clone()),
        Source::Asm { .. } => {
            let text = source.asm_with_file_lines().unwrap_or_default();
            assemble_text(&text)
        }
    }
}

/// Assembles text with `apiary_vm::asm::assemble`.
///
/// # Errors
/// The assembler's error, rendered.
pub fn assemble_text(text: &str) -> Result<Vec<Insn>, String> {
    apiary_vm::asm::assemble(text).map_err(|e| e.to_string())
}
