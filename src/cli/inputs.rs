//! Reading the CLI's file arguments: `-` means standard input.

use std::io::Read;
use std::path::Path;

use apiary::source::{self, Format, ProgramInput, Selection};
use apiary::Insn;
use apiary_elf::Object;

use super::{CliError, FormatArg};

/// The bytes of a file argument.
pub fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    let io = |source| CliError::Io {
        path: path.to_owned(),
        source,
    };
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(io)?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(io)
    }
}

fn format_of(format: FormatArg) -> Format {
    match format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Raw => Format::Raw,
        FormatArg::Hex => Format::Hex,
        FormatArg::Asm => Format::Asm,
    }
}

/// The program in a file argument (for an ELF object, its only program).
pub fn read_program(path: &Path, format: FormatArg) -> Result<Vec<Insn>, CliError> {
    parse_program(path, &read_file(path)?, format)
}

/// The program in the bytes of a file argument.
pub fn parse_program(path: &Path, bytes: &[u8], format: FormatArg) -> Result<Vec<Insn>, CliError> {
    source::read_program(bytes, format_of(format)).map_err(|source| CliError::Source {
        path: path.to_owned(),
        source,
    })
}

/// The program in the bytes of a file argument, choosing among an ELF object's programs.
pub fn parse_selected(
    path: &Path,
    bytes: &[u8],
    format: FormatArg,
    selection: Selection<'_>,
) -> Result<ProgramInput, CliError> {
    source::read_input(bytes, format_of(format), selection).map_err(|source| CliError::Source {
        path: path.to_owned(),
        source,
    })
}

/// An ELF object from the bytes of a file argument, or `None` when they are not ELF.
pub fn parse_object(path: &Path, bytes: &[u8]) -> Result<Option<Object>, CliError> {
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(None);
    }
    Object::parse(bytes)
        .map(Some)
        .map_err(|e| CliError::Source {
            path: path.to_owned(),
            source: source::SourceError::Elf(e),
        })
}
/// The `--mem` argument: an existing file's bytes, or hex text.
pub fn read_mem(arg: Option<&str>) -> Result<Vec<u8>, CliError> {
    let Some(arg) = arg else {
        return Ok(Vec::new());
    };
    let path = Path::new(arg);
    if path.is_file() {
        return read_file(path);
    }
    source::parse_hex(arg).map_err(CliError::Mem)
}
