//! Groups the tokens after a mnemonic into operands: words (registers, labels, keywords),
//! signed numbers and memory operands. Operands are separated by whitespace and an optional
//! comma. What a word means (register or label) is decided by the instruction that uses it, so
//! this layer never guesses.

use super::error::{AsmError, OperandKind};
use super::lexer::{Token, TokenKind};
use super::number::{make_number, Number};

/// What an operand is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A register, label or keyword.
    Word(&'a str),
    /// A number with its optional sign.
    Number(Number),
    /// `[base]`, `[base+off]` or `[base-off]`; the base register is already checked.
    Memory { base: u8, off: Option<Number> },
}

/// One operand with its position and source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Operand<'a> {
    pub value: Value<'a>,
    /// The operand as written (for error messages).
    pub text: &'a str,
    /// 1-based column of its first character.
    pub column: usize,
}

/// Reads a register word: `%rN` or `rN` with N in 0..=10.
///
/// A `%`-word that is not a valid register, and `rN` with N above 10, are
/// [`AsmError::BadRegister`]; any other word is "expected a register".
pub(crate) fn register(word: &str, line: usize, column: usize) -> Result<u8, AsmError> {
    let bad = || AsmError::BadRegister {
        line,
        column,
        token: word.to_owned(),
    };
    let (percent, rest) = match word.strip_prefix('%') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let digits = rest
        .strip_prefix('r')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    match digits {
        Some(d) => match d.parse::<u8>() {
            Ok(n) if n <= 10 => Ok(n),
            _ => Err(bad()),
        },
        None if percent => Err(bad()),
        None => Err(AsmError::ExpectedOperand {
            line,
            column,
            expected: OperandKind::Register,
            found: word.to_owned(),
        }),
    }
}

