# name: variable offset below the frame
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
ldxh %r2, [%r1+0]
and %r2, 1023
mov %r3, %r10
sub %r3, %r2
stb [%r3-1], 0
mov %r0, 0
exit
# safe:
ldxh %r2, [%r1+0]
and %r2, 511
mov %r3, %r10
sub %r3, %r2
stb [%r3-1], 0
mov %r0, 0
exit
