//! The assembler never panics: arbitrary strings and soups of plausible tokens must give `Ok`
//! or `Err`, and an error always points at a real line and column.

use proptest::prelude::*;

use crate::asm::assemble;

const TOKENS: &[&str] = &[
    "mov",
    "mov32",
    "add",
    "sdiv",
    "neg",
    "neg32",
    "movsx832",
    "movsx3264",
    "le16",
    "be64",
    "bswap32",
    "ldxb",
    "ldxsw",
    "ldxdw",
    "stw",
    "stxdw",
    "lddw",
    "ldabsw",
    "ldindh",
    "ja",
    "ja32",
    "jeq",
    "jsle32",
    "call",
    "callx",
    "exit",
    "lock",
    "fetch",
    "xchg",
    "cmpxchg32",
    "add32",
    "local",
    "runtime",
    "helper",
    "xaddw",
    ".raw",
    "map_fd",
    "map_value",
    "code_addr",
    "%r0",
    "%r1",
    "%r10",
    "%r11",
    "%r99999999999999999999",
    "r3",
    "%",
    "%x",
    "[",
    "]",
    "[%r1+8]",
    "[%r10-8]",
    "[%r1]",
    "+",
    "-",
    ",",
    ":",
    "L1",
    "L1:",
    "exit:",
    "0",
    "1",
    "-1",
    "+3",
    "-3",
    "0x7fffffff",
    "0xffffffff",
    "0x100000000",
    "2147483648",
    "-2147483649",
    "32768",
    "-32769",
    "0xffffffffffffffff",
    "0x1ffffffffffffffff",
    "99999999999999999999999999",
    "0x",
    "0xg",
    "12ab",
    "#",
    "# comment",
    "\n",
    "\t",
    "é",
    "\r",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&[" ", "", "\n", ", "][..]),
        ),
        0..24,
    )
    .prop_map(|parts| parts.into_iter().flat_map(|(t, sep)| [t, sep]).collect())
}

fn check(text: &str) {
    if let Err(e) = assemble(text) {
        let lines = text.lines().count().max(1);
        assert!(
            e.line() >= 1 && e.line() <= lines,
            "{text:?}: line {} of {lines}: {e}",
            e.line()
        );
        assert!(e.column() >= 1, "{text:?}: column 0: {e}");
        // Display must work too.
        assert!(!e.to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn token_soup_never_panics(text in soup()) {
        check(&text);
    }

    #[test]
    fn line_shaped_soup_never_panics(
        mnemonic in prop::sample::select(TOKENS),
        ops in prop::collection::vec(prop::sample::select(TOKENS), 0..5),
    ) {
        check(&format!("{mnemonic} {}", ops.join(", ")));
    }
}