/// Whether a word is written as a register (`%...`, or `r` followed by digits).
pub(crate) fn looks_like_register(word: &str) -> bool {
    word.starts_with('%')
        || word
            .strip_prefix('r')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A cursor over the tokens of one line.
struct Cursor<'t, 'a> {
    line_text: &'a str,
    tokens: &'t [Token<'a>],
    pos: usize,
    line: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<Token<'a>> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// The source text from token `first` through the last consumed token.
    fn text_since(&self, first: Token<'a>) -> &'a str {
        let end = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(first.start + first.text.len(), |t| t.start + t.text.len());
        self.line_text.get(first.start..end).unwrap_or(first.text)
    }

    fn unexpected(&self, t: Token<'a>) -> AsmError {
        AsmError::UnexpectedToken {
            line: self.line,
            column: t.column,
            token: t.text.to_owned(),
        }
    }

    /// A signed number: `[+|-] Number`, the sign token being `sign` (already consumed).
    fn signed_number(&mut self, sign: Token<'a>) -> Result<Number, AsmError> {
        match self.bump() {
            Some(d) if d.kind == TokenKind::Number => make_number(
                self.line,
                sign.column,
                Some(sign.kind == TokenKind::Minus),
                d.text,
                d.column,
            ),
            Some(t) => Err(self.unexpected(t)),
            None => Err(self.unexpected(sign)),
        }
    }

    /// The inside of `[ ... ]`, the `[` being `open` (already consumed).
    fn memory(&mut self, open: Token<'a>) -> Result<Value<'a>, AsmError> {
        let line = self.line;
        let malformed = |t: Option<Token<'a>>| AsmError::MalformedMemory {
            line,
            column: t.map_or(open.column, |t| t.column),
            found: t.map_or_else(|| "end of line".to_owned(), |t| t.text.to_owned()),
        };
        let base_tok = self.bump();
        let base = match base_tok {
            Some(t) if t.kind == TokenKind::Word => register(t.text, self.line, t.column)?,
            other => return Err(malformed(other)),
        };
        let off = match self.bump() {
            Some(t) if t.kind == TokenKind::RBracket => {
                return Ok(Value::Memory { base, off: None })
            }
            Some(sign) if matches!(sign.kind, TokenKind::Plus | TokenKind::Minus) => {
                match self.peek() {
                    Some(d) if d.kind == TokenKind::Number => self.signed_number(sign)?,
                    other => return Err(malformed(other)),
                }
            }
            other => return Err(malformed(other)),
        };
        match self.bump() {
            Some(t) if t.kind == TokenKind::RBracket => Ok(Value::Memory {
                base,
                off: Some(off),
            }),
            other => Err(malformed(other)),
        }
    }

    fn operand(&mut self, first: Token<'a>) -> Result<Operand<'a>, AsmError> {
        let value = match first.kind {
            TokenKind::Word => Value::Word(first.text),
            TokenKind::Number => Value::Number(make_number(
                self.line,
                first.column,
                None,
                first.text,
                first.column,
            )?),
            TokenKind::Plus | TokenKind::Minus => Value::Number(self.signed_number(first)?),
            TokenKind::LBracket => self.memory(first)?,
            TokenKind::RBracket | TokenKind::Comma | TokenKind::Colon => {
                return Err(self.unexpected(first))
            }
        };
        Ok(Operand {
            value,
            text: self.text_since(first),
            column: first.column,
        })
    }
}

/// Parses `tokens` (everything after the mnemonic) into operands.
pub(crate) fn parse_operands<'a>(
    line_text: &'a str,
    tokens: &[Token<'a>],
    line: usize,
) -> Result<Vec<Operand<'a>>, AsmError> {
    let mut cur = Cursor {
        line_text,
        tokens,
        pos: 0,
        line,
    };
    let mut operands = Vec::new();
    while let Some(first) = cur.bump() {
        operands.push(cur.operand(first)?);
        // One optional separating (or trailing) comma.
        if cur.peek().is_some_and(|t| t.kind == TokenKind::Comma) {
            cur.bump();
        }
    }
    Ok(operands)
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn ops(text: &str) -> Result<Vec<Operand<'_>>, AsmError> {
        let tokens = tokenize(text, 1)?;
        parse_operands(text, &tokens, 1)
    }

    #[test]
    fn memory_forms() {
        for (text, base, off) in [
            ("[%r1]", 1, None),
            ("[%r10-8]", 10, Some(-8)),
            ("[ r2 + 0x10 ]", 2, Some(16)),
        ] {
            let got = ops(text).expect("valid memory operand");
            match &got[..] {
                [Operand {
                    value: Value::Memory { base: b, off: o },
                    text: t,
                    column: 1,
                }] => {
                    assert_eq!(
                        (*b, o.as_ref().map(|n| n.value), *t),
                        (base, off.map(i128::from), text.trim())
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn commas_are_optional_but_not_doubled() {
        assert_eq!(ops("%r1, 5,").expect("ok").len(), 2);
        assert_eq!(ops("%r1 -5").expect("ok").len(), 2);
        assert!(matches!(
            ops("%r1,, 5"),
            Err(AsmError::UnexpectedToken { column: 5, .. })
        ));
        assert!(matches!(
            ops(", 5"),
            Err(AsmError::UnexpectedToken { column: 1, .. })
        ));
    }

    #[test]
    fn malformed_memory_and_registers() {
        assert!(matches!(
            ops("[%r1+]"),
            Err(AsmError::MalformedMemory { column: 6, .. })
        ));
        assert!(matches!(ops("[%r1"), Err(AsmError::MalformedMemory { .. })));
        assert!(matches!(
            ops("[5]"),
            Err(AsmError::MalformedMemory { column: 2, .. })
        ));
        assert!(matches!(
            ops("[%r11+1]"),
            Err(AsmError::BadRegister { column: 2, .. })
        ));
        assert_eq!(register("r10", 1, 1), Ok(10));
        assert!(matches!(
            register("%r50", 1, 1),
            Err(AsmError::BadRegister { .. })
        ));
        assert!(matches!(
            register("%x", 1, 1),
            Err(AsmError::BadRegister { .. })
        ));
        assert!(matches!(
            register("foo", 1, 1),
            Err(AsmError::ExpectedOperand { .. })
        ));
    }
}
