# name: map value as a too large helper buffer
# class: map-value
# type: kprobe
# expect: HelperArg
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r1, %r0
mov %r2, 9
mov %r3, 0
call 4
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
mov %r1, %r0
mov %r2, 8
mov %r3, 0
call 4
out:
mov %r0, 0
exit
