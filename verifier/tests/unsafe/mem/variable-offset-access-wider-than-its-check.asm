# name: variable-offset access wider than its check
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
add %r2, %r5
mov %r4, %r2
add %r4, 2
jgt %r4, %r3, drop
ldxw %r0, [%r2+0]
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
add %r2, %r5
mov %r4, %r2
add %r4, 2
jgt %r4, %r3, drop
ldxh %r0, [%r2+0]
exit
drop:
mov %r0, 1
exit
