# name: xdp data read with the wrong width
# class: ctx
# type: xdp
# expect: CtxAccess
# unsafe:
ldxh %r2, [%r1+0]
mov %r0, 2
exit
# safe:
ldxw %r2, [%r1+0]
mov %r0, 2
exit
