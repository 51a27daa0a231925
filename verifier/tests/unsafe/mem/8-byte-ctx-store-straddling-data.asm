# name: 8-byte ctx store straddling data
# class: ctx
# type: socket_filter
# expect: CtxAccess
# unsafe:
stdw [%r1+72], 0
mov %r0, 0
exit
# safe:
stw [%r1+72], 0
mov %r0, 0
exit
