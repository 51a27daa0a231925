//! Parser for bpf_conformance `.data` test files.
//!
//! It follows the official parser (`lib/src/bpf_test_parser.cc`, described in
//! CONFORMANCE.md §1) line for line, so that a file means the same thing to us as to the
//! official runner:
//!
//! - a trailing `\r` is dropped; everything from the first `#` is a comment;
//! - a line containing `--` is a directive, chosen by substring in this order: `asm`, `result`,
//!   `mem`, `raw`, `no register offset` (ignored), ` c` (ignored), `error`; anything else makes
//!   the whole test skipped;
//! - result and error are the last non-empty line of their sections; memory and raw sections
//!   are whitespace-separated tokens over all their lines.
//!
//! Where the official parser would silently stop (a non-hex memory token) or throw (a bad
//! result or raw number), we return a [`DataError`] naming the file and line instead.

use std::io::Read;
use std::path::Path;

use apiary_vm::Insn;
use thiserror::Error;

/// Why a `.data` file could not be parsed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DataError {
    /// The file could not be read.
    #[error("{file}: cannot read: {message}")]
    Io {
        /// The file name.
        file: String,
        /// The I/O error text.
        message: String,
    },
    /// The `-- result` line is not a number.
    #[error("{file}:{line}: result {text:?} is not a valid {radix} number")]
    BadResult {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending text.
        text: String,
        /// `hex` or `decimal`.
        radix: &'static str,
    },
    /// A `-- mem` token is not exactly two hex digits.
    #[error("{file}:{line}: memory token {token:?} is not a hex byte (two hex digits)")]
    BadMemToken {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending token.
        token: String,
    },
    /// A `-- raw` token is not a 64-bit number (hex with `0x`, decimal otherwise).
    #[error("{file}:{line}: raw instruction {token:?} is not a 64-bit {radix} number")]
    BadRawToken {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending token.
        token: String,
        /// `hex` or `decimal`.
        radix: &'static str,
    },
}

/// The program of a test: assembly text or raw slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Assembly, comments removed. `text` starts at file line `first_line` and keeps the file's
    /// line structure (lines of other sections are blank), so assembler line numbers can be
    /// mapped back to the file (see [`Source::asm_with_file_lines`]).
    Asm {
        /// The assembly text.
        text: String,
        /// 1-based file line of the first line of `text`.
        first_line: usize,
    },
    /// Slots from a `-- raw` section (which replaces any assembly).
    Raw(Vec<Insn>),
}

impl Source {
    /// For [`Source::Asm`], the text padded with blank lines so that line N of the result is
    /// line N of the file: assembler errors then carry file line numbers.
    #[must_use]
    pub fn asm_with_file_lines(&self) -> Option<String> {
        match self {
            Source::Asm { text, first_line } => {
                let mut padded = "\n".repeat(first_line.saturating_sub(1));
                padded.push_str(text);
                Some(padded)
            }
            Source::Raw(_) => None,
        }
    }
}

/// What a test expects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// The full 64-bit r0, from `-- result`.
    pub result: Option<u64>,
    /// The expected error text, from `-- error` (our runner only checks that the test fails).
    pub error: Option<String>,
}

/// One runnable test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// The file name (without directories).
    pub name: String,
    /// Input memory (r1 points to a private copy, r2 holds its length).
    pub mem: Vec<u8>,
    /// The program.
    pub program: Source,
    /// What the test expects.
    pub expected: Expected,
}

/// The outcome of parsing a file: a test, or the reason the official runner would skip it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A test to run.
    Test(TestCase),
    /// The file is skipped, as the official runner would.
    Skipped {
        /// The file name.
        name: String,
        /// Why.
        reason: String,
    },
}

impl Parsed {
    /// The file name of the test.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Parsed::Test(t) => &t.name,
            Parsed::Skipped { name, .. } => name,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Ignore,
    Asm,
    Raw,
    Result,
    Mem,
    Error,
}

