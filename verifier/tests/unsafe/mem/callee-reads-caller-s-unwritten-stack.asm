# name: callee reads caller's unwritten stack
# class: uninit-stack
# type: mem 8
# expect: UninitStack
# unsafe:
mov %r1, %r10
add %r1, -8
call local f
exit
f:
ldxdw %r0, [%r1+0]
exit
# safe:
stdw [%r10-8], 3
mov %r1, %r10
add %r1, -8
call local f
exit
f:
ldxdw %r0, [%r1+0]
exit
