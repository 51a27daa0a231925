# name: write to read-only xdp ctx field
# class: ctx
# type: xdp
# expect: CtxAccess
# unsafe:
stw [%r1+12], 0
mov %r0, 2
exit
# safe:
ldxw %r2, [%r1+12]
mov %r0, 2
exit
