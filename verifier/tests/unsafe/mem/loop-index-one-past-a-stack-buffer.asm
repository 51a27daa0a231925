# name: loop index one past a stack buffer
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
mov %r1, 0
loop:
mov %r2, %r10
add %r2, -64
add %r2, %r1
stb [%r2+0], 0
add %r1, 1
jle %r1, 64, loop
mov %r0, 0
exit
# safe:
mov %r1, 0
loop:
mov %r2, %r10
add %r2, -64
add %r2, %r1
stb [%r2+0], 0
add %r1, 1
jlt %r1, 64, loop
mov %r0, 0
exit
