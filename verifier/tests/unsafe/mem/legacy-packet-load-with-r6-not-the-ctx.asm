# name: legacy packet load with r6 not the ctx
# class: ctx
# type: socket_filter
# expect: InvalidType
# unsafe:
mov %r6, %r10
ldabsb 0
exit
# safe:
mov %r6, %r1
ldabsb 0
exit
