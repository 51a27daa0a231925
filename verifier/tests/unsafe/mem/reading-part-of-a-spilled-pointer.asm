# name: reading part of a spilled pointer
# class: ptr-leak
# type: xdp
# expect: PointerLeak
# unsafe:
stxdw [%r10-8], %r1
ldxw %r0, [%r10-8]
exit
# safe:
stxdw [%r10-8], %r1
ldxdw %r2, [%r10-8]
mov %r0, 2
exit
