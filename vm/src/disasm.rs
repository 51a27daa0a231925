//! The disassembler: instructions → the assembly text of [`crate::asm`].
//!
//! Output is meant to be read back: [`crate::asm::assemble`] turns every line printed here into
//! exactly the slots it came from. Jump and call targets are therefore printed relative (`+N`,
//! `-N`, counted from the next slot), not as labels, and slots that do not decode are printed
//! as `.raw 0x<u64>` lines (with the reason in a comment) instead of being dropped.

use crate::decode::{decode_at, LoadOptions};
use crate::helpers::HelperTable;
use crate::insn::Insn;
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, Cond, Instruction, Lddw, Operand, PacketAddr, Reg, Size, Width,
};
use crate::opcode;
use crate::program::Program;

fn alu_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::Sdiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Mod => "mod",
        AluOp::Smod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov | AluOp::Movsx(_) => "mov",
        AluOp::Arsh => "arsh",
    }
}

fn cond_name(cond: Cond) -> &'static str {
    match cond {
        Cond::Eq => "jeq",
        Cond::Gt => "jgt",
        Cond::Ge => "jge",
        Cond::Set => "jset",
        Cond::Ne => "jne",
        Cond::Sgt => "jsgt",
        Cond::Sge => "jsge",
        Cond::Lt => "jlt",
        Cond::Le => "jle",
        Cond::Slt => "jslt",
        Cond::Sle => "jsle",
    }
}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::Xchg => "xchg",
        AtomicOp::Cmpxchg => "cmpxchg",
    }
}

fn size_name(size: Size) -> &'static str {
    match size {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

/// The mnemonic suffix of a width: `32` for the 32-bit classes, nothing for 64-bit.
fn width_suffix(width: Width) -> &'static str {
    match width {
        Width::W32 => "32",
        Width::W64 => "",
    }
}

fn operand(src: Operand) -> String {
    match src {
        Operand::Reg(r) => r.to_string(),
        Operand::Imm(i) => i.to_string(),
    }
}

fn memory(base: Reg, off: i16) -> String {
    format!("[{base}{off:+}]")
}

/// A target printed relative to the slot after `pc`, the way the assembler reads it.
fn relative(target: usize, pc: usize) -> String {
    // Targets and pcs are below `MAX_SLOTS` (2^24) or at least below isize::MAX: no overflow.
    let displacement = target as i128 - pc as i128 - 1;
    format!("{displacement:+}")
}

fn lddw(dst: Reg, value: Lddw, pc: usize) -> String {
    match value {
        Lddw::Imm(v) => format!("lddw {dst}, {v:#x}"),
        Lddw::MapFd(fd) => format!("lddw {dst}, map_fd {fd}"),
        Lddw::MapValue { map, offset } => format!("lddw {dst}, map_value {map}, {offset}"),
        Lddw::VarAddr(v) => format!("lddw {dst}, var_addr {v}"),
        Lddw::CodeAddr(target) => format!("lddw {dst}, code_addr {}", relative(target, pc)),
        Lddw::MapIdx(i) => format!("lddw {dst}, map_idx {i}"),
        Lddw::MapIdxValue { map, offset } => format!("lddw {dst}, map_idx_value {map}, {offset}"),
    }
}

