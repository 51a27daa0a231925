# name: packet pointer returned from xdp
# class: exit
# type: xdp
# expect: PointerLeak
# unsafe:
ldxw %r0, [%r1+0]
exit
# safe:
ldxw %r0, [%r1+12]
exit
