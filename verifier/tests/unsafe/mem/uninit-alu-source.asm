# name: uninit ALU source
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
mov %r0, 0
add %r0, %r7
exit
# safe:
mov %r0, 0
mov %r7, 1
add %r0, %r7
exit
