# name: pointer plus pointer
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
mov %r2, %r10
add %r2, %r1
mov %r0, 0
exit
# safe:
mov %r2, %r10
add %r2, -8
mov %r0, 0
exit
