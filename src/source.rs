//! Reading programs and input buffers given by users: raw bytecode, hex text, or assembly, told
//! apart by content unless the caller names the format.

use apiary_elf::Object;
use apiary_vm::asm::{self, AsmError};
use apiary_vm::insn::insns_from_bytes;
use apiary_vm::{Insn, LoadError};
use thiserror::Error;

/// How a program file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Decide from the content: ELF magic, then hex bytes, then assembly; binary otherwise.
    Auto,
    /// Little-endian 8-byte instruction slots.
    Raw,
    /// Hex bytes (`b7 00 00 00 2a 00 00 00 ...`, separators optional).
    Hex,
    /// Assembly in the bpf_conformance/uBPF syntax.
    Asm,
}

/// Why a program or input could not be read.
#[derive(Debug, Error)]
pub enum SourceError {
    /// A hex string holds a character that is not a hex digit or separator.
    #[error("hex input: invalid character {found:?} at byte {offset}")]
    HexDigit {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        found: char,
    },
    /// A hex string has an odd number of digits in one token.
    #[error("hex input: token at byte {offset} has an odd number of digits")]
    HexOdd {
        /// Byte offset of the token.
        offset: usize,
    },
    /// The program text does not assemble.
    #[error("assembly: {0}")]
    Asm(#[from] AsmError),
    /// The bytes are not whole instruction slots.
    #[error("bytecode: {0}")]
    Bytes(#[from] LoadError),
    /// Format detection: the bytes are neither text (not UTF-8, but no NUL byte either, as
    /// bytecode nearly always has) nor whole bytecode slots.
    #[error("neither assembly text (not UTF-8 at byte {offset}) nor raw bytecode ({source}); --format chooses one")]
    Undetected {
        /// The first byte that is not UTF-8.
        offset: usize,
        /// Why the bytes are not bytecode either.
        source: LoadError,
    },
    /// Assembly and hex must be UTF-8 text.
    #[error("text input (assembly or hex) is not UTF-8 (byte {offset})")]
    NotText {
        /// The first byte that is not UTF-8.
        offset: usize,
    },
    /// The ELF object could not be loaded.
    #[error("ELF: {0}")]
    Elf(#[from] apiary_elf::ElfError),
    /// The ELF object has no program matching the selection.
    #[error("ELF: no program {wanted}; the object has: {available}")]
    NoSuchProgram {
        /// The selection.
        wanted: String,
        /// The programs there are.
        available: String,
    },
    /// The ELF object has several programs and none was selected.
    #[error("ELF: the object has several programs, choose one with --section: {available}")]
    Ambiguous {
        /// The programs there are.
        available: String,
    },
}

/// A program read from a file: its slots, and for an ELF object the object it came from and
/// the index of the chosen program in `object.programs`.
#[derive(Debug)]
pub struct ProgramInput {
    /// The program's slots (relocated, for an ELF program).
    pub insns: Vec<Insn>,
    /// The object and the chosen program, when the input was an ELF file.
    pub elf: Option<(Object, usize)>,
}

/// Which program of an ELF object to take.
#[derive(Clone, Copy, Debug, Default)]
pub struct Selection<'a> {
    /// Section name (`xdp`, `socket/0`, ...).
    pub section: Option<&'a str>,
    /// Function (symbol) name, when a section holds several programs.
    pub function: Option<&'a str>,
}

fn describe(object: &Object) -> String {
    object
        .programs
        .iter()
        .map(|p| {
            if p.function == p.section {
                p.section.clone()
            } else {
                format!("{}:{}", p.section, p.function)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Picks a program of `object`: the one matching the selection, or the only one.
///
/// # Errors
/// [`SourceError::NoSuchProgram`] or [`SourceError::Ambiguous`].
pub fn select(object: &Object, selection: Selection<'_>) -> Result<usize, SourceError> {
    let matches: Vec<usize> = object
        .programs
        .iter()
        .enumerate()
        .filter(|(_, p)| selection.section.is_none_or(|s| p.section == s))
        .filter(|(_, p)| selection.function.is_none_or(|f| p.function == f))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(SourceError::NoSuchProgram {
            wanted: format!(
                "{}{}",
                selection.section.unwrap_or("*"),
                selection
                    .function
                    .map(|f| format!(":{f}"))
                    .unwrap_or_default()
            ),
            available: describe(object),
        }),
        _ => Err(SourceError::Ambiguous {
            available: describe(object),
        }),
    }
}

/// Reads a program, or one program of an ELF object.
///
/// # Errors
/// A [`SourceError`] saying what is wrong and where.
pub fn read_input(
    bytes: &[u8],
    format: Format,
    selection: Selection<'_>,
) -> Result<ProgramInput, SourceError> {
    if matches!(format, Format::Auto) && bytes.starts_with(b"\x7fELF") {
        let object = crate::object::parse_object(bytes, &crate::ObjectOptions::default())?;
        let index = select(&object, selection)?;
        if let Some(e) = &object.programs[index].link_error {
            return Err(SourceError::Elf(e.clone()));
        }
        let insns = object.programs[index].insns.clone();
        return Ok(ProgramInput {
            insns,
            elf: Some((object, index)),
        });
    }
    Ok(ProgramInput {
        insns: read_program(bytes, format)?,
        elf: None,
    })
}

/// Parses hex bytes. Tokens are separated by whitespace, commas or colons; a token may hold
/// several bytes (`aabb`), and may carry a `0x` prefix.
///
/// # Errors
/// [`SourceError::HexDigit`] or [`SourceError::HexOdd`] with the byte offset in `text`.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, SourceError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for token in text.split(|c: char| c.is_whitespace() || c == ',' || c == ':') {
        let start = offset;
        offset += token.len() + 1;
        let digits = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"))
            .unwrap_or(token);
        let base = start + (token.len() - digits.len());
        if digits.len() % 2 != 0 {
            return Err(SourceError::HexOdd { offset: start });
        }
        let bytes = digits.as_bytes();
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let nibble = |j: usize| {
                let c = pair[j] as char;
                c.to_digit(16).ok_or(SourceError::HexDigit {
                    offset: base + 2 * i + j,
                    found: c,
                })
            };
            out.push((nibble(0)? * 16 + nibble(1)?) as u8);
        }
    }
    Ok(out)
}

fn looks_like_hex(text: &str) -> bool {
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            any = true;
        } else if !(c.is_whitespace() || c == ',' || c == ':' || c == 'x' || c == 'X') {
            return false;
        }
    }
    any
}

