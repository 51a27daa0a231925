# name: ctx read overlapping data
# class: ctx
# type: socket_filter
# expect: CtxAccess
# unsafe:
ldxw %r2, [%r1+74]
mov %r0, 0
exit
# safe:
ldxh %r2, [%r1+74]
mov %r0, 0
exit
