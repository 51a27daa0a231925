# name: invalid map index
# class: map-value
# type: xdp
# expect: InvalidMap
# unsafe:
lddw %r1, map_idx 6
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 5
mov %r0, 0
exit
