# name: uninit comparison operand
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
mov %r0, 0
jeq %r3, 0, +1
mov %r0, 1
exit
# safe:
mov %r0, 0
mov %r3, 0
jeq %r3, 0, +1
mov %r0, 1
exit
