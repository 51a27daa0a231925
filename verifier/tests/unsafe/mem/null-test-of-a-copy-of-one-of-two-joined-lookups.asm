# name: null test of a copy of one of two joined lookups
# class: map-value
# type: xdp
# expect: NullDereference
# unsafe:
ldxw %r9, [%r1+12]
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
jeq %r9, 0, join
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
join:
jeq %r6, 0, out
ldxdw %r5, [%r0+0]
out:
mov %r0, 0
exit
# safe:
ldxw %r9, [%r1+12]
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
jeq %r9, 0, join
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
join:
jeq %r0, 0, out
ldxdw %r5, [%r0+0]
out:
mov %r0, 0
exit
