# name: stack address spilled, the slot handed to bpf_ringbuf_output
# class: pointer-leak
# type: xdp
# expect: HelperArg
# unsafe:
stxdw [%r10-8], %r10
lddw %r1, map_idx 2
mov %r2, %r10
add %r2, -8
mov %r3, 8
mov %r4, 0
call 130
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
lddw %r1, map_idx 2
mov %r2, %r10
add %r2, -8
mov %r3, 8
mov %r4, 0
call 130
mov %r0, 0
exit
