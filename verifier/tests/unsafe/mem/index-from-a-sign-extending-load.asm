# name: index from a sign-extending load
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxsb %r2, [%r1+0]
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
