# name: 32-bit null test of a map value (kprobe)
# class: map-value
# type: kprobe
# expect: PointerComparison
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq32 %r0, 0, null
ja out
null:
mov %r2, %r10
add %r2, %r0
stb [%r2-1], 0
ja +0
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, null
ja out
null:
mov %r2, %r10
add %r2, %r0
stb [%r2-1], 0
ja +0
out:
mov %r0, 0
exit
