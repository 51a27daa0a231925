# name: legacy packet load in xdp
# class: ctx
# type: xdp
# expect: Unsupported
# unsafe:
mov %r6, %r1
ldabsb 0
exit
# safe:
mov %r6, %r1
ldxw %r0, [%r6+12]
exit
