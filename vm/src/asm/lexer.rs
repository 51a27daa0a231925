//! Splits one line of assembly into tokens with their 1-based columns. Working on tokens rather
//! than on whitespace-separated words (as the C++ tool does) lets `[%r1 + 8]` and `%r1,%r2`
//! mean the same as `[%r1+8]` and `%r1, %r2`, while every error can still name a column.

use super::error::AsmError;

/// The kind of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A mnemonic, register, label or keyword: `[A-Za-z_.%][A-Za-z0-9_.]*`.
    Word,
    /// A number: a digit followed by letters and digits (`12`, `0x1f`); checked when parsed.
    Number,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `,`
    Comma,
    /// `:`
    Colon,
}

/// One token of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    /// Byte offset of the token in its line (to slice out whole operands for messages).
    pub start: usize,
    /// 1-based column (in characters) of the token's first character.
    pub column: usize,
}

fn starts_word(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '_' | '.' | '%')
}

fn continues_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.')
}

/// Tokenizes `line` (1-based number `line_no`), dropping a `#` comment and whitespace.
pub(crate) fn tokenize(line: &str, line_no: usize) -> Result<Vec<Token<'_>>, AsmError> {
    let mut tokens = Vec::new();
    // (byte index, char, 1-based column)
    let mut chars = line
        .char_indices()
        .enumerate()
        .map(|(i, (b, c))| (b, c, i + 1))
        .peekable();
    while let Some((start, c, column)) = chars.next() {
        let single = match c {
            '#' => break,
            c if c.is_whitespace() => continue,
            '[' => Some(TokenKind::LBracket),
            ']' => Some(TokenKind::RBracket),
            '+' => Some(TokenKind::Plus),
            '-' => Some(TokenKind::Minus),
            ',' => Some(TokenKind::Comma),
            ':' => Some(TokenKind::Colon),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token {
                kind,
                text: &line[start..start + c.len_utf8()],
                start,
                column,
            });
            continue;
        }
        let kind = if starts_word(c) {
            TokenKind::Word
        } else if c.is_ascii_digit() {
            TokenKind::Number
        } else {
            return Err(AsmError::UnexpectedChar {
                line: line_no,
                column,
                ch: c,
            });
        };
        let mut end = start + c.len_utf8();
        while let Some(&(b, next, _)) = chars.peek() {
            if !continues_word(next) {
                break;
            }
            end = b + next.len_utf8();
            chars.next();
        }
        tokens.push(Token {
            kind,
            text: &line[start..end],
            start,
            column,
        });
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(TokenKind, &str, usize)> {
        match tokenize(line, 1) {
            Ok(t) => t.into_iter().map(|t| (t.kind, t.text, t.column)).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn splits_memory_operand_and_comment() {
        use TokenKind::*;
        assert_eq!(
            kinds("ldxw %r0, [%r1-0x10] # c"),
            vec![
                (Word, "ldxw", 1),
                (Word, "%r0", 6),
                (Comma, ",", 9),
                (LBracket, "[", 11),
                (Word, "%r1", 12),
                (Minus, "-", 15),
                (Number, "0x10", 16),
                (RBracket, "]", 20),
            ]
        );
    }

    #[test]
    fn rejects_strange_characters_with_column() {
        assert_eq!(
            tokenize("  mov é", 3),
            Err(AsmError::UnexpectedChar {
                line: 3,
                column: 7,
                ch: 'é'
            })
        );
    }
}
