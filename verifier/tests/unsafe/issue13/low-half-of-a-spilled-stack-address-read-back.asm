# name: low half of a spilled stack address read back
# class: pointer-leak
# type: xdp
# expect: PointerLeak
# unsafe:
stxdw [%r10-8], %r10
ldxw %r0, [%r10-8]
exit
# safe:
stxdw [%r10-8], %r10
ldxdw %r0, [%r10-8]
mov %r0, 0
exit
