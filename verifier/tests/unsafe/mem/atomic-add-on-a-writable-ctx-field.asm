# name: atomic add on a writable ctx field
# class: atomic
# type: socket_filter
# expect: CtxAccess
# unsafe:
mov %r2, 1
lock add32 [%r1+8], %r2
mov %r0, 0
exit
# safe:
mov %r2, 1
stw [%r1+8], 1
mov %r0, 0
exit
