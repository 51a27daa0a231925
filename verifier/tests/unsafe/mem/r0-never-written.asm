# name: r0 never written
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
exit
# safe:
mov %r0, 0
exit
