# name: index decremented below zero
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
sub %r2, 1
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
jeq %r2, 0, out
sub %r2, 1
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
