//! Never panic on hostile input: random bytes to the program decoder, random text to the
//! `.data` parser and the assembler, random argv/stdin to the plugin logic.

use apiary_conformance::data::{parse_bytes, parse_str};
use apiary_vm::{LoadOptions, Program};
use proptest::prelude::*;

/// Text made of `.data`-ish fragments, so the parser's interesting paths are reached often.
fn data_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("-- asm\n".to_owned()),
        Just("-- result\n".to_owned()),
        Just("-- mem\n".to_owned()),
        Just("-- raw\n".to_owned()),
        Just("-- error\n".to_owned()),
        Just("-- c\n".to_owned()),
        Just("-- no register offset\n".to_owned()),
        Just("# comment\r\n".to_owned()),
        Just("0x".to_owned()),
        Just("exit\n".to_owned()),
        Just("lddw %r0, 0x1\n".to_owned()),
        "[0-9a-fA-Fx \\-+]{0,20}\n",
        "\\PC{0,20}",
    ];
    prop::collection::vec(fragment, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Program::from_bytes(&bytes, &LoadOptions::all());
        let _ = Program::from_bytes(&bytes, &LoadOptions::default());
    }

    #[test]
    fn parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_bytes("fuzz.data", &bytes);
    }

    #[test]
    fn parser_never_panics_on_text(text in data_text()) {
        if let Ok(apiary_conformance::Parsed::Test(case)) = parse_str("fuzz.data", &text) {
            let _ = apiary_conformance::assemble::slots(&case.program);
        }
    }

    #[test]
    fn assembler_never_panics(text in "\\PC{0,200}") {
        let _ = apiary_vm::asm::assemble(&text);
    }

    #[test]
    fn plugin_never_panics(args in prop::collection::vec("(--[a-z]{0,8}|[0-9a-f ]{0,24}|)", 0..5), stdin in "[0-9a-fx \n]{0,80}") {
        let out = apiary_conformance::plugin::run(&args, || Ok(stdin.clone().into_bytes()));
        prop_assert!(out.code == 0 || out.code == 1);
    }
}
