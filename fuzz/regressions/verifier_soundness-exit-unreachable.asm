# verifier_soundness finding (apiary-verifier, fixed; test: verifier/tests/fuzz_regressions.rs):
# the verifier accepted this program for ProgramType::mem(Some(16)) but reported r0 = None ("exit unreachable"), while the checked
# interpreter reaches exit after 12 instructions (r3 jumps past r2 = 16 in the first iteration)
# and returns 0xfffffa00. Input: 00 01 02 ... 0f. Fuzz input: verifier_soundness-exit-unreachable.bin
# (replay: cargo +nightly fuzz run verifier_soundness fuzz/regressions/verifier_soundness-exit-unreachable.bin)
mov %r0, 0
mov %r3, 0
jge %r3, %r2, +6
mov %r4, %r1
add %r1, %r3
ldxb %r5, [%r4]
sub32 %r0, 1536
add %r3, 16318465
ja -7
exit
