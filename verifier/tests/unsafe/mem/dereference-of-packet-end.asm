# name: dereference of packet_end
# class: types
# type: xdp
# expect: InvalidType
# unsafe:
ldxw %r3, [%r1+4]
ldxb %r0, [%r3-1]
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
ldxb %r5, [%r4-1]
mov %r0, 0
exit
drop:
mov %r0, 1
exit
