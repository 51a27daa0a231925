# name: index equal-tested on the wrong edge
# class: bounds
# type: mem 4
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
jeq %r2, 3, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
jne %r2, 3, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
