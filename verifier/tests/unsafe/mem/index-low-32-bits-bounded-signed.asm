# name: index low 32 bits bounded signed
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
ldxdw %r2, [%r1+0]
jsgt32 %r2, 255, out
jslt32 %r2, 0, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
ldxdw %r2, [%r1+0]
jsgt %r2, 255, out
jslt %r2, 0, out
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
