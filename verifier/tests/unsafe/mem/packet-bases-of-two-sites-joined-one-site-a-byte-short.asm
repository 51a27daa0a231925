# name: packet bases of two sites joined, one site a byte short
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
ldxw %r8, [%r1+16]
mov %r9, %r8
and %r9, 255
mov %r0, 0
jset %r8, 128, site2
mov %r4, %r2
add %r4, %r5
mov %r6, %r4
add %r6, 4
jgt %r6, %r3, drop
ja join
site2:
mov %r4, %r2
add %r4, %r9
mov %r6, %r4
add %r6, 3
jgt %r6, %r3, drop
join:
jset %r8, 1, +1
add %r0, 1
jset %r8, 2, +1
add %r0, 2
jset %r8, 4, +1
add %r0, 4
jset %r8, 8, +1
add %r0, 8
jset %r8, 16, +1
add %r0, 16
jset %r8, 32, +1
add %r0, 32
ldxw %r7, [%r4+0]
mov %r0, 0
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
ldxw %r8, [%r1+16]
mov %r9, %r8
and %r9, 255
mov %r0, 0
jset %r8, 128, site2
mov %r4, %r2
add %r4, %r5
mov %r6, %r4
add %r6, 4
jgt %r6, %r3, drop
ja join
site2:
mov %r4, %r2
add %r4, %r9
mov %r6, %r4
add %r6, 4
jgt %r6, %r3, drop
join:
jset %r8, 1, +1
add %r0, 1
jset %r8, 2, +1
add %r0, 2
jset %r8, 4, +1
add %r0, 4
jset %r8, 8, +1
add %r0, 8
jset %r8, 16, +1
add %r0, 16
jset %r8, 32, +1
add %r0, 32
ldxw %r7, [%r4+0]
mov %r0, 0
exit
drop:
mov %r0, 1
exit
