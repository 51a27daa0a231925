# name: global data address past the value
# class: map-value
# type: xdp
# expect: OutOfBounds
# unsafe:
lddw %r1, map_idx_value 1, 16
mov %r0, 0
exit
# safe:
lddw %r1, map_idx_value 1, 15
mov %r0, 0
exit
