# name: 32-bit add wraps to a large index
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
add32 %r2, -1
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
add32 %r2, 0
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
