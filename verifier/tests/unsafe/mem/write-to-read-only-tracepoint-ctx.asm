# name: write to read-only tracepoint ctx
# class: ctx
# type: tracepoint
# expect: CtxAccess
# unsafe:
stw [%r1+8], 0
mov %r0, 0
exit
# safe:
ldxw %r2, [%r1+8]
mov %r0, 0
exit
