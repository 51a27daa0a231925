# name: variable-offset stack read reaching an unwritten slot
# class: uninit-stack
# type: mem 8
# expect: UninitStack
# unsafe:
ldxb %r2, [%r1+0]
and %r2, 15
mov %r3, %r10
add %r3, -16
add %r3, %r2
stdw [%r10-16], 0
ldxb %r0, [%r3+0]
exit
# safe:
ldxb %r2, [%r1+0]
and %r2, 7
mov %r3, %r10
add %r3, -16
add %r3, %r2
stdw [%r10-16], 0
ldxb %r0, [%r3+0]
exit
