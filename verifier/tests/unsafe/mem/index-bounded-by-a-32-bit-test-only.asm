# name: index bounded by a 32-bit test only
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxdw %r2, [%r1+0]
jgt32 %r2, 255, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxdw %r2, [%r1+0]
jgt %r2, 255, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
