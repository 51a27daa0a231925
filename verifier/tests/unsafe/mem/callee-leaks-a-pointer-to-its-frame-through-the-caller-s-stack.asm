# name: callee leaks a pointer to its frame through the caller's stack
# class: calls
# type: mem 8
# expect: UninitStack
# unsafe:
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
ldxb %r0, [%r2+0]
exit
f:
stdw [%r10-8], 7
mov %r3, %r10
add %r3, -8
stxdw [%r1+0], %r3
mov %r0, 0
exit
# safe:
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
ldxb %r0, [%r2+0]
exit
f:
stdw [%r10-8], 7
mov %r3, %r1
add %r3, 0
stxdw [%r1+0], %r3
mov %r0, 0
exit
