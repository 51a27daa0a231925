# name: stack walked by a loop bounded by an input, one slot too many
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
ldxb %r3, [%r1+0]
and %r3, 127
mov %r2, %r10
mov %r1, 0
loop:
add %r2, -8
stdw [%r2+0], 0
add %r1, 1
jlt %r1, %r3, loop
mov %r0, 0
exit
# safe:
ldxb %r3, [%r1+0]
and %r3, 63
mov %r2, %r10
mov %r1, 0
loop:
add %r2, -8
stdw [%r2+0], 0
add %r1, 1
jlt %r1, %r3, loop
mov %r0, 0
exit
