# name: tc csum_diff(from, 8, NULL, 4)
# class: null-size
# type: sched_cls
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 4
mov %r5, 0
call 28
exit
# safe:
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
exit
