# name: write to __sk_buff data
# class: ctx
# type: socket_filter
# expect: CtxAccess
# unsafe:
stw [%r1+76], 0
mov %r0, 0
exit
# safe:
stw [%r1+8], 0
mov %r0, 0
exit
