# name: strncmp: string on the stack
# class: const-str
# type: kprobe
# expect: HelperArg
# unsafe:
mov %r9, %r1
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r3, %r10
add %r3, -8
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
mov %r0, 0
exit
# safe:
mov %r9, %r1
stdw [%r10-16], 0
lddw %r3, map_idx_value 3, 7
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
mov %r0, 0
exit
