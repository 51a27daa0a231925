//! The `printf` subset of `bpf_trace_printk` and `bpf_snprintf` (Linux `bpf_bprintf_prepare`):
//! `%d %i %u %x %X` with optional `l`/`ll`, `%c`, `%s`, `%p`/`%px`/`%pK`, `%%`, with flags
//! `- + 0 #` and space, a field width and, for `%s`, a precision. Without `l`, integers are
//! 32-bit, as on Linux.

use thiserror::Error;

/// Why a format string is refused (the helper returns `-EINVAL`).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum FormatError {
    /// A conversion outside the supported subset.
    #[error("unsupported conversion at byte {at}")]
    Unsupported { at: usize },
    /// More conversions than arguments.
    #[error("conversion at byte {at} has no argument ({available} given)")]
    TooFewArguments { at: usize, available: usize },
}

#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
}

fn pad(out: &mut Vec<u8>, spec: &Spec, sign: &[u8], body: &[u8], numeric: bool) {
    let len = sign.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.extend_from_slice(sign);
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if spec.zero && numeric {
        out.extend_from_slice(sign);
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(body);
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(sign);
        out.extend_from_slice(body);
    }
}

/// Formats `fmt` (without its NUL) with `args`; `read_str` fetches the string a `%s` argument
/// points to (empty when unreadable).
///
/// # Errors
/// [`FormatError`] for an unsupported conversion or a missing argument.
pub fn format(
    fmt: &[u8],
    args: &[u64],
    read_str: &mut dyn FnMut(u64) -> Vec<u8>,
) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut next_arg = 0;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        let at = i;
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = true,
                b'#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
            spec.width = spec
                .width
                .saturating_mul(10)
                .saturating_add(usize::from(d - b'0'));
            i += 1;
        }
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
                p = p.saturating_mul(10).saturating_add(usize::from(d - b'0'));
                i += 1;
            }
            spec.precision = Some(p);
        }
        let mut longs = 0;
        while fmt.get(i) == Some(&b'l') && longs < 2 {
            longs += 1;
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            return Err(FormatError::Unsupported { at });
        };
        i += 1;
        if !matches!(conv, b'd' | b'i' | b'u' | b'x' | b'X' | b'c' | b's' | b'p') {
            return Err(FormatError::Unsupported { at });
        }
        if longs > 0 && matches!(conv, b'c' | b's' | b'p') {
            return Err(FormatError::Unsupported { at });
        }
        let Some(&arg) = args.get(next_arg) else {
            return Err(FormatError::TooFewArguments {
                at,
                available: args.len(),
            });
        };
        next_arg += 1;
        let wide = longs > 0;
        match conv {
            b'd' | b'i' => {
                let v = if wide {
                    arg as i64
                } else {
                    i64::from(arg as u32 as i32)
                };
                let sign: &[u8] = if v < 0 {
                    b"-"
                } else if spec.plus {
                    b"+"
                } else if spec.space {
                    b" "
                } else {
                    b""
                };
                pad(
                    &mut out,
                    &spec,
                    sign,
                    v.unsigned_abs().to_string().as_bytes(),
                    true,
                );
            }
            b'u' => {
                let v = if wide { arg } else { u64::from(arg as u32) };
                pad(&mut out, &spec, b"", v.to_string().as_bytes(), true);
            }
            b'x' | b'X' => {
                let v = if wide { arg } else { u64::from(arg as u32) };
                let body = if conv == b'x' {
                    format!("{v:x}")
                } else {
                    format!("{v:X}")
                };
                let prefix: &[u8] = match (spec.alt && v != 0, conv) {
                    (true, b'x') => b"0x",
                    (true, _) => b"0X",
                    _ => b"",
                };
                pad(&mut out, &spec, prefix, body.as_bytes(), true);
            }
            b'c' => pad(&mut out, &spec, b"", &[arg as u8], false),
            b's' => {
                let mut s = read_str(arg);
                if let Some(p) = spec.precision {
                    s.truncate(p);
                }
                pad(&mut out, &spec, b"", &s, false);
            }
            _ => {
                // %p, %px, %pK: the pointer value in hex (Linux hashes plain %p; apiary does not).
                if matches!(fmt.get(i), Some(b'x' | b'K')) {
                    i += 1;
                }
                pad(&mut out, &spec, b"0x", format!("{arg:x}").as_bytes(), true);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[u64]) -> String {
        let mut rs = |_: u64| b"str".to_vec();
        String::from_utf8(format(fmt.as_bytes(), args, &mut rs).expect("formats")).expect("utf8")
    }

    #[test]
    fn conversions() {
        assert_eq!(f("a %d b", &[u64::MAX]), "a -1 b");
        assert_eq!(f("%u", &[u64::MAX]), "4294967295");
        assert_eq!(
            f("%lu %lld %llx", &[u64::MAX, u64::MAX, 255]),
            "18446744073709551615 -1 ff"
        );
        assert_eq!(f("%x %X %#x", &[255, 255, 255]), "ff FF 0xff");
        assert_eq!(f("%5d|%-5d|%05d", &[42, 42, 42]), "   42|42   |00042");
        assert_eq!(f("%c%s%%", &[u64::from(b'x'), 0]), "xstr%");
        assert_eq!(f("%.2s", &[0]), "st");
        assert_eq!(f("%p", &[0x1234]), "0x1234");
        assert_eq!(f("%px!", &[0x10]), "0x10!");
        assert_eq!(f("%i %+d", &[7, 7]), "7 +7");
    }

    #[test]
    fn refusals() {
        let mut rs = |_: u64| Vec::new();
        assert!(matches!(
            format(b"%d %d", &[1], &mut rs),
            Err(FormatError::TooFewArguments {
                at: 3,
                available: 1
            })
        ));
        assert!(matches!(
            format(b"%f", &[1], &mut rs),
            Err(FormatError::Unsupported { at: 0 })
        ));
        assert!(matches!(
            format(b"%", &[1], &mut rs),
            Err(FormatError::Unsupported { at: 0 })
        ));
    }
}
