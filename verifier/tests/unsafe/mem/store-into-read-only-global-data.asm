# name: store into read-only global data
# class: map-value
# type: xdp
# expect: ReadOnly
# unsafe:
lddw %r1, map_idx_value 1, 0
stdw [%r1+0], 1
mov %r0, 0
exit
# safe:
lddw %r1, map_idx_value 4, 0
stdw [%r1+0], 1
mov %r0, 0
exit
