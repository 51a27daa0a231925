# name: partial spill of a pointer
# class: ptr-leak
# type: xdp
# expect: PointerLeak
# unsafe:
stxw [%r10-8], %r1
mov %r0, 0
exit
# safe:
stxdw [%r10-8], %r1
mov %r0, 0
exit
