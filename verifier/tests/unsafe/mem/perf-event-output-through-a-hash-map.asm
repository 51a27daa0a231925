# name: perf_event_output through a hash map
# class: helper-arg
# type: kprobe
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
lddw %r2, map_idx 0
mov %r3, 0
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
lddw %r2, map_idx 5
mov %r3, 0
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
mov %r0, 0
exit
