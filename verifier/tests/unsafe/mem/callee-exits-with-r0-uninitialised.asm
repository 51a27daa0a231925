# name: callee exits with r0 uninitialised
# class: calls
# type: mem 8
# expect: UninitRegister
# unsafe:
call local f
exit
f:
exit
# safe:
call local f
exit
f:
mov %r0, 0
exit
