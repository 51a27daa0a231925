# name: bound checked with the index register reassigned
# class: packet
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
mov %r4, %r2
add %r4, %r5
mov %r7, %r4
add %r7, 1
jgt %r7, %r3, drop
ldxw %r5, [%r1+16]
and %r5, 255
mov %r8, %r2
add %r8, %r5
ldxb %r0, [%r8+0]
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
mov %r4, %r2
add %r4, %r5
mov %r7, %r4
add %r7, 1
jgt %r7, %r3, drop
ldxw %r6, [%r1+16]
and %r6, 255
mov %r8, %r2
add %r8, %r5
ldxb %r0, [%r8+0]
exit
drop:
mov %r0, 1
exit
