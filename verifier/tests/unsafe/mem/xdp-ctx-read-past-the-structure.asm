# name: xdp ctx read past the structure
# class: ctx
# type: xdp
# expect: OutOfBounds
# unsafe:
ldxw %r0, [%r1+24]
exit
# safe:
ldxw %r0, [%r1+20]
exit
