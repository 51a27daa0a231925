# name: kernel-memory read from a socket filter (helper not allowed for the type)
# class: helper-arg
# type: socket_filter
# expect: HelperNotAllowed
# unsafe:
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit
# safe:
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 7
mov %r0, 0
exit