/// Formats one decoded instruction standing at slot `pc`.
///
/// `slot` is the raw first slot of the instruction: the decoded form does not say whether an
/// unconditional jump was `ja` (16-bit `off`) or `ja32`/gotol (32-bit `imm`), and the text must
/// reassemble to the same bytes. The second slot of an `lddw` formats as a comment, since the
/// `lddw` line already stands for both slots.
#[must_use]
pub fn format_instruction(instruction: &Instruction, slot: Insn, pc: usize) -> String {
    match *instruction {
        Instruction::Alu {
            op: AluOp::Movsx(bits),
            width,
            dst,
            src,
        } => {
            format!(
                "movsx{bits}{} {dst}, {}",
                if width == Width::W32 { "32" } else { "64" },
                operand(src)
            )
        }
        Instruction::Alu {
            op,
            width,
            dst,
            src,
        } => {
            format!(
                "{}{} {dst}, {}",
                alu_name(op),
                width_suffix(width),
                operand(src)
            )
        }
        Instruction::Neg { width, dst } => format!("neg{} {dst}", width_suffix(width)),
        Instruction::Endian { order, bits, dst } => {
            let name = match order {
                ByteOrder::ToLe => "le",
                ByteOrder::ToBe => "be",
                ByteOrder::Swap => "bswap",
            };
            format!("{name}{bits} {dst}")
        }
        Instruction::Load {
            size,
            sign_extend,
            dst,
            src,
            off,
        } => {
            format!(
                "ldx{}{} {dst}, {}",
                if sign_extend { "s" } else { "" },
                size_name(size),
                memory(src, off)
            )
        }
        Instruction::Store {
            size,
            dst,
            off,
            src: Operand::Imm(imm),
        } => {
            format!("st{} {}, {imm}", size_name(size), memory(dst, off))
        }
        Instruction::Store {
            size,
            dst,
            off,
            src: Operand::Reg(src),
        } => {
            format!("stx{} {}, {src}", size_name(size), memory(dst, off))
        }
        Instruction::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => {
            let explicit_fetch = fetch && !matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg);
            format!(
                "lock {}{}{} {}, {src}",
                if explicit_fetch { "fetch " } else { "" },
                atomic_name(op),
                if size == Size::W { "32" } else { "" },
                memory(dst, off)
            )
        }
        Instruction::LoadImm64 { dst, value } => lddw(dst, value, pc),
        Instruction::LoadPacket {
            size,
            addr: PacketAddr::Abs,
            imm,
        } => format!("ldabs{} {imm}", size_name(size)),
        Instruction::LoadPacket {
            size,
            addr: PacketAddr::Ind(src),
            imm,
        } => {
            format!("ldind{} {src}, {imm}", size_name(size))
        }
        Instruction::Ja { target } => {
            let name = if slot.op == opcode::JA32 {
                "ja32"
            } else {
                "ja"
            };
            format!("{name} {}", relative(target, pc))
        }
        Instruction::Jump {
            cond,
            width,
            dst,
            src,
            target,
        } => {
            format!(
                "{}{} {dst}, {}, {}",
                cond_name(cond),
                width_suffix(width),
                operand(src),
                relative(target, pc)
            )
        }
        // Ids above i32::MAX are written as the hex bit pattern the assembler accepts.
        Instruction::Call { helper } if helper > i32::MAX as u32 => format!("call {helper:#x}"),
        Instruction::Call { helper } => format!("call {helper}"),
        Instruction::CallLocal { target } => format!("call local {}", relative(target, pc)),
        Instruction::CallKfunc { btf_id, module: 0 } => format!("call runtime {btf_id}"),
        Instruction::CallKfunc { btf_id, module } => format!("call runtime {btf_id}, {module}"),
        Instruction::CallX { reg } => format!("callx {reg}"),
        Instruction::Exit => "exit".to_owned(),
        Instruction::LddwTail => "# (second slot of the lddw above)".to_owned(),
    }
}

/// Formats the instruction at slot `pc` of raw slots, decoding it with `options`.
///
/// Returns the text and the number of slots it stands for (2 for a valid `lddw`, else 1). A slot
/// that does not decode (or a `pc` past the end) gives a `.raw` line (or an empty text) instead
/// of a panic.
#[must_use]
pub fn format_slot(insns: &[Insn], pc: usize, options: &LoadOptions) -> (String, usize) {
    let Some(&slot) = insns.get(pc) else {
        return (String::new(), 1);
    };
    match decode_at(insns, pc, options) {
        Ok(instruction) => (
            format_instruction(&instruction, slot, pc),
            instruction.slots(),
        ),
        Err(e) => (format!(".raw {:#018x} # invalid: {e}", slot.to_u64()), 1),
    }
}

/// Formats the instruction at slot `pc` of raw slots, with every optional group enabled.
#[must_use]
pub fn format_insn(insns: &[Insn], pc: usize) -> String {
    format_slot(insns, pc, &LoadOptions::all()).0
}

