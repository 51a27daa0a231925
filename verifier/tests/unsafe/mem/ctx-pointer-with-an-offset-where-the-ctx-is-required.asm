# name: ctx pointer with an offset where the ctx is required
# class: helper-arg
# type: socket_filter
# expect: HelperArg
# unsafe:
add %r1, 4
call 17
mov %r0, 0
exit
# safe:
add %r1, 0
call 17
mov %r0, 0
exit
