# name: spilled pointer overwritten at a variable offset
# class: types
# type: mem 8
# expect: UninitStack
# unsafe:
stdw [%r10-16], 0
stxdw [%r10-8], %r1
ldxb %r2, [%r1+0]
and %r2, 8
mov %r3, %r10
add %r3, -16
add %r3, %r2
stdw [%r3+0], 0
ldxdw %r4, [%r10-8]
ldxb %r0, [%r4+0]
exit
# safe:
stdw [%r10-16], 0
stxdw [%r10-8], %r1
ldxb %r2, [%r1+0]
and %r2, 0
mov %r3, %r10
add %r3, -16
add %r3, %r2
stdw [%r3+0], 0
ldxdw %r4, [%r10-8]
ldxb %r0, [%r4+0]
exit
