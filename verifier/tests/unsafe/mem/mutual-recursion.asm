# name: mutual recursion
# class: calls
# type: mem 8
# expect: Recursion
# unsafe:
call local f
exit
f:
call local g
exit
g:
mov %r0, 0
call local f
exit
# safe:
call local f
exit
f:
call local g
exit
g:
mov %r0, 0
exit
