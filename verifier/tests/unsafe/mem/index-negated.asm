# name: index negated
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
neg %r2
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
neg %r2
neg %r2
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
