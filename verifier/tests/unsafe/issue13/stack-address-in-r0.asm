# name: stack address in r0
# class: pointer-leak
# type: xdp
# expect: PointerLeak
# unsafe:
mov %r0, %r10
exit
# safe:
mov %r0, %r10
sub %r0, %r10
exit
