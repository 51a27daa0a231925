# name: index sign-extended by movsx
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxb %r2, [%r1+0]
movsx864 %r2, %r2
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
mov %r2, %r2
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
