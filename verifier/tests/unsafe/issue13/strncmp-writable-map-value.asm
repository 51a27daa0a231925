# name: strncmp: writable map value
# class: const-str
# type: kprobe
# expect: HelperArg
# unsafe:
mov %r9, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +5
mov %r3, %r0
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
mov %r0, 0
exit
# safe:
mov %r9, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +6
lddw %r3, map_idx_value 3, 0
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
mov %r0, 0
exit
