# name: spilled map value maybe zeroed by a variable-offset store
# class: map-value
# type: kprobe
# expect: NullDereference
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
stxdw [%r10-16], %r0
ldxb %r2, [%r0+0]
and %r2, 8
mov %r3, %r10
add %r3, -16
add %r3, %r2
stdw [%r3+0], 0
ldxdw %r4, [%r10-16]
ldxb %r5, [%r4+0]
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
stxdw [%r10-16], %r0
ldxb %r2, [%r0+0]
and %r2, 8
mov %r3, %r10
add %r3, -16
add %r3, %r2
stdw [%r3+0], 0
ldxdw %r4, [%r10-16]
jeq %r4, 0, out
ldxb %r5, [%r4+0]
out:
mov %r0, 0
exit
