# name: unknown helper id
# class: helper-arg
# type: xdp
# expect: UnknownHelper
# unsafe:
call 9999
mov %r0, 0
exit
# safe:
call 5
mov %r0, 0
exit
