# name: packet access on the failing side of the check
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jle %r4, %r3, drop
ldxh %r0, [%r2+12]
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
ldxh %r0, [%r2+12]
exit
drop:
mov %r0, 1
exit
