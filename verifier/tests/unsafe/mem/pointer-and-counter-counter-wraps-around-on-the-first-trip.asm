# name: pointer and counter: counter wraps around on the first trip
# class: relational
# type: mem 2048
# expect: OutOfBounds
# unsafe:
mov %r2, 256
mov %r0, 0
mov %r3, 0
mov %r3, -1
loop:
ldxdw %r4, [%r1+0]
add %r0, %r4
add %r1, 8
add %r3, 1
jlt %r3, %r2, loop
exit
# safe:
mov %r2, 256
mov %r0, 0
mov %r3, 0
mov %r3, 0
loop:
ldxdw %r4, [%r1+0]
add %r0, %r4
add %r1, 8
add %r3, 1
jlt %r3, %r2, loop
exit
