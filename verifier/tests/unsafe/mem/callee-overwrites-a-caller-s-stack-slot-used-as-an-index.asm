# name: callee overwrites a caller's stack slot used as an index
# class: calls
# type: mem 16
# expect: OutOfBounds
# unsafe:
stdw [%r10-8], 0
mov %r6, %r1
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
add %r6, %r2
ldxb %r0, [%r6+0]
exit
f:
stdw [%r1+0], 1000
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r6, %r1
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
add %r6, %r2
ldxb %r0, [%r6+0]
exit
f:
stdw [%r1+0], 10
mov %r0, 0
exit
