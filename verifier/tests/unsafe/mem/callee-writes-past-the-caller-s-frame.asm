# name: callee writes past the caller's frame
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
mov %r1, %r10
add %r1, -8
call local f
exit
f:
stb [%r1+8], 0
mov %r0, 0
exit
# safe:
mov %r1, %r10
add %r1, -8
call local f
exit
f:
stb [%r1+7], 0
mov %r0, 0
exit
