# name: 64-bit multiply overflow
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
mul %r2, 0x10000000
rsh %r2, 32
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxw %r2, [%r1+0]
mul %r2, 0x10000000
rsh %r2, 56
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
