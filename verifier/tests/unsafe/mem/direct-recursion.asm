# name: direct recursion
# class: calls
# type: mem 8
# expect: Recursion
# unsafe:
call local f
exit
f:
mov %r0, 0
call local f
exit
# safe:
call local f
exit
f:
mov %r0, 0
exit
