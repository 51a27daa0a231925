# name: map_update_elem with the context as key
# class: ctx-as-mem
# type: xdp
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r6
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
mov %r0, 0
exit
