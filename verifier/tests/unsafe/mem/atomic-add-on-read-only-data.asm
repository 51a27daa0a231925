# name: atomic add on read-only data
# class: atomic
# type: xdp
# expect: ReadOnly
# unsafe:
lddw %r1, map_idx_value 1, 0
mov %r2, 1
lock add [%r1+0], %r2
mov %r0, 0
exit
# safe:
lddw %r1, map_idx_value 4, 0
mov %r2, 1
lock add [%r1+0], %r2
mov %r0, 0
exit
