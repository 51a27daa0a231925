# name: dereference of a map handle
# class: types
# type: xdp
# expect: InvalidType
# unsafe:
lddw %r2, map_idx 4
ldxb %r0, [%r2+0]
exit
# safe:
lddw %r2, map_idx_value 4, 0
ldxb %r0, [%r2+0]
exit
