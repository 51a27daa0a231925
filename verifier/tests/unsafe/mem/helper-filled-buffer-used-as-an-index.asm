# name: helper-filled buffer used as an index
# class: helper-arg
# type: kprobe
# expect: OutOfBounds
# unsafe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
ldxdw %r6, [%r10-8]
mov %r7, %r10
add %r7, -16
add %r7, %r6
stb [%r7+0], 0
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
ldxdw %r6, [%r10-8]
and %r6, 7
mov %r7, %r10
add %r7, -16
add %r7, %r6
stb [%r7+0], 0
mov %r0, 0
exit
