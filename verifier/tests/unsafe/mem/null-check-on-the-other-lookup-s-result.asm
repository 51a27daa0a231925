# name: null check on the other lookup's result
# class: map-value
# type: xdp
# expect: NullDereference
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxdw %r5, [%r6+0]
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r6, 0, out
ldxdw %r5, [%r6+0]
out:
mov %r0, 0
exit
