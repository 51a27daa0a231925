# name: callee result depends on the calling context
# class: calls
# type: mem 16
# expect: OutOfBounds
# unsafe:
mov %r6, %r1
mov %r1, 1
call local f
mov %r1, 100
call local f
add %r6, %r0
ldxb %r0, [%r6+0]
exit
f:
mov %r0, %r1
exit
# safe:
mov %r6, %r1
mov %r1, 100
call local f
mov %r1, 1
call local f
add %r6, %r0
ldxb %r0, [%r6+0]
exit
f:
mov %r0, %r1
exit
