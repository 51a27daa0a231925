# name: ctx access at a variable offset
# class: ctx
# type: socket_filter
# expect: CtxAccess
# unsafe:
ldxw %r2, [%r1+0]
and %r2, 4
add %r1, %r2
ldxw %r0, [%r1+0]
exit
# safe:
ldxw %r2, [%r1+0]
and %r2, 4
add %r1, 4
ldxw %r0, [%r1+0]
exit
