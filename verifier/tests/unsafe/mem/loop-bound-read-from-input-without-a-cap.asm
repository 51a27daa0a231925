# name: loop bound read from input without a cap
# class: bounds
# type: mem 16
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
mov %r0, 0
mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4+0]
add %r0, %r5
add %r3, 1
jlt %r3, %r2, loop
exit
# safe:
ldxb %r2, [%r1+0]
and %r2, 15
mov %r0, 0
mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4+0]
add %r0, %r5
add %r3, 1
jlt %r3, %r2, loop
exit
