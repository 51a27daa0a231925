# name: infinite loop in a callee
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
call local f
exit
f:
mov %r0, 0
mov %r1, 5
loop:
jgt %r1, 1, loop
exit
# safe:
call local f
exit
f:
mov %r0, 0
mov %r1, 5
loop:
sub %r1, 1
jgt %r1, 1, loop
exit
