# name: write to read-only kprobe ctx
# class: ctx
# type: kprobe
# expect: CtxAccess
# unsafe:
stdw [%r1+0], 0
mov %r0, 0
exit
# safe:
ldxdw %r2, [%r1+0]
mov %r0, 0
exit
