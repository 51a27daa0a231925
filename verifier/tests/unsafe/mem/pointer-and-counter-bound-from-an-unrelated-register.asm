# name: pointer and counter: bound from an unrelated register
# class: relational
# type: mem 2048
# expect: OutOfBounds
# unsafe:
mov %r2, 256
mov %r0, 0
mov %r3, 0
ldxdw %r5, [%r1+8]
loop:
ldxdw %r4, [%r1+0]
add %r0, %r4
add %r1, 8
add %r3, 1
jlt %r3, %r5, loop
exit
# safe:
mov %r2, 256
mov %r0, 0
mov %r3, 0
ldxdw %r5, [%r1+8]
jle %r5, 256, +1
mov %r5, 256
loop:
ldxdw %r4, [%r1+0]
add %r0, %r4
add %r1, 8
add %r3, 1
jlt %r3, %r5, loop
exit
