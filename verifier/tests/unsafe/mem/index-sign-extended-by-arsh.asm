# name: index sign-extended by arsh
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
lsh %r2, 56
arsh %r2, 56
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
lsh %r2, 56
rsh %r2, 56
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
