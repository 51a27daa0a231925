# name: 32-bit ALU on a pointer
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
add32 %r1, 2
ldxb %r0, [%r1+0]
exit
# safe:
add %r1, 2
ldxb %r0, [%r1+0]
exit
