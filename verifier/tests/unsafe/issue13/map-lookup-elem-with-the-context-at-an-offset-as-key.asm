# name: map_lookup_elem with the context (at an offset) as key
# class: ctx-as-mem
# type: xdp
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r6
add %r2, 4
call 1
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit
