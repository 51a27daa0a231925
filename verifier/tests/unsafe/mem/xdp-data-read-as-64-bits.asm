# name: xdp data read as 64 bits
# class: ctx
# type: xdp
# expect: CtxAccess
# unsafe:
ldxdw %r2, [%r1+0]
mov %r0, 2
exit
# safe:
ldxw %r2, [%r1+0]
mov %r0, 2
exit
