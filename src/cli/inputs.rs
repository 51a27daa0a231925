//! Reading the CLI's file arguments: `-` means standard input.

use std::io::Read;
use std::path::Path;

use apiary::source::{self, Format};
use apiary::Insn;

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

/// The program in a file argument.
pub fn read_program(path: &Path, format: FormatArg) -> Result<Vec<Insn>, CliError> {
    let format = match format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Raw => Format::Raw,
        FormatArg::Hex => Format::Hex,
        FormatArg::Asm => Format::Asm,
    };
    let bytes = read_file(path)?;
    source::read_program(&bytes, format).map_err(|source| CliError::Source {
        path: path.to_owned(),
        source,
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
