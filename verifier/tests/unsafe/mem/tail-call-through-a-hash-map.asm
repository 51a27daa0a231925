# name: tail call through a hash map
# class: helper-arg
# type: xdp
# expect: HelperArg
# unsafe:
lddw %r2, map_idx 0
mov %r3, 0
call 12
mov %r0, 0
exit
# safe:
lddw %r2, map_idx 3
mov %r3, 0
call 12
mov %r0, 0
exit
