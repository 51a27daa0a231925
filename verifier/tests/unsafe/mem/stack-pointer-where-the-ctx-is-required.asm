# name: stack pointer where the ctx is required
# class: helper-arg
# type: socket_filter
# expect: HelperArg
# unsafe:
mov %r1, %r10
call 17
mov %r0, 0
exit
# safe:
call 17
mov %r0, 0
exit
