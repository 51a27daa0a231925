# name: pointer byte-swapped
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
be16 %r1
mov %r0, 0
exit
# safe:
mov %r2, 1
be16 %r2
mov %r0, 0
exit
