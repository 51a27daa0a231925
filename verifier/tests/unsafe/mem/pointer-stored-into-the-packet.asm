# name: pointer stored into the packet
# class: ptr-leak
# type: xdp
# expect: PointerLeak
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
stxdw [%r2+0], %r10
mov %r0, 0
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
mov %r5, 0
stxdw [%r2+0], %r5
mov %r0, 0
exit
drop:
mov %r0, 1
exit
