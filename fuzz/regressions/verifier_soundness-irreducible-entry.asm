# verifier_soundness finding (apiary-verifier, fixed): the verifier accepted this program for
# ProgramType::mem(Some(16)) with r0 = None, and the checked interpreter faults at the load
# (input + 0x2000000). The `jge` jumps to the `ja` that closes the loop: the loop {3..9} is
# entered at its second block while its head's own entry edge is infeasible (r3 starts past r2),
# and the fixpoint skipped a component whose head had no incoming state. Input: 00 01 ... 0f
# (byte 7 = 0x76 in the .bin). Test: verifier/tests/fuzz_regressions.rs.
mov %r0, 4
mov %r3, 0x2000000
jge %r3, %r2, +6
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4]
add %r0, %r5
add %r3, 1
add32 %r0, 0
ja -7
exit
