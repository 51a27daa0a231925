# name: snprintf: format at the end of the constant value, past its NUL
# class: const-str
# type: kprobe
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
lddw %r3, map_idx_value 3, 15
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
lddw %r3, map_idx_value 3, 6
mov %r4, %r10
add %r4, -8
mov %r5, 8

mov %r1, %r10
add %r1, -32
mov %r2, 16
call 165
mov %r0, 0
exit
