# name: mov32 of -1 is 0xffffffff
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
mov32 %r2, -1
add %r2, 1
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
mov %r2, -1
add %r2, 1
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