/// Picks the section of a directive line, exactly in the official order. `None` = unknown.
fn directive(line: &str) -> Option<Section> {
    const ORDER: [(&str, Section); 6] = [
        ("asm", Section::Asm),
        ("result", Section::Result),
        ("mem", Section::Mem),
        ("raw", Section::Raw),
        ("no register offset", Section::Ignore),
        (" c", Section::Ignore),
    ];
    ORDER
        .iter()
        .find(|(needle, _)| line.contains(needle))
        .map(|&(_, s)| s)
        .or_else(|| line.contains("error").then_some(Section::Error))
}

/// Reads and parses one file.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be read, otherwise as [`parse_str`].
pub fn parse_file(path: &Path) -> Result<Parsed, DataError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let io = |message: String| DataError::Io {
        file: name.clone(),
        message,
    };
    // Bounded: a stray disk image or device given as a test must not be read whole.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_DATA_FILE as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| io(e.to_string()))?;
    if bytes.len() > MAX_DATA_FILE {
        return Err(io(format!(
            "larger than the {MAX_DATA_FILE}-byte limit of a .data file"
        )));
    }
    parse_bytes(&name, &bytes)
}

/// Largest `.data` file read: the official suite's largest is a few kilobytes, so this only
/// refuses files that are not tests at all.
pub const MAX_DATA_FILE: usize = 16 << 20;

/// Parses file contents that may not be UTF-8 (invalid sequences become U+FFFD, which can only
/// make a test fail to assemble, never change a number).
///
/// # Errors
/// As [`parse_str`].
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Parsed, DataError> {
    parse_str(name, &String::from_utf8_lossy(bytes))
}

/// Parses the text of a `.data` file called `name`.
///
/// # Errors
/// A [`DataError`] naming the file and line of a malformed result, memory or raw token.
pub fn parse_str(name: &str, text: &str) -> Result<Parsed, DataError> {
    let skipped = |reason: String| {
        Ok(Parsed::Skipped {
            name: name.to_owned(),
            reason,
        })
    };
    let mut section = Section::Ignore;
    let mut asm = String::new();
    let mut asm_first: Option<usize> = None;
    let mut result: Option<(usize, String)> = None;
    let mut error: Option<String> = None;
    let mut mem_tokens: Vec<(usize, String)> = Vec::new();
    let mut raw_tokens: Vec<(usize, String)> = Vec::new();

    // `lines()` splits on '\n' and drops one trailing '\r', as the official parser does.
    for (index, raw_line) in text.split('\n').enumerate() {
        let lineno = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let line = line.find('#').map_or(line, |i| &line[..i]);
        if line.contains("--") {
            match directive(line) {
                Some(s) => {
                    section = s;
                    continue;
                }
                None => {
                    return skipped(format!(
                        "unknown directive {:?} at line {lineno}",
                        line.trim()
                    ))
                }
            }
        }
        if line.is_empty() {
            continue;
        }
        match section {
            Section::Ignore => {}
            Section::Asm => {
                let first = *asm_first.get_or_insert(lineno);
                // Keep the file's line structure: pad with blank lines up to this one.
                while first + asm_lines(&asm) < lineno {
                    asm.push('\n');
                }
                asm.push_str(line);
                asm.push('\n');
            }
            Section::Result => result = Some((lineno, line.to_owned())),
            Section::Error => error = Some(line.to_owned()),
            Section::Mem => {
                mem_tokens.extend(line.split_whitespace().map(|t| (lineno, t.to_owned())))
            }
            Section::Raw => {
                raw_tokens.extend(line.split_whitespace().map(|t| (lineno, t.to_owned())))
            }
        }
    }

    if result.is_none() && error.is_none() {
        return skipped("no result or error".to_owned());
    }
    let result = match result {
        None => None,
        Some((line, text)) => Some(parse_result(&text).ok_or_else(|| DataError::BadResult {
            file: name.to_owned(),
            line,
            radix: if text.contains("0x") {
                "hex"
            } else {
                "decimal"
            },
            text,
        })?),
    };

    let program = if raw_tokens.is_empty() {
        let Some(first_line) = asm_first else {
            return skipped("no instructions".to_owned());
        };
        Source::Asm {
            text: asm,
            first_line,
        }
    } else {
        let mut insns = Vec::with_capacity(raw_tokens.len());
        for (line, token) in raw_tokens {
            let (digits, radix, base) = match token.strip_prefix("0x") {
                Some(hex) => (hex, "hex", 16),
                None => (token.as_str(), "decimal", 10),
            };
            let value = u64::from_str_radix(digits, base)
                .ok()
                .filter(|_| !digits.starts_with(['+', '-']))
                .ok_or_else(|| DataError::BadRawToken {
                    file: name.to_owned(),
                    line,
                    token: token.clone(),
                    radix,
                })?;
            insns.push(Insn::from_u64(value));
        }
        Source::Raw(insns)
    };

    let mut mem = Vec::with_capacity(mem_tokens.len());
    for (line, token) in mem_tokens {
        mem.push(
            parse_mem_token(&token).ok_or_else(|| DataError::BadMemToken {
                file: name.to_owned(),
                line,
                token,
            })?,
        );
    }

    Ok(Parsed::Test(TestCase {
        name: name.to_owned(),
        mem,
        program,
        expected: Expected { result, error },
    }))
}

