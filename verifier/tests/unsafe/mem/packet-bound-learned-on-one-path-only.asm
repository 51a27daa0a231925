# name: packet bound learned on one path only
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, join
mov %r0, 0
join:
ldxb %r0, [%r2+13]
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
mov %r0, 0
join:
ldxb %r0, [%r2+13]
exit
drop:
mov %r0, 1
exit
