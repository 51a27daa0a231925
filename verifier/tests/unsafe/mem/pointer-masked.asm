# name: pointer masked
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
and %r1, -8
ldxb %r0, [%r1+0]
exit
# safe:
add %r1, 0
ldxb %r0, [%r1+0]
exit
