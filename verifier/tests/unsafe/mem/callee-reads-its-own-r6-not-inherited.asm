# name: callee reads its own r6 (not inherited)
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
mov %r6, 1
call local f
exit
f:
mov %r0, %r6
add %r0, 1
exit
# safe:
mov %r1, 1
call local f
exit
f:
mov %r0, %r1
add %r0, 1
exit
