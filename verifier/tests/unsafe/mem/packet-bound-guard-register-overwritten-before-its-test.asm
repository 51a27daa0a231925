# name: packet bound guard register overwritten before its test
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
ldxw %r7, [%r1+16]
and %r5, 255
add %r2, %r5
mov %r4, %r2
add %r4, 4
mov %r8, 0
jgt %r4, %r3, bad
mov %r6, 0
ja join
bad:
mov %r6, -22
join:
jset %r7, 1, +1
add %r8, 1
jset %r7, 2, +1
add %r8, 2
jset %r7, 4, +1
add %r8, 4
jset %r7, 8, +1
add %r8, 8
jset %r7, 16, +1
add %r8, 16
jset %r7, 32, +1
add %r8, 32
mov %r6, 0
jne %r6, 0, drop
ldxw %r0, [%r2+0]
mov %r0, 0
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
ldxw %r7, [%r1+16]
and %r5, 255
add %r2, %r5
mov %r4, %r2
add %r4, 4
mov %r8, 0
jgt %r4, %r3, bad
mov %r6, 0
ja join
bad:
mov %r6, -22
join:
jset %r7, 1, +1
add %r8, 1
jset %r7, 2, +1
add %r8, 2
jset %r7, 4, +1
add %r8, 4
jset %r7, 8, +1
add %r8, 8
jset %r7, 16, +1
add %r8, 16
jset %r7, 32, +1
add %r8, 32
mov %r9, 0
jne %r6, 0, drop
ldxw %r0, [%r2+0]
mov %r0, 0
exit
drop:
mov %r0, 1
exit
