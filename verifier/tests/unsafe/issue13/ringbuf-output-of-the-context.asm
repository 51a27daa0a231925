# name: ringbuf_output of the context
# class: ctx-as-mem
# type: xdp
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 2
mov %r2, %r6
mov %r3, 8
mov %r4, 0
call 130
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 2
mov %r2, %r10
add %r2, -16
mov %r3, 8
mov %r4, 0
call 130
mov %r0, 0
exit
