# name: narrow store into the upper half of a zeroed slot
# class: bounds
# type: mem 256
# expect: OutOfBounds
# unsafe:
stdw [%r10-8], 0
ldxb %r2, [%r1+0]
stxw [%r10-4], %r2
ldxdw %r2, [%r10-8]
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
ldxb %r2, [%r1+0]
stxw [%r10-8], %r2
ldxdw %r2, [%r10-8]
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
