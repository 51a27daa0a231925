# name: uninit base pointer
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
ldxb %r0, [%r6+0]
exit
# safe:
mov %r6, %r1
ldxb %r0, [%r6+0]
exit
