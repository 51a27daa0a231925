# name: ctx pointer returned from a socket filter
# class: ptr-leak
# type: socket_filter
# expect: PointerLeak
# unsafe:
mov %r0, %r1
exit
# safe:
ldxw %r0, [%r1+0]
exit
