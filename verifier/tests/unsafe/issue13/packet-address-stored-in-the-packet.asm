# name: packet address stored in the packet
# class: pointer-leak
# type: xdp
# expect: PointerLeak
# unsafe:
ldxw %r6, [%r1+0]
ldxw %r7, [%r1+4]
mov %r2, %r6
add %r2, 8
jgt %r2, %r7, +1
stxdw [%r6+0], %r6
mov %r0, 0
exit
# safe:
ldxw %r6, [%r1+0]
ldxw %r7, [%r1+4]
mov %r2, %r6
add %r2, 8
jgt %r2, %r7, +3
mov %r3, %r7
sub %r3, %r6
stxdw [%r6+0], %r3
mov %r0, 0
exit
