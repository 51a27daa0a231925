# name: perf_event_output of the context as data
# class: ctx-as-mem
# type: xdp
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r6
lddw %r2, map_idx 6
mov %r3, 0
mov %r4, %r6
mov %r5, 16
call 25
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r6
lddw %r2, map_idx 6
mov %r3, 0
mov %r4, %r10
add %r4, -16
mov %r5, 8
call 25
mov %r0, 0
exit
