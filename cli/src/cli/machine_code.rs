//! Listing of JIT-generated machine code for `apiary disasm --jit`: x86-64 as GNU-syntax
//! assembly, other hosts as hex bytes.

/// The instructions of `code[from..to]`, indented, after an optional heading line.
/// Addresses are offsets from the start of the generated code.
pub fn listing(heading: &str, code: &[u8], from: usize, to: usize) -> String {
    let mut out = String::new();
    if !heading.is_empty() {
        out.push_str(&format!("       ; {heading}\n"));
    }
    let Some(bytes) = code.get(from..to.min(code.len())) else {
        return out;
    };
    render(&mut out, bytes, from);
    out
}

#[cfg(target_arch = "x86_64")]
fn render(out: &mut String, bytes: &[u8], base: usize) {
    use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter, Instruction};
    let mut decoder = Decoder::with_ip(64, bytes, base as u64, DecoderOptions::NONE);
    let mut formatter = GasFormatter::new();
    let mut text = String::new();
    let mut insn = Instruction::default();
    while decoder.can_decode() {
        decoder.decode_out(&mut insn);
        text.clear();
        formatter.format(&insn, &mut text);
        let start = insn.ip() as usize - base;
        let raw = &bytes[start..start + insn.len()];
        let hex: Vec<String> = raw.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!(
            "       {:06x}  {:30} {text}\n",
            insn.ip(),
            hex.join(" ")
        ));
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn render(out: &mut String, bytes: &[u8], base: usize) {
    for (i, word) in bytes.chunks(4).enumerate() {
        let hex: Vec<String> = word.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("       {:06x}  {}\n", base + 4 * i, hex.join(" ")));
    }
}
