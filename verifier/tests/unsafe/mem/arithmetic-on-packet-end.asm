# name: arithmetic on packet_end
# class: ptr-arith
# type: xdp
# expect: PointerArithmetic
# unsafe:
ldxw %r3, [%r1+4]
add %r3, -1
mov %r0, 0
exit
# safe:
ldxw %r3, [%r1+0]
add %r3, -1
mov %r0, 0
exit
