# name: map value used without a null check
# class: map-value
# type: xdp
# expect: NullDereference
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
ldxdw %r5, [%r0+0]
jeq %r0, 0, out
ja +0
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxdw %r5, [%r0+0]
out:
mov %r0, 0
exit
