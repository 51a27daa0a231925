# name: packet read without a bound check
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxb %r0, [%r2+0]
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 1
jgt %r4, %r3, +2
ldxb %r0, [%r2+0]
exit
mov %r0, 1
exit
