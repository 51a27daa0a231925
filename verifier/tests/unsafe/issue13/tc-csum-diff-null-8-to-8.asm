# name: tc csum_diff(NULL, 8, to, 8)
# class: null-size
# type: sched_cls
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, 0
mov %r2, 8
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 28
exit
# safe:
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 28
exit
