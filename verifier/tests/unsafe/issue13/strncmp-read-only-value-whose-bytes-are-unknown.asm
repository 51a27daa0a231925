# name: strncmp: read-only value whose bytes are unknown
# class: const-str
# type: kprobe
# expect: HelperArg
# unsafe:
mov %r9, %r1
stdw [%r10-16], 0
lddw %r3, map_idx_value 1, 0
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
mov %r0, 0
exit
# safe:
mov %r9, %r1
stdw [%r10-16], 0
lddw %r3, map_idx_value 3, 2
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
mov %r0, 0
exit
