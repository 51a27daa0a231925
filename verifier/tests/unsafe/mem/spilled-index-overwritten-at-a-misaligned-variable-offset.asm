# name: spilled index overwritten at a misaligned variable offset
# class: bounds
# type: mem 16
# expect: OutOfBounds
# unsafe:
ldxb %r6, [%r1+0]
and %r6, 7
stxdw [%r10-24], %r6
stxdw [%r10-16], %r6
stxdw [%r10-8], %r6
ldxb %r2, [%r1+1]
and %r2, 4
mov %r3, %r10
add %r3, -24
add %r3, %r2
stdw [%r3+0], 1
ldxdw %r6, [%r10-16]
add %r1, %r6
ldxb %r0, [%r1+0]
exit
# safe:
ldxb %r6, [%r1+0]
and %r6, 7
stxdw [%r10-24], %r6
stxdw [%r10-16], %r6
stxdw [%r10-8], %r6
ldxb %r2, [%r1+1]
and %r2, 8
mov %r3, %r10
add %r3, -24
add %r3, %r2
stdw [%r3+0], 1
ldxdw %r6, [%r10-16]
add %r1, %r6
ldxb %r0, [%r1+0]
exit
