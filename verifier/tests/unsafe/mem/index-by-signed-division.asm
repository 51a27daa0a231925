# name: index by signed division
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxdw %r2, [%r1+0]
lddw %r4, 0x100000000000000
sdiv %r2, %r4
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxdw %r2, [%r1+0]
lddw %r4, 0x100000000000000
div %r2, %r4
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
