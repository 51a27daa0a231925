# name: pointer negated
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
neg %r1
mov %r0, 0
exit
# safe:
mov %r2, %r1
sub %r2, %r1
neg %r2
mov %r0, 0
exit
