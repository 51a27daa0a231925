# name: modulo by a pointer
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
mov %r0, 10
mod %r0, %r10
exit
# safe:
mov %r0, 10
mod %r0, %r2
exit
