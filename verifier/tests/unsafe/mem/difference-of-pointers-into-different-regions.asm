# name: difference of pointers into different regions
# class: ptr-arith
# type: mem 8
# expect: PointerArithmetic
# unsafe:
mov %r2, %r10
sub %r2, %r1
mov %r0, %r2
exit
# safe:
mov %r2, %r1
add %r2, 4
sub %r2, %r1
mov %r0, %r2
exit
