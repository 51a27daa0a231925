# name: stack pointer walked past the frame in a loop
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
mov %r2, %r10
mov %r1, 0
loop:
add %r2, -8
stdw [%r2+0], 0
add %r1, 1
jlt %r1, 65, loop
mov %r0, 0
exit
# safe:
mov %r2, %r10
mov %r1, 0
loop:
add %r2, -8
stdw [%r2+0], 0
add %r1, 1
jlt %r1, 64, loop
mov %r0, 0
exit