/// Number of lines already in `asm` (each ends with '\n').
fn asm_lines(asm: &str) -> usize {
    asm.bytes().filter(|&b| b == b'\n').count()
}

/// One memory byte: exactly two hex digits. The official parser reads `std::hex >> uint32_t`
/// and truncates to a byte, so `0x1ff`, `1` or `abc` would silently mean some byte; the
/// runner then hands memory to plugins as two-digit bytes (CONFORMANCE.md §3.2). Every file of
/// the official suite writes two digits; anything else is refused as a likely typo.
fn parse_mem_token(token: &str) -> Option<u8> {
    match token.as_bytes() {
        [hi, lo] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
            u8::from_str_radix(token, 16).ok()
        }
        _ => None,
    }
}

/// `std::stoull` on the result line: base 16 when the line contains `0x`, else base 10; leading
/// whitespace skipped, an optional sign (negative values wrap, as `strtoull` does), an optional
/// `0x` prefix in base 16, then the longest run of digits; trailing text is ignored. `None`
/// when there is no digit or the value overflows (where `stoull` throws).
fn parse_result(line: &str) -> Option<u64> {
    let hex = line.contains("0x");
    let mut s = line.trim_start();
    let negative = s.starts_with('-');
    s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if hex {
        if let Some(rest) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            // "0x" with no hex digit after it parses as the single digit 0 in strtoull.
            if !rest.starts_with(|c: char| c.is_ascii_hexdigit()) {
                return Some(0);
            }
            s = rest;
        }
    }
    let radix = if hex { 16 } else { 10 };
    let end = s.find(|c: char| !c.is_digit(radix)).unwrap_or(s.len());
    let value = u64::from_str_radix(&s[..end], radix).ok()?;
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(text: &str) -> TestCase {
        match parse_str("t.data", text) {
            Ok(Parsed::Test(t)) => t,
            other => panic!("expected a test, got {other:?}"),
        }
    }

    #[test]
    fn typical_file() {
        let t = test(
            "# licence\n-- asm\nmov %r0, 1 # one\n\nexit\n-- mem\naa bb\n11 22\n-- result\n0x12\n",
        );
        assert_eq!(t.mem, vec![0xaa, 0xbb, 0x11, 0x22]);
        assert_eq!(
            t.expected,
            Expected {
                result: Some(0x12),
                error: None
            }
        );
        assert_eq!(
            t.program,
            Source::Asm {
                text: "mov %r0, 1 \n\nexit\n".to_owned(),
                first_line: 3
            }
        );
        let padded = t.program.asm_with_file_lines().unwrap_or_default();
        assert_eq!(padded.lines().nth(2), Some("mov %r0, 1 "));
        assert_eq!(padded.lines().nth(4), Some("exit"));
    }

    #[test]
    fn crlf_and_last_result_line() {
        let t = test("-- asm\r\nexit\r\n-- result\r\n1\r\n\r\n0xFFFFFFF6\r\n");
        assert_eq!(t.expected.result, Some(0xffff_fff6));
        assert_eq!(
            t.program,
            Source::Asm {
                text: "exit\n".to_owned(),
                first_line: 2
            }
        );
    }

    #[test]
    fn decimal_result_and_trailing_text() {
        assert_eq!(
            test("-- asm\nexit\n-- result\n42 apples\n").expected.result,
            Some(42)
        );
        assert_eq!(parse_result("  0x"), Some(0));
        assert_eq!(parse_result("-1"), Some(u64::MAX));
        assert_eq!(parse_result("0xffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_result("0x10000000000000000"), None);
        assert_eq!(parse_result("abc"), None);
    }

    #[test]
    fn raw_replaces_asm() {
        let t = test("-- asm\nlddw %r0, 1\nexit\n-- raw\n0x5566778800000018 0x1122334400000000\n149\n-- result\n0x1\n");
        assert_eq!(
            t.program,
            Source::Raw(vec![
                Insn::new(0x18, 0, 0, 0, 0x5566_7788),
                Insn::new(0, 0, 0, 0, 0x1122_3344),
                Insn::new(0x95, 0, 0, 0, 0),
            ])
        );
    }

    #[test]
    fn directive_order_and_ignored_sections() {
        // "-- no register offset" and "-- c" are ignored sections; their lines are dropped.
        let t = test(
            "-- asm\nexit\n-- result\n0x2\n-- no register offset\ncall instruction\n-- c\nint x;\n",
        );
        assert_eq!(t.expected.result, Some(2));
        // "asm" wins over "result" when both appear.
        let t = test("-- result asm\nexit\n-- error\nInvalid\n");
        assert_eq!(
            t.expected,
            Expected {
                result: None,
                error: Some("Invalid".to_owned())
            }
        );
    }

    #[test]
    fn skips_like_the_official_parser() {
        for (text, why) in [
            (
                "-- asm\nexit\n-- bogus\n-- result\n1\n",
                "unknown directive",
            ),
            ("-- asm\nexit\n", "no result or error"),
            ("-- result\n1\n", "no instructions"),
            ("-- asm\nexit\n-- error\n", "no result or error"),
        ] {
            match parse_str("t.data", text) {
                Ok(Parsed::Skipped { reason, .. }) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn huge_files_are_refused_unread() {
        let e = parse_file(Path::new("/dev/zero"));
        assert!(
            matches!(&e, Err(DataError::Io { message, .. }) if message.contains("-byte limit")),
            "{e:?}"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_str("f.data", "-- asm\nexit\n-- mem\naa\nzz\n-- result\n1\n");
        assert_eq!(
            e,
            Err(DataError::BadMemToken {
                file: "f.data".into(),
                line: 5,
                token: "zz".into()
            })
        );
        for token in ["0x1", "1", "abc", "0xff", "g0", "+1", "\u{e9}a"] {
            let text = format!("-- asm\nexit\n-- mem\naa {token}\n-- result\n1\n");
            assert!(
                matches!(
                    parse_str("f.data", &text),
                    Err(DataError::BadMemToken { line: 4, .. })
                ),
                "{token}"
            );
        }
        let e = parse_str("f.data", "-- raw\n07 00 bf\n-- error\nx\n");
        assert!(
            matches!(e, Err(DataError::BadRawToken { line: 2, .. })),
            "{e:?}"
        );
        let e = parse_str("f.data", "-- asm\nexit\n-- result\nnope\n");
        assert!(
            matches!(e, Err(DataError::BadResult { line: 4, .. })),
            "{e:?}"
        );
        let e = parse_str("f.data", "-- raw\n0x\n-- result\n1\n");
        assert!(
            matches!(e, Err(DataError::BadRawToken { line: 2, .. })),
            "{e:?}"
        );
    }
}
