# name: pointer shifted
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
lsh %r1, 1
mov %r0, 0
exit
# safe:
mov %r2, 1
lsh %r2, 1
mov %r0, 0
exit
