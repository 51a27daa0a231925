# name: division by a pointer
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
mov %r0, 10
div %r0, %r1
exit
# safe:
mov %r0, 10
div %r0, %r2
exit
