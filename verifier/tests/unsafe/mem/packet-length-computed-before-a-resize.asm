# name: packet length computed before a resize
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
mov %r6, %r1
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
mov %r5, %r3
sub %r5, %r2
mov %r7, %r5
mov %r1, %r6
mov %r2, 8
call 44
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
mov %r5, %r7
jlt %r5, 14, drop
ldxh %r0, [%r2+12]
exit
drop:
mov %r0, 1
exit
# safe:
mov %r6, %r1
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
mov %r5, %r3
sub %r5, %r2
mov %r7, %r5
mov %r1, %r6
mov %r2, 8
call 44
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
mov %r5, %r3
sub %r5, %r2
jlt %r5, 14, drop
ldxh %r0, [%r2+12]
exit
drop:
mov %r0, 1
exit
