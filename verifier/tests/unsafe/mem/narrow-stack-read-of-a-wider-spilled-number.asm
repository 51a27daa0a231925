# name: narrow stack read of a wider spilled number
# class: bounds
# type: mem 16
# expect: OutOfBounds
# unsafe:
lddw %r2, 0xff00
stxdw [%r10-8], %r2
ldxb %r2, [%r10-7]
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
# safe:
lddw %r2, 0xff00
stxdw [%r10-8], %r2
ldxb %r2, [%r10-8]
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit
