//! Numeric literals and the ranges of the fields they go into. Values are carried as `i128`
//! until they meet their field, so `-0x80000000` and `0xffffffffffffffff` are exact and every
//! range check is a plain comparison.
//!
//! Range rule (that of the bpf_conformance assembler, pinned by its `invalid_imm32_*` files):
//! a decimal literal is a signed value and must fit the signed field (`2147483648` is not a
//! 32-bit immediate); a hexadecimal literal is a bit pattern and may use the whole unsigned
//! field (`0xffffffff` is the 32-bit immediate -1); a negative literal must fit the signed field.

use super::error::{AsmError, ValueRange};

/// A signed numeric operand, as written (`-0x10`, `+3`, `42`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Number {
    /// The value, exactly; its magnitude is at most `u64::MAX`.
    pub value: i128,
    /// The literal with its sign, for error messages.
    pub text: String,
    /// Whether the digits were hexadecimal (a bit pattern: may fill the unsigned range).
    pub hex: bool,
    /// 1-based column of the sign (or the first digit).
    pub column: usize,
}

/// Parses the digits of a literal (decimal, or hexadecimal after `0x`/`0X`) into a magnitude.
///
/// Returns `None` when the text is not a number at all; `Some(None)` when it is one but exceeds
/// `u64::MAX`.
pub(crate) fn parse_magnitude(text: &str) -> Option<Option<u64>> {
    let (digits, radix) = match text.get(..2) {
        Some("0x" | "0X") => (&text[2..], 16),
        _ => (text, 10),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    Some(if overflow { None } else { Some(value) })
}

/// Builds a [`Number`] from an optional sign and a digits token.
pub(crate) fn make_number(
    line: usize,
    column: usize,
    negative: Option<bool>,
    digits: &str,
    digits_column: usize,
) -> Result<Number, AsmError> {
    let sign = match negative {
        Some(true) => "-",
        Some(false) => "+",
        None => "",
    };
    let text = format!("{sign}{digits}");
    let magnitude = match parse_magnitude(digits) {
        None => {
            return Err(AsmError::MalformedNumber {
                line,
                column: digits_column,
                token: digits.to_owned(),
            })
        }
        Some(None) => {
            return Err(AsmError::ImmediateOutOfRange {
                line,
                column,
                token: text,
                range: ValueRange::Imm64,
            })
        }
        Some(Some(m)) => i128::from(m),
    };
    let value = if negative == Some(true) {
        -magnitude
    } else {
        magnitude
    };
    let hex = digits.len() > 2 && matches!(digits.get(..2), Some("0x" | "0X"));
    Ok(Number {
        value,
        text,
        hex,
        column,
    })
}

impl Number {
    fn out_of_range(&self, line: usize, range: ValueRange) -> AsmError {
        let (column, token) = (self.column, self.text.clone());
        match range {
            ValueRange::Off16 => AsmError::OffsetOutOfRange {
                line,
                column,
                token,
                range,
            },
            _ => AsmError::ImmediateOutOfRange {
                line,
                column,
                token,
                range,
            },
        }
    }

    /// Largest value the literal may have in a field whose signed maximum is `signed_max` and
    /// unsigned maximum `unsigned_max` (see the module comment).
    fn max(&self, signed_max: i128, unsigned_max: i128) -> i128 {
        if self.hex {
            unsigned_max
        } else {
            signed_max
        }
    }

    /// The value as a 32-bit immediate, keeping the low 32 bits of a hex pattern.
    pub(crate) fn imm32(&self, line: usize) -> Result<i32, AsmError> {
        let max = self.max(i128::from(i32::MAX), i128::from(u32::MAX));
        if self.value < i128::from(i32::MIN) || self.value > max {
            return Err(self.out_of_range(line, ValueRange::Imm32));
        }
        Ok(self.value as u32 as i32)
    }

    /// The value as a 64-bit immediate, as its bit pattern.
    pub(crate) fn imm64(&self, line: usize) -> Result<u64, AsmError> {
        let max = self.max(i128::from(i64::MAX), i128::from(u64::MAX));
        if self.value < i128::from(i64::MIN) || self.value > max {
            return Err(self.out_of_range(line, ValueRange::Imm64));
        }
        Ok(self.value as u64)
    }

    /// The value as a signed 16-bit offset.
    pub(crate) fn off16(&self, line: usize) -> Result<i16, AsmError> {
        i16::try_from(self.value).map_err(|_| self.out_of_range(line, ValueRange::Off16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(neg: Option<bool>, digits: &str) -> Number {
        make_number(1, 1, neg, digits, 1).expect("valid number")
    }

    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(num(None, "42").value, 42);
        assert_eq!(num(Some(true), "0x10").value, -16);
        assert_eq!(num(None, "0XFFFFFFFFFFFFFFFF").value, i128::from(u64::MAX));
        assert!(matches!(
            make_number(1, 1, None, "0x", 1),
            Err(AsmError::MalformedNumber { .. })
        ));
        assert!(matches!(
            make_number(1, 1, None, "12ab", 1),
            Err(AsmError::MalformedNumber { .. })
        ));
        assert!(matches!(
            make_number(1, 1, None, "0x10000000000000000", 1),
            Err(AsmError::ImmediateOutOfRange { .. })
        ));
    }

    #[test]
    fn imm32_range() {
        assert_eq!(num(None, "0xffffffff").imm32(1), Ok(-1));
        assert_eq!(num(Some(true), "2147483648").imm32(1), Ok(i32::MIN));
        assert!(num(None, "0x100000000").imm32(1).is_err());
        assert!(num(None, "2147483648").imm32(1).is_err());
        assert_eq!(num(None, "2147483647").imm32(1), Ok(i32::MAX));
        assert!(num(Some(true), "2147483649").imm32(1).is_err());
        assert!(num(Some(true), "0x80000001").imm32(1).is_err());
    }

    #[test]
    fn off16_and_imm64_range() {
        assert_eq!(num(Some(true), "32768").off16(1), Ok(i16::MIN));
        assert!(num(None, "0x8000").off16(1).is_err());
        assert_eq!(num(Some(true), "1").imm64(1), Ok(u64::MAX));
        assert_eq!(num(None, "0xffffffffffffffff").imm64(1), Ok(u64::MAX));
        assert!(num(None, "18446744073709551615").imm64(1).is_err());
        assert!(num(Some(true), "0x8000000000000001").imm64(1).is_err());
    }
}
