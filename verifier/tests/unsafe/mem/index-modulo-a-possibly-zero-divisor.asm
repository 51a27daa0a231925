# name: index modulo a possibly zero divisor
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxb %r3, [%r1+1]
ldxdw %r2, [%r1+8]
mod %r2, %r3
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r3, [%r1+1]
or %r3, 1
ldxdw %r2, [%r1+8]
mod %r2, %r3
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
