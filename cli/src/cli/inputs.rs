//! Reading the CLI's file arguments: `-` means standard input. Every read is bounded, so a
//! mistaken argument (a disk image, `/dev/zero`) is refused instead of exhausting memory or
//! hanging: regular files are measured before they are read, streams are read up to one byte
//! past the limit.

use std::io::Read;
use std::path::{Path, PathBuf};

use apiary::source::{self, Format, ProgramInput, Selection};
use apiary::Insn;
use apiary_elf::Object;

use super::{CliError, FormatArg};

/// Largest program file (ELF object, bytecode, hex or assembly) the CLI reads: room for the
/// largest program a loader takes ([`apiary_vm::program::MAX_SLOTS`] slots) written as raw
/// bytecode, and for any real object file.
pub const MAX_PROGRAM_FILE: usize = 256 << 20;

/// The bytes of a program file argument (at most [`MAX_PROGRAM_FILE`]).
pub fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    read_limited(
        path,
        MAX_PROGRAM_FILE,
        &path.display().to_string(),
        "a program file",
    )
}

/// The bytes of `path` (`-`: standard input), refused with [`CliError::TooLarge`] when larger
/// than `max`. `what` and `of` name the argument and the limit in that error.
fn read_limited(path: &Path, max: usize, what: &str, of: &str) -> Result<Vec<u8>, CliError> {
    let io = |source| CliError::Io {
        path: PathBuf::from(what),
        source,
    };
    let too_large = |size: Option<u64>| CliError::TooLarge {
        what: what.to_owned(),
        size,
        max,
        of: of.to_owned(),
    };
    let limit = u64::try_from(max).unwrap_or(u64::MAX);
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(io)?;
    } else {
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "is a directory, not a file",
            )));
        }
        // A regular file's size is known: refuse it unread.
        if meta.is_file() && meta.len() > limit {
            return Err(too_large(Some(meta.len())));
        }
        file.take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(io)?;
    }
    if buf.len() > max {
        return Err(too_large(None));
    }
    Ok(buf)
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
    parse_object_with(path, bytes, &apiary::Config::default())
}

/// [`parse_object`] under `config` (kconfig overrides, CO-RE target).
pub fn parse_object_with(
    path: &Path,
    bytes: &[u8],
    config: &apiary::Config,
) -> Result<Option<Object>, CliError> {
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(None);
    }
    config
        .parse_object(bytes)
        .map(Some)
        .map_err(|e| CliError::Source {
            path: path.to_owned(),
            source: source::SourceError::Elf(e),
        })
}
/// Where a `--mem` argument's bytes come from.
#[derive(Debug, PartialEq, Eq)]
pub enum MemArg {
    /// No `--mem`: empty input.
    Empty,
    /// Hex bytes given on the command line.
    Hex(Vec<u8>),
    /// A file (`-`: standard input).
    File(PathBuf),
}

/// Decides what a `--mem` argument means, without reading any file:
///
/// 1. `-` is standard input; `@PATH` is the file `PATH`;
/// 2. an existing path (file, device, pipe; a directory is an error when read) is that file;
/// 3. valid hex bytes are those bytes;
/// 4. otherwise an argument holding `/` or `.` (which hex never holds) names a missing file,
///    and anything else is malformed hex.
///
/// So `--mem "01 02 03"` keeps working, and `--mem /nonexistent` says the file is missing
/// instead of complaining about hex.
///
/// # Errors
/// [`CliError::MemNoFile`] or [`CliError::Mem`].
pub fn mem_arg(arg: Option<&str>) -> Result<MemArg, CliError> {
    let Some(arg) = arg else {
        return Ok(MemArg::Empty);
    };
    if arg == "-" {
        return Ok(MemArg::File(PathBuf::from("-")));
    }
    if let Some(file) = arg.strip_prefix('@') {
        let path = PathBuf::from(file);
        return if path.exists() {
            Ok(MemArg::File(path))
        } else {
            Err(CliError::MemNoFile { path })
        };
    }
    let path = Path::new(arg);
    if path.exists() {
        return Ok(MemArg::File(path.to_owned()));
    }
    match source::parse_hex(arg) {
        Ok(bytes) => Ok(MemArg::Hex(bytes)),
        Err(_) if arg.contains(['/', '.']) => Err(CliError::MemNoFile {
            path: path.to_owned(),
        }),
        Err(source) => Err(CliError::Mem {
            arg: shorten(arg),
            source,
        }),
    }
}

/// `text`, cut to 60 characters for an error message.
pub fn shorten(text: &str) -> String {
    const KEEP: usize = 60;
    if text.chars().count() <= KEEP {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(KEEP).collect();
        s.push_str("...");
        s
    }
}

/// The bytes of a `--mem` argument, refused when larger than `max`, the input limit of the
/// program's context (`input` names it); a file is measured before it is read.
///
/// # Errors
/// [`CliError::TooLarge`], or the file's read error.
pub fn read_mem(arg: &MemArg, max: usize, input: &str) -> Result<Vec<u8>, CliError> {
    let of = format!("the {input}");
    match arg {
        MemArg::Empty => Ok(Vec::new()),
        MemArg::Hex(bytes) if bytes.len() > max => Err(CliError::TooLarge {
            what: "--mem".to_owned(),
            size: Some(bytes.len() as u64),
            max,
            of,
        }),
        MemArg::Hex(bytes) => Ok(bytes.clone()),
        MemArg::File(path) => read_limited(path, max, &format!("--mem {}", path.display()), &of),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_argument_rules() {
        assert_eq!(mem_arg(None).ok(), Some(MemArg::Empty));
        assert_eq!(
            mem_arg(Some("01 02 03")).ok(),
            Some(MemArg::Hex(vec![1, 2, 3]))
        );
        assert_eq!(mem_arg(Some("-")).ok(), Some(MemArg::File("-".into())));
        assert_eq!(
            mem_arg(Some("Cargo.toml")).ok(),
            Some(MemArg::File("Cargo.toml".into()))
        );
        for missing in ["/nonexistent", "packet.bin", "@nothing-here"] {
            assert!(
                matches!(mem_arg(Some(missing)), Err(CliError::MemNoFile { .. })),
                "{missing}"
            );
        }
        assert!(matches!(mem_arg(Some("0g")), Err(CliError::Mem { .. })));
    }

    #[test]
    fn mem_limits_are_checked_before_reading() {
        let hex = MemArg::Hex(vec![0; 5]);
        assert!(read_mem(&hex, 5, "x").is_ok());
        assert!(matches!(
            read_mem(&hex, 4, "x"),
            Err(CliError::TooLarge { max: 4, .. })
        ));
        let file = MemArg::File("Cargo.toml".into());
        let e = read_mem(&file, 3, "XDP packet")
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(
            e.contains("--mem Cargo.toml")
                && e.contains("bytes is larger than the 3-byte limit of the XDP packet"),
            "{e}"
        );
        // A device of endless zeros is read only up to the limit.
        let zero = MemArg::File("/dev/zero".into());
        let e = read_mem(&zero, 1000, "x").err().map(|e| e.to_string());
        assert!(e
            .unwrap_or_default()
            .contains("the stream goes past the 1000-byte limit"));
    }
}