/// Disassembles a checked program: one line per instruction (an `lddw` once).
#[must_use]
pub fn disassemble(program: &Program) -> String {
    listing(program, None)
}

/// As [`disassemble`], with the name of each called helper found in `helpers` as a comment
/// (`call 1 # bpf_map_lookup_elem`); the text still reassembles to the same slots.
#[must_use]
pub fn disassemble_with_helpers(program: &Program, helpers: &HelperTable) -> String {
    listing(program, Some(helpers))
}

fn listing(program: &Program, helpers: Option<&HelperTable>) -> String {
    let mut out = String::new();
    for (pc, (instruction, slot)) in program
        .instructions()
        .iter()
        .zip(program.insns())
        .enumerate()
    {
        if *instruction == Instruction::LddwTail {
            continue;
        }
        out.push_str(&format_instruction(instruction, *slot, pc));
        if let (Instruction::Call { helper }, Some(table)) = (instruction, helpers) {
            if let Some(h) = table.get(*helper) {
                // A name is the host's text: keep it on this line, whatever it holds.
                out.push_str(" # ");
                out.extend(h.name.chars().filter(|c| !c.is_control()));
            }
        }
        out.push('\n');
    }
    out
}

/// Disassembles raw slots that need not form a valid program, slot by slot, with every
/// optional group enabled. Undecodable slots become `.raw` lines, so the text still
/// reassembles to `insns` exactly.
#[must_use]
pub fn disassemble_insns(insns: &[Insn]) -> String {
    let options = LoadOptions::all();
    let mut out = String::new();
    let mut pc = 0;
    while pc < insns.len() {
        let (text, slots) = format_slot(insns, pc, &options);
        out.push_str(&text);
        out.push('\n');
        pc += slots;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::assemble;

    fn program(text: &str) -> Program {
        let insns = assemble(text).expect("assembles");
        Program::new(insns, &LoadOptions::all()).expect("loads")
    }

    #[test]
    fn prints_every_form() {
        let text = "\
mov %r0, -1
add32 %r0, %r1
movsx1664 %r2, %r3
movsx832 %r2, %r3
neg32 %r0
be16 %r0
bswap64 %r0
ldxsh %r0, [%r1+2]
ldxdw %r0, [%r10-8]
stw [%r10-4], 7
stxb [%r10+0], %r1
lock fetch add32 [%r10-4], %r1
lock xchg [%r10-8], %r1
lock or [%r10-8], %r1
lddw %r1, 0x1122334455667788
lddw %r2, map_value 3, 16
ldabsw 4
ldindh %r1, 8
jeq %r0, 5, +1
jslt32 %r0, %r1, -2
ja +0
ja32 -1
call 1
call runtime 7, 2
callx %r2
exit
";
        let p = program(text);
        assert_eq!(disassemble(&p), text);
    }

    #[test]
    fn raw_slots_never_panic_and_reassemble() {
        let insns = vec![
            Insn::new(0x18, 1, 0, 0, 5), // lddw with no second slot
            Insn::new(0xff, 0, 0, 0, 0),
            Insn::new(0x05, 0, 0, 100, 0), // ja out of range
        ];
        let text = disassemble_insns(&insns);
        assert!(text.lines().all(|l| l.starts_with(".raw")), "{text}");
        assert_eq!(assemble(&text), Ok(insns));
        assert_eq!(format_insn(&[], 3), "");
    }

    #[test]
    fn helper_names_in_comments() {
        let p = program("mov %r1, 0\ncall 7\ncall 9\nexit\n");
        let mut helpers = HelperTable::new();
        helpers.register(7, "bpf_get_prandom_u32", |_, _| Ok(4));
        let text = disassemble_with_helpers(&p, &helpers);
        assert_eq!(
            text,
            "mov %r1, 0\ncall 7 # bpf_get_prandom_u32\ncall 9\nexit\n"
        );
        assert_eq!(assemble(&text).as_deref(), Ok(p.insns()));
    }
}
