# name: uninit store source
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
stxdw [%r1+0], %r7
mov %r0, 0
exit
# safe:
mov %r7, 0
stxdw [%r1+0], %r7
mov %r0, 0
exit
