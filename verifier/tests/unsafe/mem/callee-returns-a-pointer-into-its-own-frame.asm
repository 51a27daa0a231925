# name: callee returns a pointer into its own frame
# class: calls
# type: mem 8
# expect: UninitRegister
# unsafe:
call local f
ldxdw %r0, [%r0+0]
exit
f:
stdw [%r10-8], 1
mov %r0, %r10
add %r0, -8
exit
# safe:
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r0, [%r0+0]
exit
f:
stdw [%r1+0], 1
mov %r0, %r1
exit