/// Reads a program in the given format.
///
/// # Errors
/// A [`SourceError`] saying what is wrong and where (byte offset, or line and column).
pub fn read_program(bytes: &[u8], format: Format) -> Result<Vec<Insn>, SourceError> {
    let text = || {
        std::str::from_utf8(bytes).map_err(|e| SourceError::NotText {
            offset: e.valid_up_to(),
        })
    };
    match format {
        Format::Raw => Ok(insns_from_bytes(bytes)?),
        Format::Hex => Ok(insns_from_bytes(&parse_hex(text()?)?)?),
        Format::Asm => Ok(asm::assemble(text()?)?),
        Format::Auto => {
            if bytes.starts_with(b"\x7fELF") {
                return Ok(read_input(bytes, format, Selection::default())?.insns);
            }
            match std::str::from_utf8(bytes) {
                Ok(t) if looks_like_hex(t) => read_program(bytes, Format::Hex),
                Ok(t) if !t.contains('\0') => read_program(bytes, Format::Asm),
                Ok(_) => read_program(bytes, Format::Raw),
                Err(e) => insns_from_bytes(bytes).map_err(|source| {
                    if bytes.contains(&0) {
                        SourceError::Bytes(source)
                    } else {
                        SourceError::Undetected {
                            offset: e.valid_up_to(),
                            source,
                        }
                    }
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(parse_hex("aa  bb  11  ").ok(), Some(vec![0xaa, 0xbb, 0x11]));
        assert_eq!(parse_hex("0xaabb,cc").ok(), Some(vec![0xaa, 0xbb, 0xcc]));
        assert!(matches!(
            parse_hex("ab c"),
            Err(SourceError::HexOdd { offset: 3 })
        ));
        assert!(matches!(
            parse_hex("ag"),
            Err(SourceError::HexDigit {
                offset: 1,
                found: 'g'
            })
        ));
        assert_eq!(parse_hex("").ok(), Some(vec![]));
    }

    #[test]
    fn formats_are_detected() {
        let exit = [0x95u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            read_program(&exit, Format::Auto).ok().map(|v| v.len()),
            Some(1)
        );
        assert_eq!(
            read_program(b"95 00 00 00 00 00 00 00", Format::Auto)
                .ok()
                .map(|v| v.len()),
            Some(1)
        );
        assert_eq!(
            read_program(b"mov %r0, 1\nexit\n", Format::Auto)
                .ok()
                .map(|v| v.len()),
            Some(2)
        );
        assert!(matches!(
            read_program(b"\x7fELF....", Format::Auto),
            Err(SourceError::Elf(_))
        ));
        assert!(matches!(
            read_program(b"\x95\0\0", Format::Auto),
            Err(SourceError::Bytes(_))
        ));
        // Neither text nor whole slots: both readings are reported.
        assert!(matches!(
            read_program(b"exit # caf\xe9\n", Format::Auto),
            Err(SourceError::Undetected { offset: 10, .. })
        ));
    }
}
