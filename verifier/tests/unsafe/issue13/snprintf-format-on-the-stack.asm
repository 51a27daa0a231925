# name: snprintf: format on the stack
# class: const-str
# type: kprobe
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
stdw [%r10-40], 0
mov %r3, %r10
add %r3, -40
mov %r4, %r10
add %r4, -8
mov %r5, 8

mov %r1, %r10
add %r1, -32
mov %r2, 16
call 165
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
lddw %r3, map_idx_value 3, 0
mov %r4, %r10
add %r4, -8
mov %r5, 8

mov %r1, %r10
add %r1, -32
mov %r2, 16
call 165
mov %r0, 0
exit
