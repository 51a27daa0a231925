# name: write to __sk_buff data_end
# class: ctx
# type: socket_filter
# expect: CtxAccess
# unsafe:
stw [%r1+80], 0
mov %r0, 0
exit
# safe:
stw [%r1+84], 0
mov %r0, 0
exit
