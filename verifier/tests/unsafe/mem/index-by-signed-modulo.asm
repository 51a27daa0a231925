# name: index by signed modulo
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxdw %r2, [%r1+0]
smod %r2, 200
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxdw %r2, [%r1+0]
mod %r2, 200
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
