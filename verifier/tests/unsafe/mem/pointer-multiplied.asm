# name: pointer multiplied
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
mul %r1, 2
mov %r0, 0
exit
# safe:
add %r1, 2
mov %r0, 0
exit
