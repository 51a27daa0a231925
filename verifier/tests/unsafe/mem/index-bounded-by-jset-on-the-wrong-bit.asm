# name: index bounded by jset on the wrong bit
# class: bounds
# type: mem 128
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
jset %r2, 0x40, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
jset %r2, 0x80, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
